"""The auth room: accounts, roles and API tokens, under ``/mlapp/api/auth``; the login pages come
with our IdentityProvider (``identity.py``), the checks with our Authorizer (``authorizer.py``)."""

from __future__ import annotations

from urllib.parse import urlencode

from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop

from ..integrations.jupyterlab import answer_licenses_errors, keep_token_out_of_pages
from ..integrations.voila import answer_template_file_errors, explain_voila_errors, protect_voila_files
from ..rooms import Room
from .csp import apply_page_policies
from .handlers import (
    LoginHandler,
    LogoutHandler,
    MeHandler,
    PasswordHandler,
    TokenHandler,
    TokensHandler,
    UserHandler,
    UsersHandler,
)
from .identity import AccountRoles, MLAppIdentityProvider
from .openapi import openapi_paths
from .store import UserStore


def build(app) -> UserStore:
    provider = app.serverapp.identity_provider
    return UserStore(app.home_path, hasher=provider.hasher if isinstance(provider, AccountRoles) else None)


def connect(app, store: UserStore) -> None:
    provider = app.serverapp.identity_provider
    if isinstance(provider, AccountRoles):
        provider.store = store
    if isinstance(provider, MLAppIdentityProvider):  # under JupyterHub the Hub makes its users
        code = store.issue_setup_code()
        if code:
            IOLoop.current().add_callback(print_setup_link, app, code)
    keep_token_out_of_pages(app.serverapp.web_app)
    app.after_extensions_load(protect_voila_files)
    app.after_extensions_load(explain_voila_errors)
    app.after_extensions_load(answer_template_file_errors)
    app.after_extensions_load(answer_licenses_errors)
    app.after_extensions_load(apply_page_policies)


def print_setup_link(app, code: str) -> None:
    """Shown once at start while there is no account: never a default password."""
    link = url_path_join(app.serverapp.connection_url, "mlapp/setup") + "?" + urlencode({"code": code})
    app.log.warning(
        "No jupyter-mlapp accounts yet. Create the first admin with this one-time link "
        "(valid 24 hours, until used):\n\n    %s\n\n    or run: jupyter mlapp user add NAME --role=admin\n",
        link,
    )


ROUTES = (
    (r"/auth/login", LoginHandler),
    (r"/auth/logout", LogoutHandler),
    (r"/auth/me", MeHandler),
    (r"/auth/password", PasswordHandler),
    (r"/auth/tokens", TokensHandler),
    (r"/auth/tokens/(?P<token_id>[^/]+)", TokenHandler),
    (r"/auth/users", UsersHandler),
    (r"/auth/users/(?P<username>[^/]+)", UserHandler),
)


ROOM = Room("auth", build=build, routes=ROUTES, openapi=openapi_paths, connect=connect)
