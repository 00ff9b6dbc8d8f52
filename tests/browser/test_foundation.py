"""A user opens the printed URL: JupyterLab with the ML App panel, and a Voila app."""

from __future__ import annotations

import re

from harness import screenshot
from playwright.sync_api import expect

from jupyter_mlapp import __version__


def test_lab_shows_the_ml_app_panel_with_the_server_version(mlapp_server, page):
    # The URL the server printed, token included, as a user copies it: no bypass.
    page.goto(f"{mlapp_server.url}/lab?token={mlapp_server.token}")
    tab = page.locator(".jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']")
    expect(tab).to_be_visible(timeout=60_000)
    # The layout restorer saves the workspace after the click: wait for that save.
    with page.expect_response(lambda r: "/lab/api/workspaces" in r.url and r.request.method == "PUT"):
        tab.click()
    panel = page.locator("#jupyter-mlapp-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-MLApp-version")).to_have_text(f"jupyter-mlapp {__version__}")
    expect(panel.locator(".jp-MLApp-home")).to_have_text(str(mlapp_server.home.resolve()))
    screenshot(page, "foundation-lab-panel")

    # The panel is restored across reloads (the layout restorer remembers it).
    page.reload()
    expect(page.locator("#jupyter-mlapp-panel .jp-MLApp-version")).to_be_visible(timeout=60_000)


def test_voila_renders_the_hello_app(mlapp_server, page):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(f"{mlapp_server.url}/voila/render/notebooks/hello.ipynb?token={mlapp_server.token}")
    expect(page.locator(".mlapp-hello")).to_contain_text("Hello,", timeout=60_000)
    page.get_by_role("button", name="Click me").click()
    expect(page.locator("input[type='number']")).to_have_value("1")
    screenshot(page, "foundation-voila-hello")
    # Voila loads our lab extension too (for widgets); it must stay quiet there.
    assert not [e for e in errors if "mlapp" in e or "ILabShell" in e], errors


def test_without_the_token_the_lab_asks_to_log_in(mlapp_server, page):
    page.goto(f"{mlapp_server.url}/lab")
    expect(page).to_have_url(re.compile(r"/login"))
