"""Which page to show, and keeping the browser's URL in step, without a reload.

In Voila every page load starts a kernel whose environment carries the request
(``QUERY_STRING``, ``SCRIPT_NAME``): that is how a deep link ``?page=Monitor`` reaches the app.
Navigating writes ``?page=...`` back with ``history.replaceState`` (a same-document change, so
nothing reloads and the token, XSRF cookie and CSP stay as they are).
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, unquote

PAGE_PARAM = "page"
VOILA_PREFIX = "voila/render/"


def in_voila() -> bool:
    """Is this kernel serving a Voila page (rather than a notebook in JupyterLab)?"""
    return "VOILA_BASE_URL" in os.environ or "VOILA_REQUEST_URL" in os.environ


def requested_page() -> str | None:
    """The ``?page=`` of the URL this Voila app was opened with, if any."""
    values = parse_qs(os.environ.get("QUERY_STRING", "")).get(PAGE_PARAM)
    return values[0] if values else None


def notebook_path() -> str | None:
    """The notebook this kernel runs, relative to the server's root: Voila's request path after
    ``voila/render/``, or the notebook JupyterLab opened (``JPY_SESSION_NAME``)."""
    script = os.environ.get("SCRIPT_NAME", "")
    if in_voila() and VOILA_PREFIX in script:
        return unquote(script.split(VOILA_PREFIX, 1)[1])
    session = os.environ.get("JPY_SESSION_NAME")
    return session.lstrip("/") if session and session.endswith(".ipynb") else None


def replace_url_script(page: str) -> str:
    """JavaScript that sets ``?page=<page>`` in the address bar, keeping the other parameters."""
    return (
        "(() => { const url = new URL(window.location.href);"
        f" url.searchParams.set({json.dumps(PAGE_PARAM)}, {json.dumps(page)});"
        " window.history.replaceState(window.history.state, '', url); })();"
    )
