"""The ``/mlapp/api/auth/...`` REST API: sign in and out, change my password, my API tokens,
and user management for admins. The login pages are in ``pages``, the API's OpenAPI in ``openapi``.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..errors import InvalidInput, MLAppError
from ..web import MLAppHandler
from .identity import AccountRoles, MLAppIdentityProvider, stop_kernels
from .store import ROLES, UserStore


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


# -- REST ---------------------------------------------------------------------------------------
class AuthHandler(MLAppHandler):
    """Self-service: any signed-in user, about their own account."""

    auth_resource = "auth"

    @property
    def store(self) -> UserStore:
        return self.manager

    def text(self, body: dict, key: str) -> str:
        return self.string_field(body, key, "text", default="")

    def own_account(self) -> str:
        if getattr(self.current_user, "kind", None) != "account":
            raise InvalidInput("the server owner signs in with the server's token and has no account")
        return self.username


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
    async def get(self):
        self.write_json({"tokens": await self.call(self.store.list_tokens, self.own_account())})

    @web.authenticated
    @authorized
    async def post(self):
        note = self.text(self.json_body(), "note")
        token, secret = await self.call(self.store.create_token, self.own_account(), note)
        self.write_json({**token, "token": secret}, status=201)


class TokenHandler(AuthHandler):
    @web.authenticated
    @authorized
    async def delete(self, token_id):
        await self.call(self.store.revoke_token, self.own_account(), token_id)
        self.set_status(204)
        self.finish()


class UsersHandler(AuthHandler):
    """User management: admins only (resource ``users``)."""

    auth_resource = "users"

    @web.authenticated
    @authorized
    async def get(self):
        accounts = await self.call(self.store.list)
        self.write_json({"users": [a.to_dict() for a in accounts], "roles": list(ROLES)})

    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        unknown = set(body) - {"username", "password", "role", "display_name"}
        if unknown:
            raise InvalidInput(f"unknown fields: {', '.join(sorted(unknown))}")
        account = await self.call(
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
    async def get(self, username):
        self.write_json((await self.call(self.store.require, username)).to_dict())

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
        account = await self.call(self.store.require, username)
        if "password" in body:
            await self.call(self.store.set_password, account.username, body["password"])
        if "role" in body:
            await self.call(self.store.set_role, account.username, body["role"])
        if "display_name" in body:
            await self.call(self.store.set_display_name, account.username, body["display_name"])
        if "disabled" in body:
            await self.call(self.store.set_disabled, account.username, body["disabled"])
            if body["disabled"]:
                await stop_kernels(self, account.username)
        self.log.info("%s changed %s of user %s", self.username, ", ".join(sorted(body)), account.username)
        self.write_json((await self.call(self.store.require, account.username)).to_dict())

    @web.authenticated
    @authorized
    async def delete(self, username):
        account = await self.call(self.store.require, username)
        await self.call(self.store.remove, account.username)
        await stop_kernels(self, account.username)
        self.log.info("%s removed user %s", self.username, account.username)
        self.set_status(204)
        self.finish()
