"""jupyter-mlapp: ship ML applications from Jupyter.

The notebook API lives in the rooms (``jupyter_mlapp.data``, ``jupyter_mlapp.jobs``, ...); this
module holds the version, who is using the app, and the Jupyter extension points.
"""

from __future__ import annotations

from . import settings

try:  # written when the package is built or installed, from labextension/package.json
    from ._version import __version__
except ImportError:  # a source checkout that was never installed
    __version__ = "0.0.0+unknown"


def current_user() -> str:
    """The user this kernel works for.

    The server sets it in the kernel's environment from the signed-in user of the request that
    started the kernel (``jupyter_mlapp.auth.kernels``); nothing the browser sends changes it. A
    kernel started outside jupyter-mlapp works for the local account.
    """
    return settings.USER.get()


def current_role() -> str:
    """The role of ``current_user()``: ``admin``, ``editor`` or ``viewer``.

    Apps use it to offer, say, "Open in JupyterLab" to editors and admins only. Outside
    jupyter-mlapp the local account owns everything: ``admin``.
    """
    return settings.ROLE.get()


def _jupyter_server_extension_points():
    from .extension import MLApp

    return [{"module": "jupyter_mlapp", "app": MLApp}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-mlapp"}]
