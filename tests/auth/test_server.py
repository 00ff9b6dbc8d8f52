"""`jupyter mlapp` as a user runs it: the first-start setup link, the `user` commands, the
server's token, HTTPS cookies behind a proxy, and a log free of passwords."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import requests
from harness import JUPYTER_MLAPP, MLAppServer, make_root

SETUP_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/mlapp/setup\?code=[\w-]+)")


def user_cli(home, *args, password: str | None = None):
    return subprocess.run(
        [*JUPYTER_MLAPP, "user", *args],
        input=password,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MLAPP_HOME": str(home)},
    )


def sign_in(server, username, password) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{server.url}/login")
    response = browser.post(
        f"{server.url}/login",
        allow_redirects=False,
        data={"username": username, "password": password, "_xsrf": browser.cookies["_xsrf"]},
    )
    assert response.status_code == 302, response.text
    return browser


@pytest.fixture(scope="module")
def first_start(tmp_path_factory):
    """A server started on an empty home folder, shared by this module's tests."""
    home = tmp_path_factory.mktemp("home")
    server = MLAppServer(
        home, make_root(tmp_path_factory.mktemp("root")), args=["--ServerApp.trust_xheaders=True"]
    ).start()
    yield server
    server.stop()


def test_first_start_prints_a_one_time_link_that_creates_the_admin(first_start):
    server = first_start
    assert server.wait_for_output(SETUP_LINK.pattern, timeout=30), "".join(server.output[-30:])
    link = SETUP_LINK.search("".join(server.output)).group(1)
    assert server.token and f"?token={server.token}" in "".join(server.output)  # the token URL is unchanged
    browser = requests.Session()
    form = browser.get(link)
    assert form.status_code == 200 and "Create the first admin" in form.text
    created = browser.post(
        link,
        allow_redirects=False,
        data={
            "username": "root-admin",
            "display_name": "The Admin",
            "password": "first admin pw 1",
            "confirm_password": "first admin pw 1",
            "_xsrf": browser.cookies["_xsrf"],
        },
    )
    assert created.status_code == 302 and "/login" not in created.headers["Location"]  # signed in, to the start page
    me = browser.get(f"{server.url}/mlapp/api/auth/me").json()["user"]
    assert (me["username"], me["role"], me["display_name"]) == ("root-admin", "admin", "The Admin")
    again = requests.get(link)  # one time only
    assert again.status_code == 404 and "no longer valid" in again.text


def test_user_list_shows_when_the_first_admin_signed_in(first_start):
    # The admin made by the setup link above is signed in by it: a login like any other.
    listed = user_cli(first_start.home, "list")
    row = next(line for line in listed.stdout.splitlines() if line.startswith("root-admin"))
    assert "never" not in row and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row), listed.stdout


def test_user_commands_reach_the_running_server_at_once(first_start):
    server = first_start
    added = user_cli(
        server.home, "add", "Vera", "--role=viewer", "--display-name=Vera V", password="vera viewer pw 1\n"
    )  # stdin is a pipe, as in a script
    assert added.returncode == 0 and "Added vera (viewer)." in added.stdout, added.stderr
    assert "vera viewer pw 1" not in added.stdout + added.stderr

    vera = sign_in(server, "vera", "vera viewer pw 1")
    assert vera.get(f"{server.url}/mlapp/api/auth/me").json()["user"]["role"] == "viewer"
    disabled = user_cli(server.home, "disable", "vera")
    assert disabled.returncode == 0 and "Disabled vera" in disabled.stdout
    assert vera.get(f"{server.url}/mlapp/api/auth/me").status_code == 403  # the very next request


def test_the_server_token_still_signs_in_the_owner(first_start):
    server = first_start
    status = server.api("GET", "status").json()  # Authorization: token <printed token>
    assert status["user"]["role"] == "admin"
    browser = requests.Session()
    lab = browser.get(f"{server.url}/lab?token={server.token}")
    assert lab.status_code == 200
    assert browser.get(f"{server.url}/mlapp/api/auth/me").json()["user"]["kind"] == "owner"  # by cookie now


def test_cookie_is_secure_behind_an_https_proxy(first_start):
    server = first_start
    browser = requests.Session()
    proxy = {"X-Forwarded-Proto": "https"}  # what a TLS-terminating proxy adds (trust_xheaders on)
    browser.get(f"{server.url}/login", headers=proxy)
    response = browser.post(
        f"{server.url}/login",
        headers=proxy,
        allow_redirects=False,
        data={"username": "root-admin", "password": "first admin pw 1", "_xsrf": browser.cookies["_xsrf"]},
    )
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 302
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_server_log_holds_no_password(first_start):
    log = "".join(first_start.output)
    assert "User vera logged in" in log
    for password in ("first admin pw 1", "vera viewer pw 1"):
        assert password not in log
    assert "$argon2" not in log
