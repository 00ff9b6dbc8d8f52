"""Login pages and the ``/mlapp/api/auth/...`` REST API.

Pages (HTML forms, XSRF-protected, no JavaScript needed): ``/login``, ``/logout``,
``/mlapp/account`` (change my password) and ``/mlapp/setup?code=...`` (the one-time link that
creates the first admin). REST: sign in and out, change my password, my API tokens, and user
management for admins.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from jupyter_server.auth.login import LoginFormHandler
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from markupsafe import Markup
from tornado import web
from tornado.ioloop import IOLoop

from ..errors import InvalidInput, MLAppError
from ..web import MLAppHandler, json_content
from .csp import apply_page_policies
from .identity import AccountRoles, MLAppIdentityProvider, stop_kernels
from .store import ROLES, UserStore

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)
TEMPLATES.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "never"

# Messages a page may show when redirected to with ?info=<key> (never text from the URL).
INFO = {
    "logged-out": "You are signed out.",
    "password-changed": "Your password was changed. Sign in with the new one.",
}


def identity_provider(handler) -> MLAppIdentityProvider:
    provider = handler.identity_provider
    if isinstance(provider, AccountRoles) and not isinstance(provider, MLAppIdentityProvider):
        raise InvalidInput("this server signs in through JupyterHub: sign in, out and change passwords there")
    if not isinstance(provider, MLAppIdentityProvider):
        raise InvalidInput(
            "accounts are off: this server does not use jupyter-mlapp's IdentityProvider "
            "(start it with `jupyter mlapp`)"
        )
    return provider


def user_model(user) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": getattr(user, "role", None),
        "kind": getattr(user, "kind", None),
    }


# -- pages --------------------------------------------------------------------------------------
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


def keep_token_out_of_pages(web_app) -> None:
    """JupyterLab writes the server token into every Lab page's config, and its front end sends
    it with each request: any signed-in account would then act as the server owner. Browsers
    are authenticated by their login cookie (with the XSRF check), so pages never need it."""
    previous = web_app.settings.get("page_config_hook")

    def hook(handler, page_config):
        if previous is not None:
            page_config = previous(handler, page_config)
        page_config["token"] = ""
        return page_config

    web_app.settings["page_config_hook"] = hook


def protect_voila_files(web_app) -> None:
    """Voila serves the workspace's images (``/voila/files/...png``) to anyone, signed in or
    not; put its handler behind the login like everything else."""
    try:
        from voila.static_file_handler import AllowListFileHandler
    except ImportError:
        return

    class AppFileHandler(JupyterHandler, AllowListFileHandler):  # the Authorizer's route check: "voila"
        @web.authenticated
        def get(self, path, include_body=True):
            return super().get(path, include_body)

        @web.authenticated
        def head(self, path):
            return super().head(path)

    replace_route_target(web_app, AllowListFileHandler, AppFileHandler)


def replace_route_target(web_app, old: type, new: type) -> None:
    """Serve ``old``'s routes with ``new`` (idempotent: once replaced, ``old`` is not found again)."""

    def walk(router):
        for rule in getattr(router, "rules", ()):
            if rule.target is old:
                rule.target = new
            walk(rule.target)

    walk(web_app.default_router)


def answer_upstream_errors(web_app) -> None:
    """Two upstream handlers reachable before login fail on a refusal or a bad path: Voila's
    template files answer a path that is not ``<template>/static/<file>`` with a 500, and
    JupyterLab's licenses handler never answers an error (its ``finish`` needs a MIME type, and
    Jupyter's error page calls it without one), so anonymous users and viewers waited forever.
    Written for voila 0.5 and jupyterlab_server 2.27."""
    try:
        from voila.static_file_handler import TemplateStaticFileHandler
    except ImportError:
        pass
    else:

        class TemplateFiles(TemplateStaticFileHandler):
            def parse_url_path(self, path):
                try:
                    return super().parse_url_path(path)
                except (ValueError, AssertionError, KeyError) as exc:  # not <template>/static/<file>
                    raise web.HTTPError(404) from exc

            @classmethod
            def get_absolute_path(cls, root, path):
                try:
                    return super().get_absolute_path(root, path)
                except (ValueError, AssertionError, KeyError) as exc:
                    raise web.HTTPError(404) from exc

        replace_route_target(web_app, TemplateStaticFileHandler, TemplateFiles)
    try:
        from jupyterlab_server.licenses_handler import LicensesHandler
    except ImportError:
        return

    class Licenses(LicensesHandler):
        def finish(self, *args, **kwargs):
            if "_mime_type" in kwargs:  # the report
                return super().finish(*args, **kwargs)
            return super(LicensesHandler, self).finish(*args, **kwargs)  # an error: Jupyter's JSON

    Licenses.__module__ = LicensesHandler.__module__  # still JupyterLab's page for the Authorizer, not ours
    replace_route_target(web_app, LicensesHandler, Licenses)


def explain_voila_errors(web_app) -> None:
    """Voila's error page shows "403: Forbidden" and no reason; ours (``templates/voila``) adds
    the reason of a refusal, as Jupyter's own pages do ("Your role (viewer) does not allow ...")."""
    env = web_app.settings.get("voila_jinja2_env")
    if env is None or getattr(env, "_mlapp_errors", False):
        return
    original = env.loader
    env.loader = ChoiceLoader(
        [FileSystemLoader(Path(__file__).with_name("templates") / "voila"), original, PrefixLoader({"voila": original})]
    )
    env._mlapp_errors = True


# -- REST ---------------------------------------------------------------------------------------
class AuthHandler(MLAppHandler):
    """Self-service: any signed-in user, about their own account."""

    auth_resource = "auth"

    @property
    def store(self) -> UserStore:
        return self.manager

    def own_account(self) -> str:
        if getattr(self.current_user, "kind", None) != "account":
            raise InvalidInput("the server owner signs in with the server's token and has no account")
        return self.username

    def text(self, body: dict, key: str) -> str:
        value = body.get(key, "")
        if not isinstance(value, str):
            raise InvalidInput(f"'{key}' must be text")
        return value


class LoginHandler(AuthHandler):
    # Signing in is how a client gets credentials: without the XSRF value it is told so (403).
    check_xsrf_cookie = APIHandler.check_xsrf_cookie

    @allow_unauthenticated
    async def post(self):
        body = self.json_body()
        provider = identity_provider(self)
        user = await provider.login(self, self.text(body, "username"), self.text(body, "password"))
        provider.set_login_cookie(self, user)
        self.write_json({"user": user_model(user)})

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MLAppError) and exc.status == 429:
            self.set_header("Retry-After", str(exc.detail["retry_after"]))
        super().write_error(status_code, **kwargs)


class LogoutHandler(AuthHandler):
    @web.authenticated
    @authorized
    async def post(self):
        await identity_provider(self).logout(self)
        self.write_json({"ok": True})


class MeHandler(AuthHandler):
    @web.authenticated
    @authorized
    def get(self):
        self.write_json({"user": user_model(self.current_user)})


class PasswordHandler(AuthHandler):
    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        await identity_provider(self).change_password(
            self, self.text(body, "current_password"), self.text(body, "new_password")
        )
        self.write_json({"ok": True})


class TokensHandler(AuthHandler):
    @web.authenticated
    @authorized
    def get(self):
        self.write_json({"tokens": self.store.list_tokens(self.own_account())})

    @web.authenticated
    @authorized
    def post(self):
        token, secret = self.store.create_token(self.own_account(), self.text(self.json_body(), "note"))
        self.write_json({**token, "token": secret}, status=201)


class TokenHandler(AuthHandler):
    @web.authenticated
    @authorized
    def delete(self, token_id):
        self.store.revoke_token(self.own_account(), token_id)
        self.set_status(204)
        self.finish()


class UsersHandler(AuthHandler):
    """User management: admins only (resource ``users``)."""

    auth_resource = "users"

    @web.authenticated
    @authorized
    def get(self):
        self.write_json({"users": [a.to_dict() for a in self.store.list()], "roles": list(ROLES)})

    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        unknown = set(body) - {"username", "password", "role", "display_name"}
        if unknown:
            raise InvalidInput(f"unknown fields: {', '.join(sorted(unknown))}")
        account = await asyncio.get_running_loop().run_in_executor(
            None,
            self.store.add,
            body.get("username"),
            body.get("password"),
            body.get("role", "editor"),
            body.get("display_name"),
        )
        self.log.info("%s added user %s (%s)", self.username, account.username, account.role)
        self.write_json(account.to_dict(), status=201)


class UserHandler(AuthHandler):
    auth_resource = "users"

    @web.authenticated
    @authorized
    def get(self, username):
        self.write_json(self.store.require(username).to_dict())

    @web.authenticated
    @authorized
    async def patch(self, username):
        body = self.json_body()
        unknown = set(body) - {"role", "display_name", "disabled", "password"}
        if unknown or not body:
            raise InvalidInput(
                f"unknown fields: {', '.join(sorted(unknown))}"
                if unknown
                else "nothing to change: give role, display_name, disabled or password"
            )
        account = self.store.require(username)
        if "password" in body:
            await asyncio.get_running_loop().run_in_executor(
                None, self.store.set_password, account.username, body["password"]
            )
        if "role" in body:
            self.store.set_role(account.username, body["role"])
        if "display_name" in body:
            self.store.set_display_name(account.username, body["display_name"])
        if "disabled" in body:
            self.store.set_disabled(account.username, body["disabled"])
            if body["disabled"]:
                await stop_kernels(self, account.username)
        self.log.info("%s changed %s of user %s", self.username, ", ".join(sorted(body)), account.username)
        self.write_json(self.store.require(account.username).to_dict())

    @web.authenticated
    @authorized
    async def delete(self, username):
        account = self.store.require(username)
        self.store.remove(account.username)
        await stop_kernels(self, account.username)
        self.log.info("%s removed user %s", self.username, account.username)
        self.set_status(204)
        self.finish()


def setup(app) -> list[tuple]:
    provider = app.serverapp.identity_provider
    ours = isinstance(provider, AccountRoles)
    store = UserStore(app.home_path, hasher=provider.hasher if ours else None)
    app.managers["auth"] = store
    if ours:
        provider.store = store
    if isinstance(provider, MLAppIdentityProvider):  # under JupyterHub the Hub makes its users
        code = store.issue_setup_code()
        if code:
            IOLoop.current().add_callback(print_setup_link, app, code)
    keep_token_out_of_pages(app.serverapp.web_app)
    app.after_extensions_load(protect_voila_files)
    app.after_extensions_load(explain_voila_errors)
    app.after_extensions_load(answer_upstream_errors)
    app.after_extensions_load(apply_page_policies)
    kwargs = {"manager": store}
    return [
        (r"/auth/login", LoginHandler, kwargs),
        (r"/auth/logout", LogoutHandler, kwargs),
        (r"/auth/me", MeHandler, kwargs),
        (r"/auth/password", PasswordHandler, kwargs),
        (r"/auth/tokens", TokensHandler, kwargs),
        (r"/auth/tokens/(?P<token_id>[^/]+)", TokenHandler, kwargs),
        (r"/auth/users", UsersHandler, kwargs),
        (r"/auth/users/(?P<username>[^/]+)", UserHandler, kwargs),
    ]


def print_setup_link(app, code: str) -> None:
    """Shown once at start while there is no account: never a default password."""
    link = url_path_join(app.serverapp.connection_url, "mlapp/setup") + "?" + urlencode({"code": code})
    app.log.warning(
        "No jupyter-mlapp accounts yet. Create the first admin with this one-time link "
        "(valid 24 hours, until used):\n\n    %s\n\n    or run: jupyter mlapp user add NAME --role=admin\n",
        link,
    )


# -- OpenAPI --------------------------------------------------------------------------------------

_USER = {
    "type": "object",
    "properties": {
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "role": {"type": "string", "enum": list(ROLES)},
        "created": {"type": "number"},
        "last_login": {"type": "number", "nullable": True},
        "disabled": {"type": "boolean"},
    },
}
_IDENTITY = {
    "type": "object",
    "properties": {
        "user": {
            "type": "object",
            "properties": {
                "username": {"type": "string"},
                "display_name": {"type": "string"},
                "role": {"type": "string"},
                "kind": {"type": "string", "enum": ["account", "owner", "hub"]},
            },
        }
    },
}
_OK = {"description": "done", "content": json_content({"type": "object", "properties": {"ok": {"type": "boolean"}}})}
_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {
        "description": "not allowed for your role",
        "content": json_content({"$ref": "#/components/schemas/Error"}),
    },
}
_NOT_FOUND = {"404": {"$ref": "#/components/responses/NotFound"}}
_CONFLICT = {
    "409": {
        "description": "conflict (exists already, or the last admin)",
        "content": json_content({"$ref": "#/components/schemas/Error"}),
    }
}


def _body(properties: dict, required: list[str]) -> dict:
    return {
        "required": True,
        "content": json_content({"type": "object", "properties": properties, "required": required}),
    }


_TEXT = {"type": "string"}
_USERNAME = {"name": "username", "in": "path", "required": True, "schema": _TEXT}
openapi_paths = {
    "/auth/login": {
        "post": {
            "summary": "Sign in with username and password; sets the login cookie (send the _xsrf cookie "
            "value as X-XSRFToken)",
            "tags": ["auth"],
            "security": [],
            "requestBody": _body({"username": _TEXT, "password": _TEXT}, ["username", "password"]),
            "responses": {
                "200": {"description": "signed in", "content": json_content(_IDENTITY)},
                **_ERRORS,
                "429": {
                    "description": "too many failed attempts; see Retry-After",
                    "content": json_content({"$ref": "#/components/schemas/Error"}),
                },
            },
        }
    },
    "/auth/logout": {
        "post": {
            "summary": "Sign out: every login of the account ends, its app kernels and app session too",
            "tags": ["auth"],
            "responses": {"200": _OK, **_ERRORS},
        }
    },
    "/auth/me": {
        "get": {
            "summary": "Who I am: username, display name, role",
            "tags": ["auth"],
            "responses": {"200": {"description": "the signed-in user", "content": json_content(_IDENTITY)}, **_ERRORS},
        }
    },
    "/auth/password": {
        "post": {
            "summary": "Change my password; my other logins end",
            "tags": ["auth"],
            "requestBody": _body(
                {"current_password": _TEXT, "new_password": _TEXT}, ["current_password", "new_password"]
            ),
            "responses": {"200": _OK, **_ERRORS, "429": {"description": "too many failed attempts"}},
        }
    },
    "/auth/tokens": {
        "get": {
            "summary": "My API tokens (never their secrets)",
            "tags": ["auth"],
            "responses": {"200": {"description": "tokens", "content": json_content({"type": "object"})}, **_ERRORS},
        },
        "post": {
            "summary": "New API token for scripts (`Authorization: token <token>`); shown once",
            "tags": ["auth"],
            "requestBody": _body({"note": _TEXT}, []),
            "responses": {
                "201": {
                    "description": "the token",
                    "content": json_content(
                        {"type": "object", "properties": {"id": _TEXT, "note": _TEXT, "token": _TEXT}}
                    ),
                },
                **_ERRORS,
            },
        },
    },
    "/auth/tokens/{token_id}": {
        "delete": {
            "summary": "Revoke one of my API tokens",
            "tags": ["auth"],
            "parameters": [{"name": "token_id", "in": "path", "required": True, "schema": _TEXT}],
            "responses": {"204": {"description": "revoked"}, **_ERRORS, **_NOT_FOUND},
        }
    },
    "/auth/users": {
        "get": {
            "summary": "All users (admins)",
            "tags": ["auth"],
            "responses": {
                "200": {
                    "description": "users",
                    "content": json_content(
                        {"type": "object", "properties": {"users": {"type": "array", "items": _USER}}}
                    ),
                },
                **_ERRORS,
            },
        },
        "post": {
            "summary": "Add a user (admins)",
            "tags": ["auth"],
            "requestBody": _body(
                {
                    "username": _TEXT,
                    "password": _TEXT,
                    "display_name": _TEXT,
                    "role": {"type": "string", "enum": list(ROLES)},
                },
                ["username", "password"],
            ),
            "responses": {"201": {"description": "added", "content": json_content(_USER)}, **_ERRORS, **_CONFLICT},
        },
    },
    "/auth/users/{username}": {
        "get": {
            "summary": "One user (admins)",
            "tags": ["auth"],
            "parameters": [_USERNAME],
            "responses": {"200": {"description": "the user", "content": json_content(_USER)}, **_ERRORS, **_NOT_FOUND},
        },
        "patch": {
            "summary": "Change role, display name, password or disabled (admins); disabling ends "
            "the user's logins and kernels at once",
            "tags": ["auth"],
            "parameters": [_USERNAME],
            "requestBody": _body(
                {
                    "role": {"type": "string", "enum": list(ROLES)},
                    "display_name": _TEXT,
                    "disabled": {"type": "boolean"},
                    "password": _TEXT,
                },
                [],
            ),
            "responses": {
                "200": {"description": "the user", "content": json_content(_USER)},
                **_ERRORS,
                **_NOT_FOUND,
                **_CONFLICT,
            },
        },
        "delete": {
            "summary": "Remove a user (admins)",
            "tags": ["auth"],
            "parameters": [_USERNAME],
            "responses": {"204": {"description": "removed"}, **_ERRORS, **_NOT_FOUND, **_CONFLICT},
        },
    },
}
