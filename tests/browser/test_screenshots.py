"""The README's pictures, taken from the product as a user sees it: the ML App sidebar, the flagship
app's pages (data, a training watched live, the trained model, a phone in the dark), JupyterLab
inside an app, and the gallery.

Each scene is a test like any other (it fails when the thing it shows does not work). With
``MLAPP_SCREENSHOTS=1`` the pictures are written to ``docs/screenshots/`` (commit them to update
the README); otherwise to ``test-results/``, so a plain test run leaves the tree clean.
"""

from __future__ import annotations

import os
import re
import sys
from urllib.parse import quote

import pytest
from harness import REPO, RESULTS, MLAppServer, make_root
from playwright.sync_api import expect

from jupyter_mlapp.apps.published import PublishedApps, Who
from jupyter_mlapp.auth.store import UserStore

pytestmark = pytest.mark.browser

FOLDER = REPO / "docs" / "screenshots" if os.environ.get("MLAPP_SCREENSHOTS") == "1" else RESULTS
USER, PASSWORD = "eddie", "eddie-editor-pw-1"
APP = "/voila/render/notebooks/ml_app.ipynb"
LOAD = 120_000  # a Voila page executes its notebook before it shows
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
GALLERY = [
    ("notebooks/ml_app.ipynb", "ML App", "Explore a data set, train a model, watch it learn, serve it"),
    ("notebooks/training_monitor.ipynb", "Training monitor", "Live curves of a training job"),
    ("notebooks/data_viewer.ipynb", "Data viewer", "757 data sets, your CSV and Parquet files, in a fast grid"),
]
TICKER = (  # a Keras-style log: the sidebar shows its progress and a sparkline of its loss
    "import math, time\nfor i in range(1, 301):\n"
    "    print(f'Epoch {i}/300 - loss: {0.9 * math.exp(-i / 40) + 0.05:.4f}', flush=True)\n    time.sleep(0.3)\n"
)


@pytest.fixture(scope="module", autouse=True)
def patient_expectations():
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("shots-home")
    UserStore(home).add(USER, PASSWORD, "editor")
    root = make_root(tmp_path_factory.mktemp("shots-root"))
    publisher = PublishedApps(root, home)
    for path, title, description in GALLERY:
        publisher.publish(path, by=Who(USER, "editor"), title=title, description=description)
    # No "Would you like to get notified about Jupyter news?" toast over the pictures.
    settings = home.parent / f"{home.name}-jupyter" / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    server = MLAppServer(home, root).start()
    yield server
    server.stop()


def shoot(page, name: str) -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(FOLDER / f"{name}.png"))


def sign_in(page, server, next_url: str) -> None:
    page.goto(f"{server.url}/login?next={quote(next_url)}")
    page.locator("#username").fill(USER)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")


def open_app(page, server, query: str = "") -> None:
    sign_in(page, server, APP + query)
    expect(page.locator(".mlapp-page-title").first).to_be_visible(timeout=LOAD)


def go(page, title: str) -> None:
    page.locator(".mlapp-app-nav").get_by_role("button", name=title, exact=True).click()
    expect(page.locator(".mlapp-page-title").last).to_have_text(title)


def test_the_ml_app_sidebar_in_jupyterlab(server, browser):
    (server.root / "train_demo.py").write_text(TICKER)
    started = server.api("POST", "jobs", json={"name": "train demo", "command": [sys.executable, "train_demo.py"]})
    assert started.status_code == 201, started.text
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/lab?reset&token={server.token}")
        tab = page.locator(".jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']")
        expect(tab).to_be_visible(timeout=LOAD)
        tab.click()
        job = page.locator("#jupyter-mlapp-panel .jp-MLApp-job").first
        expect(job).to_have_attribute("data-state", "running", timeout=30_000)
        job.locator(".jp-MLApp-itemMain").click()  # its log opens in the main area
        expect(page.locator(".jp-MLApp-logText")).to_contain_text("Epoch 20/300", timeout=30_000)
        shoot(page, "sidebar")
    finally:
        server.api("POST", f"jobs/{started.json()['id']}/kill")
        context.close()


def test_the_flagship_app_pages_and_a_training_watched_live(server, browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        open_app(page, server)
        search = page.locator(".mlapp-app-content input[placeholder^='Search by name']")
        search.fill("iris")
        search.press("Enter")
        expect(page.locator(".mlapp-app-content")).to_contain_text("150 rows", timeout=60_000)
        page.wait_for_timeout(2000)  # the grid and the chart draw on canvases, which say nothing when done
        shoot(page, "app-data")

        go(page, "Train")
        page.get_by_role("textbox", name="Save as").fill("iris-sgd")
        shoot(page, "app-train")
        page.get_by_role("button", name="Start training").click()
        expect(page.locator(".mlapp-nav-current")).to_have_text("Monitor", timeout=30_000)
        monitor = page.locator(".mlapp-training-monitor")
        expect(monitor.locator(".mlapp-training-charts svg").first).to_be_visible(timeout=60_000)
        expect(monitor).to_contain_text(re.compile(r"epoch=\d+ loss="), timeout=60_000)
        shoot(page, "app-monitor")
        expect(monitor).to_contain_text("succeeded", timeout=120_000)

        go(page, "Models")
        expect(page.locator(".mlapp-app-content")).to_contain_text("iris-sgd")
        shoot(page, "app-models")
    finally:
        context.close()


def test_the_app_on_a_phone_in_the_dark(server, browser):
    context = browser.new_context(**PHONE, color_scheme="dark")
    page = context.new_page()
    try:
        open_app(page, server, "?page=Train")
        expect(page.locator(".mlapp-app")).to_have_css("background-color", "rgb(15, 23, 42)")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shoot(page, "app-phone-dark")
        page.locator(".mlapp-menu-button").click()
        expect(page.locator(".mlapp-app-nav")).to_be_visible()
        shoot(page, "app-phone-menu")
    finally:
        context.close()


def test_jupyterlab_inside_an_app(server, browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, server, "/voila/render/notebooks/ml_app.ipynb?page=Jupyter")
        editor = page.frame_locator("iframe.mlapp-jupyter-frame").locator(".jp-Notebook .jp-Cell").first
        expect(editor).to_contain_text("The flagship ML app", timeout=LOAD)
        shoot(page, "app-jupyter")
    finally:
        context.close()


def test_the_gallery(server, browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, server, "/mlapp/apps")
        expect(page).to_have_url(re.compile(r"/mlapp/apps$"))
        for _, title, _ in GALLERY:
            expect(page.locator("body")).to_contain_text(title)
        shoot(page, "gallery")
    finally:
        context.close()
