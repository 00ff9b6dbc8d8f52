"""The base of every jupyter-mlapp REST handler: JSON in and out, errors as JSON, auth on."""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .errors import InvalidInput, MLAppError, NotFound, NotSignedIn, ServerBusy
from .home import is_locked
from .settings import truthy

API_PREFIX = "/mlapp/api"


class MLAppHandler(ExtensionHandlerMixin, APIHandler):
    """Thin handler over a manager.

    Subclasses decorate every verb with ``@web.authenticated`` and ``@authorized`` (from
    ``jupyter_server.auth.decorator``) and set ``auth_resource`` to their room's name, so the
    server's Authorizer decides per room and per verb.
    """

    auth_resource = "mlapp"

    def initialize(self, name: str, manager: Any = None, **kwargs: Any) -> None:
        super().initialize(name, **kwargs)
        self.manager = manager

    @property
    def mlapp(self):
        """The running ``MLApp`` extension: its settings and its managers."""
        return self.extensionapp

    @property
    def username(self) -> str:
        """Who is asking, as the server's IdentityProvider decided (never from the request body)."""
        return self.current_user.username

    @property
    def role(self) -> str | None:
        """The caller's role (admin, editor, viewer); None under a plain Jupyter login."""
        return getattr(self.current_user, "role", None)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    async def call(self, fn, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` off the event loop: a manager call that touches SQLite or the disk
        never stalls the other requests. A database another process holds locked is a 503 for this
        request (``Retry-After``), not a wait."""
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except Exception as exc:
            if is_locked(exc):
                raise ServerBusy(
                    "The data is being written by another process; try again in a moment.", retry_after=2
                ) from exc
            raise

    def check_xsrf_cookie(self) -> None:
        # A script that sent no credentials at all would otherwise hear about a missing '_xsrf'
        # argument: tell it what to send. (A browser's cookie without the XSRF value stays a 403.)
        credentials = self.request.headers.get("Authorization") or self.request.cookies
        if getattr(self, "_jupyter_current_user", "") is None and not credentials:
            raise NotSignedIn("not signed in: send `Authorization: token <API token>` (create one on /mlapp/account)")
        super().check_xsrf_cookie()

    # -- the request's arguments: each parser answers a 400 naming what is wrong -----------------------
    def json_body(self) -> dict:
        """The request body as a JSON object."""
        return json_object(self.request.body)

    def string_field(self, body: dict, name: str, what: str = "a string", default: str | None = None) -> str:
        """``body[name]`` when it is a string (``default`` when it is missing and one is given)."""
        value = body.get(name, default)
        if not isinstance(value, str):
            raise InvalidInput(f"'{name}' must be {what}")
        return value

    def bool_field(self, body: dict, name: str, default: bool = False) -> bool:
        """``body[name]`` when it is a JSON boolean."""
        value = body.get(name, default)
        if not isinstance(value, bool):
            raise InvalidInput(f"'{name}' must be true or false")
        return value

    def flag_argument(self, name: str) -> bool:
        """A query flag: ``?name=1`` (or true, yes, on) is set, anything else or nothing is not."""
        return truthy(self.get_query_argument(name, ""))

    def _number_argument(self, name: str, kind: type, what: str):
        """The query argument ``name`` read as ``kind`` (None when absent or empty)."""
        value = self.get_query_argument(name, None)
        if value in (None, ""):
            return None
        try:
            return kind(value)
        except ValueError as exc:
            raise InvalidInput(f"'{name}' must be {what}") from exc

    def int_argument(self, name: str, default: int | None = None, low: int | None = None, high: int | None = None):
        """A whole number in the query (``default`` when absent), within ``low``..``high`` when given."""
        number = self._number_argument(name, int, "a whole number")
        if number is None:
            return default
        if (low is not None and number < low) or (high is not None and number > high):
            raise InvalidInput(f"'{name}' must be between {low} and {high}")
        return number

    def float_argument(self, name: str) -> float | None:
        """A finite number in the query, or None when absent."""
        number = self._number_argument(name, float, "a number")
        if number is not None and not math.isfinite(number):
            raise InvalidInput(f"'{name}' must be a finite number")
        return number

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, default=str))

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, MLAppError):  # expected, already a clear 4xx: no traceback in the log
            self.log.info("%s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MLAppError):
            status_code = exc.status
        super().send_error(status_code, **kwargs)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Jupyter's error body, ``{"message": "...", "reason": "..."}`` (what JupyterLab's
        ``ServerConnection.ResponseError`` reads), plus ``detail`` (what the input got wrong, for a
        form to point at) and ``error``, the message under its old name for one release. Never a
        traceback, whatever the server settings."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        detail = None
        message: str | None
        if isinstance(exc, MLAppError):
            message, detail = exc.message, exc.detail
            if isinstance(exc, ServerBusy):
                self.set_header("Retry-After", str(exc.retry_after))
        elif isinstance(exc, web.HTTPError):
            message = exc.log_message % exc.args if exc.log_message and exc.args else exc.log_message
            message = message or self._reason
        elif status_code >= 500:
            message = "internal server error; the server log has the details"
        else:
            message = self._reason
        self.set_header("Content-Type", "application/json")
        reason = getattr(exc, "reason", None) or self._reason
        self.finish(json.dumps(error_body(message, reason, detail), default=str))


def json_object(body: bytes) -> dict:
    """A request body as a JSON object (none: an empty one), else a clear 400."""
    if not body:
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInput("request body must be a JSON object")
    return value


def error_body(message: str | None, reason: str, detail: Any = None) -> dict:
    """The API's error body (``MLAppHandler.write_error``; the model server's prediction lane)."""
    return {"message": message, "reason": reason, "detail": detail, "error": message}


class APINotFoundHandler(MLAppHandler):
    """Any path under ``/mlapp/api`` that no room serves: a JSON 404 (after authentication, so
    the list of routes is not probed anonymously)."""

    @web.authenticated
    def get(self):
        raise NotFound(f"no such endpoint: {self.request.path}")

    post = put = patch = delete = get


def json_content(schema: dict) -> dict:
    """The OpenAPI ``content`` of a JSON body with this schema."""
    return {"application/json": {"schema": schema}}


_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def openapi_path(route: str) -> str:
    """``/jobs/(?P<job_id>[^/]+)/log`` -> ``/jobs/{job_id}/log``: how a route is named in OpenAPI."""
    return _GROUP.sub(lambda m: "{" + m.group(1) + "}", route).rstrip("$")
