"""The login pages: HTML forms, XSRF-protected, no JavaScript needed.

``/login``, ``/logout``, ``/mlapp/account`` (who I am, change my password, my API tokens) and
``/mlapp/setup?code=...`` (the one-time link that creates the first admin). The IdentityProvider
serves them (``identity.MLAppIdentityProvider``).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.login import LoginFormHandler
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from markupsafe import Markup
from tornado import web

from ..errors import InvalidInput, MLAppError
from .store import UserStore

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)
TEMPLATES.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "never"

# Messages a page may show when redirected to with ?info=<key> (never text from the URL).
INFO = {
    "logged-out": "You are signed out.",
    "password-changed": "Your password was changed. Sign in with the new one.",
}


class AuthPage(JupyterHandler):
    """Our pages: rendered from our own templates, styled like JupyterLab."""

    auth_resource = "auth"

    def render_page(self, name: str, status: int = 200, **ns) -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        page = TEMPLATES.get_template(name).render(
            base_url=self.base_url, xsrf_form_html=Markup(self.xsrf_form_html()), user=self.current_user, **ns
        )
        self.finish(page)

    def error_page(self, name: str, err: MLAppError, **ns) -> None:
        if err.status == 429:
            self.set_header("Retry-After", str(err.detail["retry_after"]))
        self.render_page(name, status=err.status, error=err.message, **ns)


class LoginPage(AuthPage, LoginFormHandler):
    """``/login``: username and password (or, with no username, the server's token)."""

    def next_url(self) -> str:
        return self.get_argument("next", default=self.default_url)

    @allow_unauthenticated
    def get(self):
        if self.current_user:
            self._redirect_safe(self.next_url())  # Jupyter's check: only to this server
        else:
            self.render_page("login.html", next=self.next_url(), info=INFO.get(self.get_argument("info", "")))

    @allow_unauthenticated
    async def post(self):
        username = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "", strip=False)
        try:
            user = await self.identity_provider.login(self, username, password)
        except MLAppError as err:
            self.error_page("login.html", err, next=self.next_url(), username=username[:64])
            return
        self.identity_provider.set_login_cookie(self, user)
        self._redirect_safe(self.next_url())


class LogoutPage(AuthPage):
    """``/logout``: ends the login everywhere and returns to the login page.

    JupyterLab's "Log Out" and the apps' links navigate here with GET; the browser's
    Sec-Fetch-Site header (which pages cannot forge) tells those from another site's link, which
    gets a confirmation form (POST, XSRF-checked) instead.
    """

    async def _logout(self):
        if self.current_user is not None:
            await self.identity_provider.logout(self)
        self.redirect(url_path_join(self.base_url, "login") + "?" + urlencode({"info": "logged-out"}))

    @allow_unauthenticated
    async def get(self):
        if self.current_user is None or self.request.headers.get("Sec-Fetch-Site") in ("same-origin", "none"):
            await self._logout()
        else:
            self.render_page("logout.html")

    @allow_unauthenticated
    async def post(self):
        await self._logout()


class AccountPage(AuthPage):
    """``/mlapp/account``: who I am, change my password, my API tokens (create, list, revoke), sign out."""

    def render_page(self, name: str, status: int = 200, **ns) -> None:
        if getattr(self.current_user, "kind", None) == "account":
            ns["tokens"] = self.identity_provider.store.list_tokens(self.current_user.username)
        super().render_page(name, status, **ns)

    @web.authenticated
    def get(self):
        self.render_page("account.html")

    @web.authenticated
    async def post(self):
        action = self.get_body_argument("action", "change-password")
        try:
            if action == "create-token":
                info = self.create_token()
            elif action == "revoke-token":
                info = self.revoke_token()
            else:
                info = await self.change_password()
        except MLAppError as err:
            self.error_page("account.html", err)
            return
        self.render_page("account.html", **info)

    def own_account(self) -> str:
        if self.current_user.kind != "account":
            raise InvalidInput("the server owner signs in with the server's token and has no API tokens")
        return self.current_user.username

    def create_token(self) -> dict:
        token, secret = self.identity_provider.store.create_token(
            self.own_account(), self.get_body_argument("note", "")
        )
        return {"new_token": {**token, "token": secret}}

    def revoke_token(self) -> dict:
        store = self.identity_provider.store
        token_id = self.get_body_argument("token_id", "")
        note = next((t["note"] for t in store.list_tokens(self.own_account()) if t["id"] == token_id), token_id)
        store.revoke_token(self.own_account(), token_id)
        return {"info": f'The API token "{note}" was revoked.'}

    async def change_password(self) -> dict:
        current = self.get_body_argument("current_password", "", strip=False)
        new = self.get_body_argument("new_password", "", strip=False)
        if new != self.get_body_argument("confirm_password", "", strip=False):
            raise InvalidInput("the new passwords do not match")
        await self.identity_provider.change_password(self, current, new)
        return {"info": "Your password was changed; your other sign-ins have ended."}


class AccountScript(JupyterHandler):
    """``/mlapp/account/copy.js``: the account page's copy button (no inline scripts under our CSP)."""

    auth_resource = "auth"

    @web.authenticated
    def get(self):
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.finish(Path(__file__).with_name("templates").joinpath("copy.js").read_bytes())


class SetupPage(AuthPage):
    """``/mlapp/setup?code=...``: the one-time link printed at the first start creates the first admin."""

    @property
    def store(self) -> UserStore:
        return self.identity_provider.store

    def code(self) -> str:
        return self.get_argument("code", "")

    @allow_unauthenticated
    def get(self):
        if not self.store.setup_code_valid(self.code()):
            self.render_page("setup.html", status=404, expired=True)
            return
        self.render_page("setup.html", code=self.code())

    @allow_unauthenticated
    async def post(self):
        username = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "", strip=False)
        try:
            if password != self.get_body_argument("confirm_password", "", strip=False):
                raise InvalidInput("the passwords do not match")
            account = await asyncio.get_running_loop().run_in_executor(
                None,
                self.store.create_first_admin,
                self.code(),
                username,
                password,
                self.get_body_argument("display_name", ""),
            )
        except MLAppError as err:
            self.error_page("setup.html", err, code=self.code(), username=username[:64])
            return
        self.log.info("First admin %s created with the setup link", account.username)
        self.identity_provider.set_login_cookie(self, self.identity_provider.user_for(account))
        self.redirect(self.default_url)


def page_handlers() -> list[tuple]:
    return [(r"/mlapp/account", AccountPage), (r"/mlapp/account/copy.js", AccountScript), (r"/mlapp/setup", SetupPage)]
