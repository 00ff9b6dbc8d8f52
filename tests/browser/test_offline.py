"""No request leaves the server: a company server without internet shows every page complete, and a
server with internet tells no third party who opened which app."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

PAGES = {
    "JupyterLab": ("/lab", "#jupyter-mlapp-panel, .jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']"),
    "the flagship app": ("/voila/render/notebooks/ml_app.ipynb", ".mlapp-app"),
    "the data viewer app": ("/voila/render/notebooks/data_viewer.ipynb", ".widget-button, .jupyter-button"),
}


@pytest.mark.parametrize("name", PAGES)
def test_a_page_loads_nothing_from_another_host(mlapp_server, page, name):
    path, ready = PAGES[name]
    hosts: list[str] = []
    page.on("request", lambda request: hosts.append(urlsplit(request.url).netloc or request.url.split(":")[0]))
    page.goto(f"{mlapp_server.url}{path}?token={mlapp_server.token}")
    expect(page.locator(ready).first).to_be_visible(timeout=90_000)
    # Late requests (fonts, MathJax, lazy chunks) come after the first widget: let them happen.
    page.wait_for_load_state("networkidle")
    ours = urlsplit(mlapp_server.url).netloc
    foreign = sorted({h for h in hosts if h not in (ours, "data", "blob")})
    assert not foreign, f"{name} asked other hosts: {foreign}"
    assert hosts, "the page made no request at all: the recorder did not run"
