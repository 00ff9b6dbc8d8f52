"""Signing in with a real browser: an admin reaches JupyterLab, a viewer their Voila app (which
knows who they are) and not JupyterLab, and signing out returns to the login page."""

from __future__ import annotations

import re

import pytest
import requests
from argon2 import PasswordHasher
from harness import screenshot
from playwright.sync_api import expect

from jupyter_mlapp.auth.store import UserStore

# The server hashes at this cost too (configured below), so logins stay quick on a busy machine.
HASHER = PasswordHasher(time_cost=1, memory_cost=8192)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from harness import MLAppServer, make_root

    home = tmp_path_factory.mktemp("home")
    store = UserStore(home, hasher=HASHER)
    store.add("ada", "ada admin pw 1", "admin", display_name="Ada")
    store.add("vera", "vera viewer pw 1", "viewer", display_name="Vera")
    server = MLAppServer(
        home,
        make_root(tmp_path_factory.mktemp("root")),
        args=[
            f"--MLAppIdentityProvider.hash_time_cost={HASHER.time_cost}",
            f"--MLAppIdentityProvider.hash_memory_kib={HASHER.memory_cost}",
        ],
    ).start()
    yield server
    server.stop()


def sign_in(page, username, password):
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_admin_signs_in_to_jupyterlab_and_out_again(server, page):
    page.goto(f"{server.url}/lab")
    screenshot(page, "auth-login-page")
    sign_in(page, "ada", "wrong password")
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
    page.get_by_label("Password").fill("ada admin pw 1")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/lab"))
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=60_000)
    screenshot(page, "auth-admin-lab")
    page.goto(f"{server.url}/logout")  # what JupyterLab's File > Log Out does
    expect(page).to_have_url(re.compile(r"/login\?info=logged-out"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(f"{server.url}/lab")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_viewer_uses_the_app_as_themselves_but_not_jupyterlab(server, page):
    page.goto(f"{server.url}/voila/render/notebooks/hello.ipynb")
    sign_in(page, "vera", "vera viewer pw 1")
    expect(page.locator(".mlapp-hello")).to_have_text("Hello, vera", timeout=60_000)
    page.get_by_role("button", name="Click me").click()  # the widgets talk to the kernel
    expect(page.locator("input[type='number']")).to_have_value("1")
    screenshot(page, "auth-viewer-app")

    refused = page.goto(f"{server.url}/lab")
    assert refused.status == 403
    expect(page.get_by_text("Your role (viewer) does not allow this page")).to_be_visible()

    page.goto(f"{server.url}/mlapp/account")
    expect(page.locator("#role")).to_have_text("viewer")
    expect(page.get_by_role("link", name="JupyterLab")).to_have_count(0)
    page.get_by_role("link", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?info=logged-out"))
    page.goto(f"{server.url}/voila/render/notebooks/hello.ipynb")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_a_user_creates_copies_and_revokes_an_api_token_on_the_account_page(server, page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{server.url}/mlapp/account")
    sign_in(page, "vera", "vera viewer pw 1")
    expect(page.get_by_text("No API tokens yet.")).to_be_visible()
    page.get_by_label("What the new token is for").fill("nightly report")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").input_value()
    assert token.startswith("mlapp_")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    screenshot(page, "auth-api-token")
    script = requests.Session()
    script.headers["Authorization"] = f"token {token}"
    assert script.get(f"{server.url}/mlapp/api/auth/me", timeout=30).json()["user"]["username"] == "vera"

    page.goto(f"{server.url}/mlapp/account")  # shown once: listed by its note, never again in full
    expect(page.locator("#new-token")).to_have_count(0)
    assert token not in page.content()
    expect(page.get_by_role("cell", name="nightly report", exact=True)).to_be_visible()
    page.get_by_role("button", name="Revoke nightly report").click()
    expect(page.get_by_role("status")).to_have_text('The API token "nightly report" was revoked.')
    expect(page.get_by_text("No API tokens yet.")).to_be_visible()
    assert script.get(f"{server.url}/mlapp/api/auth/me", timeout=30).status_code == 403
