"""A real JupyterHub with a real browser: signed in at the Hub, people use jupyter-mlapp apps as
themselves, with their roles."""

from __future__ import annotations

import re

import pytest
from harness import screenshot
from playwright.sync_api import expect

APP = "voila/render/notebooks/hello.ipynb"  # greets current_user()


def sign_in_at_the_hub(page, hub, user):
    page.goto(f"{hub.url}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/hub/login"))  # on to the Hub or its own server


@pytest.mark.parametrize("owner", ["ann", "carl"], ids=["jupyterhub-singleuser", "jupyter-mlapp"])
def test_the_owner_uses_jupyterlab_and_the_apps_as_themselves(jupyterhub, page, owner):
    jupyterhub.open_server(owner)  # started from the Hub's home page
    sign_in_at_the_hub(page, jupyterhub, owner)
    page.goto(f"{jupyterhub.url}/user/{owner}/{APP}")
    expect(page.locator(".mlapp-hello")).to_have_text(f"Hello, {owner}", timeout=60_000)
    page.goto(f"{jupyterhub.url}/user/{owner}/lab")
    expect(page).to_have_url(f"{jupyterhub.url}/user/{owner}/lab")  # no login page of ours on the way
    page.locator(".jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']").click(timeout=60_000)
    panel = page.locator("#jupyter-mlapp-panel")
    expect(panel.locator(".jp-MLApp-home")).to_have_text(str(jupyterhub.home_of(owner)))
    screenshot(page, f"hub-{owner}-lab")


def test_a_user_the_hub_lets_in_uses_the_app_as_a_viewer(jupyterhub, page):
    jupyterhub.open_server("ann")
    sign_in_at_the_hub(page, jupyterhub, "vic")
    page.goto(f"{jupyterhub.url}/user/ann/{APP}")
    page.get_by_role("button", name="Authorize").click()  # the Hub asks once: may ann's server know who you are?
    expect(page.locator(".mlapp-hello")).to_have_text("Hello, vic", timeout=60_000)
    screenshot(page, "hub-viewer-app")
    page.goto(f"{jupyterhub.url}/user/ann/lab")
    expect(page.get_by_text("Your role (viewer) does not allow this page")).to_be_visible()
