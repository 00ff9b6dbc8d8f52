"""``MLAppIdentityProvider``: who is asking, for every request the server serves.

A request is authenticated by, in this order:

1. the server's token (``?token=`` in the URL Jupyter prints, or ``Authorization: token ...``):
   the holder is the server owner, role ``admin``, named after the local account;
2. a per-user API token (``Authorization: token mlapp_...``) for scripts;
3. the login cookie, set by the login page: signed by Jupyter's cookie secret, it names the
   account and its generation, so logout, a password change and disabling end it at once.

Under JupyterHub (``JUPYTERHUB_*`` variables set) the Hub's user is the identity and our login
page steps aside: ``integrations.jupyterhub.MLAppHubIdentityProvider`` takes this one's place (``use_hub``).
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web
from traitlets import Float, Integer, Unicode, default

from ..errors import InvalidInput, MLAppError
from .pages import LoginPage, LogoutPage, page_handlers
from .store import Account, UserStore, check_password_for_login, normalize_username
from .throttle import LoginThrottle

DEFAULT_HASHER = PasswordHasher()  # argon2-cffi's defaults: RFC 9106's low-memory profile
HUB_VARIABLES = ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_SERVICE_PREFIX")


def hub_environment(environ=os.environ) -> bool:
    """True when this server was spawned by JupyterHub (it sets these for every single-user server)."""
    return all(environ.get(name) for name in HUB_VARIABLES)


class LoginFailed(MLAppError):
    status = 401


@dataclass
class MLAppUser(User):
    """Jupyter's User with a ``role`` (admin, editor, viewer) and how it signed in."""

    role: str = "viewer"
    kind: str = "account"  # account, owner (server token), hub


class AccountRoles:
    """What our IdentityProviders share: the account store (roles) and the route check."""

    _store: UserStore | None = None

    @property
    def hasher(self) -> PasswordHasher:
        return DEFAULT_HASHER

    # -- the store: given by the extension (its home folder), else $MLAPP_HOME ---------------
    @property
    def store(self) -> UserStore:
        if self._store is None:
            self._store = UserStore(hasher=self.hasher)
        return self._store

    @store.setter
    def store(self, store: UserStore) -> None:
        self._store = store

    @staticmethod
    def admit(handler: web.RequestHandler, user: MLAppUser | None) -> MLAppUser | None:
        """Check the route against the user's role (the Authorizer's ``check_route``)."""
        check_route = getattr(handler.settings.get("authorizer"), "check_route", None)
        if user is not None and check_route:
            # Known before refusing, so the error page renders as for anyone signed in.
            handler.current_user = handler._jupyter_current_user = user
            check_route(handler, user)
        return user


class MLAppIdentityProvider(AccountRoles, IdentityProvider):
    """Accounts with roles on top of Jupyter's token login."""

    max_failures = Integer(
        5, help="Failed logins for an account from one address (or for the account from new addresses) before delays."
    ).tag(config=True)
    max_delay = Float(15 * 60, help="Seconds: the longest delay between failed logins (delays double from 1 s).").tag(
        config=True
    )
    failure_window = Float(24 * 3600, help="Seconds after the last failed login when the failures are forgotten.").tag(
        config=True
    )
    owner_name = Unicode(help="The username of the server's token holder. Default: the local account.").tag(config=True)
    hash_time_cost = Integer(DEFAULT_HASHER.time_cost, help="argon2id passes per password hash.").tag(config=True)
    hash_memory_kib = Integer(DEFAULT_HASHER.memory_cost, help="argon2id memory (KiB) per password hash.").tag(
        config=True
    )

    @default("owner_name")
    def _default_owner_name(self):
        return getpass.getuser()

    @default("login_handler_class")
    def _default_login_handler_class(self):
        return LoginPage

    @default("logout_handler_class")
    def _default_logout_handler_class(self):
        return LogoutPage

    @default("cookie_options")
    def _default_cookie_options(self):
        # Lax: the cookie rides along when a link to an app is followed from elsewhere, never on
        # another site's form posts or scripts. HttpOnly and Secure (over HTTPS) come from
        # Jupyter's set_login_cookie.
        return {"samesite": "Lax"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.throttle = LoginThrottle(self.max_failures, self.max_delay, self.failure_window)
        # The owner has no account generation to bump: this run's owner logins carry this value,
        # and the owner's logout replaces it, which ends them all (as logout does for an account).
        self._owner_sessions = secrets.token_hex(16)

    @property
    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.hash_time_cost, memory_cost=self.hash_memory_kib, parallelism=DEFAULT_HASHER.parallelism
        )

    # -- authentication --------------------------------------------------------------------
    def get_handlers(self):
        return [*super().get_handlers(), *page_handlers()]

    async def get_user(self, handler: web.RequestHandler) -> MLAppUser | None:
        if getattr(handler, "_jupyter_current_user", None):
            return handler._jupyter_current_user
        return self.admit(handler, self._token_user(handler) or self._cookie_user(handler))

    def owner(self) -> MLAppUser:
        return MLAppUser(self.owner_name, role="admin", kind="owner")

    def _token_digest(self) -> str:
        # Binds an owner's cookie to this run's token and owner logins: a new token, the owner's
        # logout and a restart end them.
        return hashlib.sha256(f"mlapp-owner:{self.token}:{self._owner_sessions}".encode()).hexdigest()[:32]

    def _token_user(self, handler) -> MLAppUser | None:
        given = self.get_token(handler)
        user = self.user_for_token(given) if given else None
        if user is None:
            return None
        # A browser that opened the printed ?token= URL stays signed in without the token;
        # scripts send the header with every request and need no cookie (nor its cost).
        if user.kind == "owner" and handler.get_argument("token", ""):
            cookie = self._cookie_value(handler)
            if not (cookie and cookie.get("owner") == self._token_digest()):
                self.set_login_cookie(handler, user)
        handler._token_authenticated = True  # scripts: no XSRF cookie to send (as in Jupyter)
        return user

    def user_for_token(self, given: str) -> MLAppUser | None:
        """Whose token ``given`` is: the server's (its owner) or an enabled account's API token.
        Also asked by the model server's prediction lane (``models/lane.py``), without a handler."""
        if self.token and hmac.compare_digest(given.encode(), self.token.encode()):
            return self.owner()
        account = self.store.account_for_token(given)
        return None if account is None else self.user_for(account)

    def get_token(self, handler) -> str | None:
        # Per-user API tokens only in the Authorization header, where they stay out of logs.
        in_url = handler.get_argument("token", "")
        if in_url and self.token and hmac.compare_digest(in_url.encode(), self.token.encode()):
            return in_url
        match = self.auth_header_pat.match(handler.request.headers.get("Authorization", ""))
        return match.group(2).strip() if match else None

    def _cookie_value(self, handler) -> dict | None:
        raw = handler.get_secure_cookie(self.get_cookie_name(handler), **self.get_secure_cookie_kwargs)
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def _cookie_user(self, handler) -> MLAppUser | None:
        value = self._cookie_value(handler)
        user = None
        if value and value.get("owner") and hmac.compare_digest(str(value["owner"]), self._token_digest()):
            user = self.owner()
        elif value and isinstance(value.get("u"), str):
            account = self.store.get(value["u"])
            if account and not account.disabled and account.generation == value.get("g"):
                user = self.user_for(account)
        if user is None and handler.get_cookie(self.get_cookie_name(handler)) is not None:
            self.clear_login_cookie(handler)  # expired, logged out or disabled
        return user

    @staticmethod
    def user_for(account: Account) -> MLAppUser:
        return MLAppUser(account.username, account.display_name, account.display_name, role=account.role)

    def user_to_cookie(self, user: MLAppUser) -> str:
        if user.kind == "owner":
            return json.dumps({"owner": self._token_digest()})
        return json.dumps({"u": user.username, "g": self.store.get(user.username).generation})

    def get_user_cookie(self, handler):
        # Read against the store (Jupyter's user_from_cookie trusts the cookie's content alone).
        return self._cookie_user(handler)

    # -- signing in and out ----------------------------------------------------------------
    async def login(self, handler, username: str, password: str) -> MLAppUser:
        """Check a login attempt: the user, or LoginFailed / TooManyAttempts / InvalidInput.

        With no username, the password may be the server's token (as on Jupyter's login page).
        """
        address = handler.request.remote_ip
        # Malformed input cannot guess a password: refused before it counts.
        check_password_for_login(password)
        if username:
            username = normalize_username(username)
        # Counted now, before the hash: a burst of attempts is throttled like a sequence.
        self.throttle.admit(username, address)
        if not username:
            if self.token and hmac.compare_digest(password.encode(), self.token.encode()):
                self.throttle.success(None, address)
                return self.owner()
            raise InvalidInput("username is required")
        # argon2 takes a tenth of a second and much memory: off the event loop.
        account = await asyncio.get_running_loop().run_in_executor(None, self.store.authenticate, username, password)
        if account is None:
            handler.log.warning("Failed login for %r from %s", username, address)
            raise LoginFailed("Invalid username or password.")
        self.throttle.success(account.username, address)
        handler.log.info("User %s logged in from %s", account.username, address)
        return self.user_for(account)

    async def change_password(self, handler, current: str, new: str) -> None:
        """Change the signed-in user's password; their other logins end, this one stays."""
        user = handler.current_user
        if getattr(user, "kind", "account") != "account":
            raise InvalidInput("the server owner signs in with the server's token: there is no password to change")
        await self.login(handler, user.username, current)
        await asyncio.get_running_loop().run_in_executor(None, self.store.set_password, user.username, new)
        self.set_login_cookie(handler, user)
        handler.log.info("User %s changed their password", user.username)

    async def logout(self, handler) -> None:
        """End the user's logins everywhere, their app kernels and their app session."""
        user = handler.current_user
        self.clear_login_cookie(handler)
        if user is None:
            return
        if user.kind == "account":
            self.store.end_sessions(user.username)
        elif user.kind == "owner":
            self._owner_sessions = secrets.token_hex(16)
        await end_app_session(handler, user.username)
        handler.log.info("User %s logged out", user.username)


async def end_app_session(handler, username: str) -> None:
    """At logout: tell the rooms (the sessions room clears the user's app state) and stop the
    user's app kernels. The rooms are told through the hook ``MLApp`` puts in the settings, so the
    auth room depends on none of them."""
    on_logout = handler.settings.get("mlapp_on_logout")
    if on_logout is not None:
        await asyncio.to_thread(on_logout, username)
    await stop_kernels(handler, username, apps_only=True)


async def stop_kernels(handler, username: str, apps_only: bool = False) -> None:
    """Shut down the kernels started for ``username`` (logout: its apps'; disabled: all)."""
    km = handler.kernel_manager
    kernels_of = getattr(km, "kernels_of", None)
    await asyncio.gather(
        *(km.shutdown_kernel(kid, now=True) for kid in (kernels_of(username, apps_only) if kernels_of else ()))
    )
