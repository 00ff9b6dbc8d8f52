"""Published apps with a real browser: an editor publishes a notebook from JupyterLab for one
viewer; that viewer signs in, lands on the gallery, sees it and opens it; another viewer does not
see it and gets the refusal at its URL; unpublishing removes it from the gallery at the next load."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from argon2 import PasswordHasher
from harness import MLAppServer, make_root, screenshot
from playwright.sync_api import expect

from jupyter_mlapp.auth.store import UserStore

HASHER = PasswordHasher(time_cost=1, memory_cost=8192)
USERS = {"ed": "editor", "vera": "viewer", "val": "viewer"}
THEME_BACKGROUND = {"light": "rgb(238, 238, 238)", "dark": "rgb(66, 66, 66)"}
LOAD = 120_000  # Voila runs the notebook before the page shows: generous under load


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("gallery-home")
    root = make_root(tmp_path_factory.mktemp("gallery-root"))
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("from IPython.display import HTML\nHTML('<p class=\"churn\">Churn: 7%</p>')")]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / "reports").mkdir()
    (root / "reports" / "churn.ipynb").write_text(json.dumps(nb))
    store = UserStore(home, hasher=HASHER)
    for name, role in USERS.items():
        store.add(name, f"{name} password 1", role)
    server = MLAppServer(
        home,
        root,
        args=[
            f"--MLAppIdentityProvider.hash_time_cost={HASHER.time_cost}",
            f"--MLAppIdentityProvider.hash_memory_kib={HASHER.memory_cost}",
        ],
    ).start()
    yield server
    server.stop()


def sign_in(page, server, name, path="/"):
    page.goto(f"{server.url}{path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(f"{name} password 1")
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def context_for(browser):
    contexts = []

    def make(**kwargs):
        context = browser.new_context(viewport={"width": 1400, "height": 900}, **kwargs)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for context in contexts:
        context.close()


def test_publish_for_one_viewer_open_refuse_unpublish(server, page, context_for):
    # The editor publishes from the notebook's toolbar in JupyterLab, for vera only.
    sign_in(page, server, "ed", "/lab/tree/reports/churn.ipynb")
    publish = page.locator(".jp-NotebookPanel-toolbar [data-jp-item-name='mlappPublishAsApp']")
    expect(publish).to_be_visible(timeout=LOAD)
    expect(page.locator(".jp-NotebookPanel-toolbar [data-jp-item-name='mlappOpenAsApp']")).to_be_visible()
    publish.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Publish as app")
    dialog.locator("input[name='title']").fill("Churn report")
    dialog.locator("textarea[name='description']").fill("Who leaves, and why")
    dialog.locator("input[name='users']").fill("nobody-here")
    dialog.get_by_role("button", name="Publish", exact=True).click()
    # The server refuses an unknown user; the dialog opens again with what was typed.
    expect(page.locator(".jp-toast-message").filter(has_text="unknown user")).to_be_visible()
    expect(dialog.locator("input[name='title']")).to_have_value("Churn report")
    dialog.locator("input[name='users']").fill("vera")
    screenshot(page, "gallery-publish-dialog")
    dialog.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".jp-toast-message").filter(has_text="Published Churn report")).to_be_visible()
    # The ML App sidebar lists it with its audience.
    page.locator(".jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']").click()
    app_item = page.locator("#jupyter-mlapp-panel [data-section='apps'] [data-app='churn-report']")
    expect(app_item).to_contain_text("Churn report", timeout=30_000)
    expect(app_item).to_contain_text("for users vera")
    screenshot(page, "gallery-sidebar-apps")

    # vera signs in at the server's root and lands on the gallery, where the app is; she opens it.
    vera = context_for()
    sign_in(vera, server, "vera")
    expect(vera).to_have_url(f"{server.url}/mlapp/apps")
    card = vera.locator(".card[data-slug='churn-report']")
    expect(card).to_contain_text("Churn report")
    expect(card).to_contain_text("Who leaves, and why")
    expect(card).to_contain_text("Updated")
    expect(vera.locator(".card[data-slug='ml-app']")).to_be_visible()  # the shipped apps, for everyone
    vera.get_by_label("Search the apps").fill("churn")
    vera.get_by_role("button", name="Search").click()
    expect(vera.locator(".card")).to_have_count(1)
    screenshot(vera, "gallery-viewer")
    card.locator("a").click()
    expect(vera).to_have_url(f"{server.url}/voila/render/reports/churn.ipynb")
    expect(vera.locator(".churn")).to_have_text("Churn: 7%", timeout=LOAD)

    # val does not see it, and its URL and short link are a refusal that names nothing.
    val = context_for()
    sign_in(val, server, "val", "/mlapp/apps")
    expect(val.locator(".card[data-slug='ml-app']")).to_be_visible()
    expect(val.locator(".card[data-slug='churn-report']")).to_have_count(0)
    for path in ("/voila/render/reports/churn.ipynb", "/mlapp/apps/churn-report"):
        refused = val.goto(f"{server.url}{path}")
        assert refused.status == 404
        expect(val.locator("body")).not_to_contain_text("Churn: 7%")

    # The editor unpublishes from the sidebar; vera's next load of the gallery no longer shows it.
    app_item.get_by_role("button", name="Unpublish Churn report").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Unpublish").click()
    expect(app_item).to_have_count(0, timeout=30_000)
    vera.goto(f"{server.url}/mlapp/apps")
    expect(vera.locator(".card[data-slug='ml-app']")).to_be_visible()
    expect(vera.locator(".card[data-slug='churn-report']")).to_have_count(0)
    assert vera.goto(f"{server.url}/voila/render/reports/churn.ipynb").status == 404


def test_the_gallery_at_phone_width_in_light_and_dark(server, context_for):
    for scheme in ("light", "dark"):
        phone = context_for(color_scheme=scheme)
        phone.set_viewport_size({"width": 390, "height": 844})
        sign_in(phone, server, "val")
        expect(phone).to_have_url(f"{server.url}/mlapp/apps")
        expect(phone.locator(".card").first).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # JupyterLab's --jp-layout-color2 of each theme: light grey, or dark grey.
        expect(phone.locator("body")).to_have_css("background-color", THEME_BACKGROUND[scheme])
        screenshot(phone, f"gallery-phone-{scheme}")


def test_empty_gallery_says_what_to_do(server, context_for):
    for slug in [a["slug"] for a in server.api("GET", "apps").json()["apps"]]:
        assert server.api("DELETE", f"apps/{slug}").status_code == 204
    viewer = context_for()
    sign_in(viewer, server, "val")
    expect(viewer.get_by_role("status")).to_contain_text("Ask an editor to publish one")
    editor = context_for()
    sign_in(editor, server, "ed", "/mlapp/apps")
    expect(editor.get_by_role("status")).to_contain_text("Publish a notebook from JupyterLab")
    screenshot(viewer, "gallery-empty-viewer")
