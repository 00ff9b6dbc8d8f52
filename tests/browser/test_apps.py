"""The flagship ML app in Voila, as a signed-in editor uses it: every page, a training job watched
live and through a reload, folders in the file explorer, snapshots, links to Lab and static files."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import pytest
import requests
from conftest import screenshot
from harness import MLAppServer, make_root
from playwright.sync_api import expect

from jupyter_mlapp.auth.store import UserStore

pytestmark = pytest.mark.browser

APP = "/voila/render/notebooks/ml_app.ipynb"
USER, PASSWORD = "eddie", "eddie-editor-pw-1"
PAGES = ["Data", "Train", "Monitor", "Jobs", "Models", "Files"]
LOAD = 120_000  # a Voila page executes the whole notebook before it shows: generous under load


@pytest.fixture(scope="module", autouse=True)
def patient_expectations():
    """Every step here is a round trip through a kernel: allow for a loaded machine."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the other modules


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server with one editor account (the accounts make the login page the way in)."""
    home = tmp_path_factory.mktemp("apps-home")
    UserStore(home).add(USER, PASSWORD, "editor")
    server = MLAppServer(home, make_root(tmp_path_factory.mktemp("apps-root"))).start()
    yield server
    server.stop()


def open_app(page, server, query: str = ""):
    """Sign in through the login page, which sends the browser on to the app."""
    page.goto(f"{server.url}/login?next={quote(APP + query)}")
    page.locator("#username").fill(USER)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    wait_ready(page)


def wait_ready(page):
    expect(page.locator(".mlapp-nav-current")).to_be_visible(timeout=LOAD)


def go(page, title: str):
    page.locator(".mlapp-app-nav").get_by_role("button", name=title, exact=True).click()
    expect(page.locator(".mlapp-nav-current")).to_have_text(title)
    expect(page.locator(".mlapp-page-title").last).to_have_text(title)
    expect(page).to_have_url(re.compile(rf"[?&]page={title}(&|$)"))


def test_every_page_shows_cleanly_and_links_go_through_the_server(server, page):
    open_app(page, server)
    header = page.locator(".mlapp-app-header")
    expect(header).to_contain_text("ML App")
    expect(header.locator(".mlapp-app-user")).to_contain_text(USER)
    lab = header.locator("a.mlapp-lab-link")
    expect(lab).to_have_attribute("href", "/lab/tree/notebooks/ml_app.ipynb")
    expect(lab).to_have_attribute("target", "_blank")
    expect(header.locator("a.mlapp-logout")).to_have_attribute("href", "/logout")
    for title in PAGES:
        go(page, title)
        content = page.locator(".mlapp-app-content")
        expect(content).not_to_contain_text("Traceback")
        expect(content.locator(".mlapp-page-error")).to_have_count(0)
        # Nothing wider than the page: tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"apps-page-{title.lower()}")

    # The licence, a static file of the workspace, opens in a new tab behind the same login.
    with page.context.expect_page() as new_tab:
        header.get_by_role("link", name="Licence").click()
    licence = new_tab.value
    expect(licence.locator("h1")).to_have_text("BSD 3-Clause License")
    assert "/files/notebooks/LICENSE.html" in licence.url
    licence.close()


def test_deep_links_open_their_page(server, page):
    open_app(page, server, "?page=Files")
    expect(page.locator(".mlapp-nav-current")).to_have_text("Files")
    page.goto(f"{server.url}{APP}?page=Nowhere")
    wait_ready(page)
    expect(page.locator(".mlapp-app-notice")).to_contain_text("There is no page 'Nowhere'")


def test_training_job_is_watched_live_and_survives_a_reload(server, page):
    open_app(page, server, "?page=Train")
    save_as = f"iris-{uuid.uuid4().hex[:6]}"
    page.get_by_role("textbox", name="Save as").fill(save_as)
    page.get_by_role("button", name="Start training").click()
    # Starting sends the user to Monitor, where the curves grow as the job prints its epochs.
    expect(page.locator(".mlapp-nav-current")).to_have_text("Monitor", timeout=30_000)
    monitor = page.locator(".mlapp-training-monitor")
    expect(monitor).to_contain_text("val_accuracy", timeout=60_000)
    expect(monitor.locator(".mlapp-training-charts svg").first).to_be_visible()
    screenshot(page, "apps-monitor-live")

    page.reload()
    wait_ready(page)
    expect(page.locator(".mlapp-nav-current")).to_have_text("Monitor")
    monitor = page.locator(".mlapp-training-monitor")
    expect(monitor).to_contain_text(re.compile(r"epoch=\d+ loss="), timeout=30_000)  # the history is back
    expect(monitor).to_contain_text("succeeded", timeout=90_000)
    expect(monitor).to_contain_text(f"saved model '{save_as}'")
    screenshot(page, "apps-monitor-after-reload")

    go(page, "Jobs")
    expect(page.locator(".mlapp-jobs-row", has_text="train iris").first).to_contain_text("succeeded")
    go(page, "Models")  # the trained model is in the registry, ready to serve
    expect(page.locator(".mlapp-app-content")).to_contain_text(save_as)
    screenshot(page, "apps-models-trained")


def upload(page, explorer, name: str, data: bytes) -> None:
    """Pick a file in the browser's file chooser, as a user does."""
    with page.expect_file_chooser() as chooser:
        explorer.get_by_role("button", name="Upload").click()
    chooser.value.set_files(files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])


def test_files_create_and_delete_a_folder(server, page):
    open_app(page, server, "?page=Files")
    explorer = page.locator(".mlapp-files")
    name = f"runs-{uuid.uuid4().hex[:6]}"
    explorer.get_by_role("button", name="New folder").click()
    explorer.locator(".mlapp-files-prompt input").fill(name)
    explorer.get_by_role("button", name="Create").click()
    expect(explorer.locator(".mlapp-files-message")).to_have_text(f"Created the folder {name}")
    row = explorer.locator(".mlapp-file-row", has_text=name)
    expect(row).to_have_class(re.compile("mlapp-selected"))
    assert (server.root / name).is_dir()
    screenshot(page, "apps-files-created")

    # Upload from this machine's disk into the selected folder, through the kernel.
    upload(page, explorer, "notes.txt", b"hello from the browser")
    expect(explorer.locator(".mlapp-files-message")).to_have_text(f"Uploaded notes.txt to {name}")
    assert (server.root / name / "notes.txt").read_bytes() == b"hello from the browser"
    explorer.locator(".mlapp-file-row", has_text="notes.txt").locator(".mlapp-file-name").click()
    details = explorer.locator(".mlapp-files-details")
    expect(details).to_contain_text("22 B")
    expect(details.get_by_role("link", name="Download")).to_have_attribute(
        "href", f"/files/{name}/notes.txt?download=1"
    )
    row.locator(".mlapp-file-name").click()

    explorer.get_by_role("button", name="Delete").click()
    expect(explorer.locator(".mlapp-files-prompt")).to_contain_text(
        f"Delete the folder {name} and everything in it (1 entry)?"
    )
    explorer.locator(".mlapp-files-prompt").get_by_role("button", name="Delete").click()
    expect(explorer.locator(".mlapp-files-message")).to_have_text(f"Deleted {name}")
    expect(row).to_have_count(0)
    assert not (server.root / name).exists()


def test_save_and_load_a_snapshot(server, page):
    open_app(page, server, "?page=Train")
    save_as = page.get_by_role("textbox", name="Save as")
    save_as.fill("before")
    save_as.press("Tab")
    page.get_by_role("button", name="Snapshots").click()
    bar = page.locator(".mlapp-session-bar")
    snapshot = f"snap-{uuid.uuid4().hex[:6]}"
    bar.locator(".mlapp-snapshot-name-input input").fill(snapshot)
    bar.get_by_role("button", name="Save snapshot").click()
    expect(bar.locator(".mlapp-session-message")).to_contain_text(f"Saved snapshot '{snapshot}'")

    save_as.fill("after")
    save_as.press("Tab")
    go(page, "Files")
    bar.locator(f"button[title=\"Load snapshot '{snapshot}'\"]").click()
    expect(bar.locator(".mlapp-session-message")).to_contain_text(f"Loaded snapshot '{snapshot}'")
    # The snapshot brings back its page and its values.
    expect(page.locator(".mlapp-nav-current")).to_have_text("Train")
    expect(page.get_by_role("textbox", name="Save as")).to_have_value("before")
    screenshot(page, "apps-snapshot-loaded")


def test_open_in_jupyterlab_keeps_the_editor_an_editor(server):
    browser = requests.Session()
    browser.get(f"{server.url}/login", timeout=30)
    signed_in = browser.post(
        f"{server.url}/login?next=/voila",
        allow_redirects=False,
        timeout=30,
        data={"username": USER, "password": PASSWORD, "_xsrf": browser.cookies.get("_xsrf")},
    )
    assert signed_in.status_code == 302
    lab = browser.get(f"{server.url}/lab/tree/notebooks/ml_app.ipynb", timeout=60)  # the app's link
    assert lab.status_code == 200
    assert server.token not in lab.text  # else the Lab front end acts as the server owner
    app = browser.get(f"{server.url}/voila/render/notebooks/hello.ipynb", timeout=60)
    assert app.status_code == 200
    assert server.token not in app.text
