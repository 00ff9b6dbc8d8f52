"""jupyter-mlapp: ship ML applications from Jupyter.

The notebook API lives in the rooms (``jupyter_mlapp.data``, ``jupyter_mlapp.jobs``, ...); this
module holds the version, who is using the app, and the Jupyter extension points.
"""
from __future__ import annotations

import getpass
import os

__version__ = "0.1.0"

USER_ENV = "MLAPP_USER"


def current_user() -> str:
    """The user this kernel works for.

    The server decides it and hands it to the kernel's environment; a kernel started outside
    jupyter-mlapp works for the local account.
    """
    return os.environ.get(USER_ENV) or getpass.getuser()


def _jupyter_server_extension_points():
    from .extension import MLApp

    return [{"module": "jupyter_mlapp", "app": MLApp}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-mlapp"}]
