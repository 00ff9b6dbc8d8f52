"""Login tests: the in-process server runs with the same secure defaults as `jupyter mlapp`
(our IdentityProvider, Authorizer, kernel manager), plus JupyterLab and Voila, and a browser-like
HTTP client that keeps cookies and sends the XSRF value only when asked."""

from __future__ import annotations

import sys
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from argon2 import PasswordHasher
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from jupyter_mlapp.auth.identity import DEFAULT_HASHER
from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.extension import secure_defaults

PASSWORDS = {"ada": "ada-admin-pw-1", "eddie": "eddie-editor-pw-1", "vera": "vera-viewer-pw-1"}
ROLES = {"ada": "admin", "eddie": "editor", "vera": "viewer"}


@pytest.fixture
def jp_server_config(mlapp_home):
    config = secure_defaults()
    config.MLApp.home = str(mlapp_home)
    config.MLAppIdentityProvider.hash_time_cost = FAST_HASHER.time_cost
    config.MLAppIdentityProvider.hash_memory_kib = FAST_HASHER.memory_cost
    return config


# argon2id still, at a cost that keeps the suite fast on a busy machine (the server is configured
# alike, so it does not upgrade these hashes at each first login).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=DEFAULT_HASHER.parallelism)


@pytest.fixture
def jp_env_jupyter_path():
    """The environment's share/jupyter, read-only: Voila's templates live there."""
    return Path(sys.prefix, "share", "jupyter")


@pytest.fixture
def store(mlapp_home) -> UserStore:
    return UserStore(mlapp_home, hasher=FAST_HASHER)


@pytest.fixture
def accounts(store) -> dict[str, str]:
    """An admin, an editor and a viewer; {username: password}."""
    for name, password in PASSWORDS.items():
        store.add(name, password, ROLES[name], display_name=name.title())
    return dict(PASSWORDS)


class Browser:
    """What a browser does with our server: cookies kept, redirects not followed, the _xsrf
    value sent only when the test says so (as a page of ours would, and another site could not)."""

    def __init__(self, origin: str, base_url: str, address: str | None = None):
        self.origin = origin
        self.address = address  # the client's source address (any of 127.0.0.0/8), as another machine
        self.base = origin + base_url
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    @property
    def xsrf(self) -> str:
        return self.cookies.get("_xsrf", "")

    async def fetch(self, method: str, path: str, body=None, form=None, xsrf=False, headers=None, timeout=60):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if xsrf:
            headers["X-XSRFToken"] = self.xsrf
        if form is not None:
            body = urlencode({**form, **({"_xsrf": self.xsrf} if xsrf else {})})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers.pop("X-XSRFToken", None)
        elif body is not None and not isinstance(body, (str, bytes)):
            import json

            body = json.dumps(body)
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = ""
        url = self.origin + path if path.startswith("/") else self.base + path  # absolute or base-relative
        request = HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=body,
            follow_redirects=False,
            request_timeout=timeout,
            allow_nonstandard_methods=True,
            network_interface=self.address,
        )
        # Room for a burst of concurrent requests (the first call on a loop sets the limit).
        response = await AsyncHTTPClient(max_clients=64).fetch(request, raise_error=False)
        for header in response.headers.get_list("Set-Cookie"):
            self.set_cookie_headers.append(header)
            for name, morsel in SimpleCookie(header).items():
                if (morsel["expires"] and "1970" in morsel["expires"]) or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    async def login(self, username: str, password: str, next_url: str = "/lab"):
        await self.fetch("GET", "login")  # sets the _xsrf cookie, as the page does
        return await self.fetch(
            "POST",
            f"login?{urlencode({'next': next_url})}",
            form={"username": username, "password": password},
            xsrf=True,
        )


@pytest.fixture
def browser_for(http_server, jp_http_port, jp_base_url, jp_serverapp):
    """A fresh Browser for the in-process server (each call: a new cookie jar; ``address``: the
    source address it connects from)."""

    def make(address: str | None = None) -> Browser:
        return Browser(f"http://127.0.0.1:{jp_http_port}", jp_base_url, address)

    return make
