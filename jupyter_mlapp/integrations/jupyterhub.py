"""Under JupyterHub the Hub's user is the identity, and our login page steps aside.

JupyterHub starts each user's server with ``jupyterhub-singleuser`` (or, if the Spawner says so,
``jupyter mlapp``, which then loads the Hub's extension too). The Hub's extension signs requests
in with the Hub's OAuth; ``use_hub`` keeps our roles on top of it and gives the server the classes
``jupyter mlapp`` would have (the kernel's user, the Authorizer, ...), which
``jupyterhub-singleuser`` alone does not read.

Roles of the Hub's users on a server:

- its owner (``$JUPYTERHUB_USER``) and the Hub's admins: ``admin``;
- another Hub user the Hub lets in (a Hub role with ``access:servers!server=<owner>/``): the role
  of their jupyter-mlapp account of the same name (``jupyter mlapp user add NAME --role=R
  --no-password``), refused if it is disabled; with no account, the highest role their Hub groups
  give (``MLAppHubIdentityProvider.group_roles``), else ``default_role`` (``viewer``: the apps only).
"""

from __future__ import annotations

import os

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider, JupyterHubLogoutHandler
from tornado import web
from traitlets import Dict, Enum, Unicode
from traitlets.config import Config

from ..auth.identity import AccountRoles, MLAppUser, end_app_session
from ..auth.store import ROLES

WRITTEN_FOR = {"jupyterhub": ">=5,<7", "jupyter_server": ">=2.14,<3"}

# What `jupyter mlapp` sets (jupyter_config.py) that a server spawned by the Hub needs as well:
# whose each kernel is, the role check on every route, no route left open by mistake.
SERVER_SETTINGS = (
    "authorizer_class",
    "kernel_manager_class",
    "kernel_websocket_connection_class",
    "kernel_spec_manager_class",
    "allow_unauthenticated_access",
)


class HubLogoutPage(JupyterHubLogoutHandler):
    """The Hub's logout, after ending the user's app session and app kernels here."""

    @allow_unauthenticated  # signed out already: on to the Hub's logout all the same
    async def get(self):
        user = self.current_user
        if user is not None:
            await end_app_session(self, user.username)
        await ensure_async(super().get())


class MLAppHubIdentityProvider(AccountRoles, JupyterHubIdentityProvider):
    """The Hub's user, with a role (see the module's text)."""

    default_role = Enum(
        ROLES,
        default_value="viewer",
        help="The role of a Hub user let in to this server who has no jupyter-mlapp "
        "account here (its owner and the Hub's admins are admins).",
    ).tag(config=True)

    group_roles = Dict(
        value_trait=Enum(ROLES),
        key_trait=Unicode(),
        default_value={},
        help="Roles given by Hub groups, e.g. {'ml-team': 'editor'}, to Hub users let in to "
        "this server who have no jupyter-mlapp account here; the highest applies.",
    ).tag(config=True)

    logout_handler_class = HubLogoutPage

    async def get_user(self, handler: web.RequestHandler) -> MLAppUser | None:
        if getattr(handler, "_jupyter_current_user", None):
            return handler._jupyter_current_user
        hub_user = await super().get_user(handler)  # None unless the Hub lets this user in
        if hub_user is None:
            return None
        role = self.role_of(hub_user.username, hub_user.hub_user)
        if role is None:
            handler.current_user = handler._jupyter_current_user = None  # the error page asks again
            raise web.HTTPError(403, f"The jupyter-mlapp account {hub_user.username} is disabled on this server.")
        user = MLAppUser(hub_user.username, hub_user.name, hub_user.display_name, role=role, kind="hub")
        user.hub_user = hub_user.hub_user  # as on JupyterHub's user, for code that reads it
        return self.admit(handler, user)

    def role_of(self, name: str, hub_model: dict) -> str | None:
        """The role of a Hub user on this server; None: refused (a disabled account)."""
        if name == os.environ.get("JUPYTERHUB_USER") or hub_model.get("admin"):
            return "admin"
        account = self.store.get(name)
        if account is not None:
            return None if account.disabled else account.role
        given = [self.group_roles[g] for g in hub_model.get("groups") or () if g in self.group_roles]
        return min(given, key=ROLES.index) if given else self.default_role  # ROLES: highest first


def use_hub(serverapp, defaults: Config) -> None:
    """Set up a server spawned by JupyterHub: the Hub's login with our roles, and from our
    ``defaults`` (``jupyter_config.py``) the server classes and settings the config left unset."""
    for name in SERVER_SETTINGS:
        if name not in serverapp.config.ServerApp:
            setattr(serverapp, name, defaults.ServerApp[name])
    serverapp.config.VoilaConfiguration = Config({**defaults.VoilaConfiguration, **serverapp.config.VoilaConfiguration})

    def keep_ours(change):
        # The Hub's extension links after ours (extensions link in name order) and names its own
        # IdentityProvider; so may extensions linking later, copying the config. Ours extends it.
        if not issubclass(change.new, MLAppHubIdentityProvider):
            serverapp.identity_provider_class = MLAppHubIdentityProvider

    serverapp.identity_provider_class = MLAppHubIdentityProvider
    serverapp.observe(keep_ours, "identity_provider_class")
