"""Who may do what: role x resource x action, for every route the server serves.

- ``admin`` may do everything (the holder of the server's token is an admin: the owner).
- ``editor`` may do everything but manage users and shut the server down.
- ``viewer`` uses the Voila apps: what ``viewer_permissions`` lists, plus the kernels of the apps
  they opened. No JupyterLab, no terminals, no contents writes, no other kernels.

Jupyter calls ``is_authorized`` from handlers decorated ``@authorized``; JupyterLab's and Voila's
pages only require a login, so the IdentityProvider asks ``check_route`` for those on every request
(``identity.py``), and the same table decides.
"""

from __future__ import annotations

from jupyter_server.auth import Authorizer
from jupyter_server.auth.utils import HTTP_METHOD_TO_AUTH_ACTION
from tornado import web
from traitlets import Dict, List, Unicode

from ..web import MLAppHandler

ALL = ("read", "write", "execute")

# Jupyter pages without an auth_resource, named by the first part of their path.
PAGE_RESOURCES = {
    "lab": "lab",
    "tree": "lab",
    "notebooks": "lab",
    "edit": "lab",
    "doc": "lab",
    "consoles": "lab",
    "voila": "voila",
    "static": "static",
    "api": "api",
}


# Rebuilding JupyterLab and installing extensions change the server for everyone: they are the
# server's, whose writes are admins' only (``admin_only``), as shutting it down.
SERVER_PATHS = ("lab/api/build", "lab/api/extensions")


def is_ours(handler) -> bool:
    return isinstance(handler, MLAppHandler) or type(handler).__module__.startswith("jupyter_mlapp.")


def resource_of(handler, resource: str | None = None) -> str:
    """The resource a request is for: ``mlapp:<room>`` for ours, ``kernels`` for anything that
    addresses a kernel, Jupyter's ``auth_resource``, else the kind of page its path names
    (``lab``, ``voila``, ...)."""
    resource = resource or getattr(handler, "auth_resource", None)
    if is_ours(handler):
        return f"mlapp:{resource or 'mlapp'}"
    if kernel_id_of(handler) is not None:
        return "kernels"
    if resource:
        return resource
    base = handler.settings.get("base_url", "/")
    path = handler.request.path[len(base) :] if handler.request.path.startswith(base) else handler.request.path
    path = path.strip("/")
    if any(path == p or path.startswith(p + "/") for p in SERVER_PATHS):
        return "server"
    return PAGE_RESOURCES.get(path.split("/", 1)[0], "other")


def kernel_id_of(handler) -> str | None:
    """The kernel a request addresses, if any (Jupyter's kernel API and Voila's shutdown)."""
    kernel_id = (getattr(handler, "path_kwargs", None) or {}).get("kernel_id")
    if (
        kernel_id is None
        and type(handler).__name__ == "VoilaShutdownKernelHandler"
        and getattr(handler, "path_args", None)
    ):
        kernel_id = handler.path_args[0]
    return kernel_id


class MLAppAuthorizer(Authorizer):
    viewer_permissions = Dict(
        value_trait=List(Unicode()),
        default_value={
            "voila": list(ALL),  # the apps
            "static": ["read"],
            "api": ["read"],  # /api/status, /api/me
            "contents": ["read"],  # Voila's file list and app files
            "kernelspecs": ["read"],
            "config": ["read"],
            "csp": ["write"],  # the browser's CSP violation reports
            "mlapp:*": ["read"],  # every room's read API (rooms filter by user)
            "mlapp:auth": list(ALL),  # their own account: password, API tokens, logout
            "mlapp:sessions": list(ALL),
            "mlapp:models": ["read", "execute"],
        },
        help="What a viewer may do, as {resource: [actions]}. Resources are Jupyter's (contents, "
        "kernels, terminals, ...), page kinds (lab, voila, static) and 'mlapp:<room>' for "
        "jupyter-mlapp's REST API ('mlapp:*' for every room). A viewer's own Voila kernels are "
        "always allowed.",
    ).tag(config=True)

    admin_only = Dict(
        value_trait=List(Unicode()),
        default_value={"mlapp:users": list(ALL), "mlapp:appkernels": list(ALL), "server": ["write"]},
        help="What only admins may do, as {resource: [actions]}: managing users and app kernels, "
        "shutting the server down.",
    ).tag(config=True)

    app_gate = None  # set by the apps room: apps.enforce.AppGate

    def is_authorized(self, handler, user, action: str, resource: str) -> bool:
        return self.decide(handler, user, action, resource_of(handler, resource))

    def check_route(self, handler, user) -> None:
        """403 unless ``user`` may make this request, for the routes that never ask the Authorizer
        (JupyterLab's and Voila's: they have no ``auth_resource``). The others ask it themselves,
        with the action they mean (a prediction is "execute", not the POST's "write")."""
        if getattr(handler, "auth_resource", None):
            return
        action = HTTP_METHOD_TO_AUTH_ACTION.get(handler.request.method, "write")
        if not self.decide(handler, user, action, resource_of(handler)):
            role = getattr(user, "role", None)
            raise web.HTTPError(403, f"Your role ({role}) does not allow this page or action.")

    def decide(self, handler, user, action: str, resource: str) -> bool:
        role = getattr(user, "role", None)
        if role == "admin":
            return True
        if action in self.admin_only.get(resource, ()):
            return False
        # Published apps decide which notebooks run and which files a viewer reads (apps/enforce.py).
        verdict = self.app_gate(handler, user, action, resource) if self.app_gate else None
        if verdict is not None:
            return verdict
        if resource == "kernels":
            return self._kernel_allowed(handler, user, role)
        if role == "editor":
            return True
        if role == "viewer":
            allowed = self.viewer_permissions.get(resource)
            if allowed is None and resource.startswith("mlapp:"):
                allowed = self.viewer_permissions.get("mlapp:*", ())
            return action in (allowed or ())
        return False  # an identity without a role we know

    @staticmethod
    def _kernel_allowed(handler, user, role) -> bool:
        kernel_id = kernel_id_of(handler)
        if kernel_id is None:  # list or start kernels: JupyterLab's business
            return role == "editor"
        owner_of = getattr(handler.kernel_manager, "owner_of", None)
        owner = owner_of(kernel_id) if owner_of else None
        if owner is None:  # a kernel started outside any request (or unknown): not a viewer's
            return role == "editor"
        return owner == user.username
