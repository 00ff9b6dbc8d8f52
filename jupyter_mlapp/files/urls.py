"""Links from a kernel to the server it runs under: Jupyter's authenticated ``/files/`` serving
and JupyterLab. The server hands kernels its base URL (``$MLAPP_BASE_URL``; Voila also sets
``$VOILA_BASE_URL``); outside a server there is nothing to link to and these return None.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, urlsplit

from .. import settings
from .manager import workspace_dir


def base_url() -> str | None:
    base = settings.BASE_URL.get() or os.environ.get("VOILA_BASE_URL")
    return base.rstrip("/") + "/" if base else None


def server_url() -> str | None:
    """The server's address as the browser reached it (``http://host:port/base/``), for code
    snippets that call the API from elsewhere; known inside a Voila app (from its request)."""
    request, base = os.environ.get("VOILA_REQUEST_URL"), base_url()
    if not request or base is None:
        return None
    parts = urlsplit(request)
    return f"{parts.scheme}://{parts.netloc}{base}"


def served_path(path: str | os.PathLike) -> str | None:
    """``path`` relative to the server's root (which ``/files/`` and JupyterLab serve), or None
    when it lies outside (or there is no server)."""
    if not settings.WORKSPACE.get():
        return None
    workspace = workspace_dir()
    path = Path(path)
    try:
        return (path if path.is_absolute() else workspace / path).resolve().relative_to(workspace).as_posix()
    except ValueError:
        return None


def files_url(path: str | os.PathLike, download: bool = False) -> str | None:
    """The ``/files/`` URL of a workspace file: opens in a new tab behind the server's login
    (static pages such as a licence, images, CSV), or downloads with ``download=True``."""
    base, served = base_url(), served_path(path)
    if base is None or served is None:
        return None
    return f"{base}files/{quote(served)}" + ("?download=1" if download else "")


def lab_url(notebook: str | None = None) -> str | None:
    """JupyterLab on the same workspace, with ``notebook`` (relative to the root) open."""
    base = base_url()
    if base is None:
        return None
    return f"{base}lab/tree/{quote(notebook)}" if notebook else f"{base}lab"
