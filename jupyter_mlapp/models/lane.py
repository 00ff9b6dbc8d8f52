"""The model server's prediction lane: ``POST .../predict`` with an API token, without a handler.

Measured on a worker of ``jupyter mlapp serve`` answering a tiny model: the prediction itself was
about a tenth of its time; Tornado's and Jupyter's handler machinery the rest (a handler object,
its default headers and cookies, ``prepare``'s checks for browsers, the response's flush, the
request's log). A script's request needs none of that for browsers, so the worker's HTTP server
gives each request to this lane first. It takes one only when the handler would do nothing more
than the lane does:

- ``POST`` to the predict path, no query, a JSON body of a declared length within the limit;
- ``Authorization: token ...`` that the server's identity provider (``user_for_token``) knows, for
  a user its authorizer lets execute models: the same two objects every handler asks;
- no ``Origin`` (a browser's cross-origin request: CORS stays the handler's), and a ``Host`` the
  server needs no check for (remote access allowed, or a loopback name).

Anything else, and any refusal (401, 403, 413, the login throttle's), goes to the handlers as
before. The lane answers with the manager's own ``ModelService.predict`` (its micro-batcher and
its errors), the handler's default headers (read once from a real ``PredictHandler``) and the
API's error body; it counts in the server's request histogram (``/metrics``) and logs what the
handlers would show.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from jupyter_server._tz import utcnow
from jupyter_server.prometheus.metrics import HTTP_REQUEST_DURATION_SECONDS
from tornado import httputil

from ..errors import MLAppError, ServerBusy
from ..web import API_PREFIX, error_body, json_object
from .handlers import PredictHandler
from .service import ModelService

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
HANDLER = f"{PredictHandler.__module__}.{PredictHandler.__name__}"  # its label in /metrics


class PredictionLane(httputil.HTTPServerConnectionDelegate):
    """The HTTP server's delegate in front of the web application (``install``)."""

    def __init__(
        self,
        web_app,
        service: ModelService,
        path: str,
        max_body: int,
        routed: Callable[[Any], None],
        answered: Callable[[Any], None],
        log: logging.Logger,
    ):
        self.web_app = web_app
        self.log = log  # the server's, where the handlers log their requests
        self.service = service
        self.path = path
        self.max_body = max_body
        self.routed, self.answered = routed, answered  # the worker's count of requests in flight
        settings = web_app.settings
        self.identity = settings["identity_provider"]
        self.authorizer = settings["authorizer"]
        self.hosts = None if settings.get("allow_remote_access") else LOOPBACK_HOSTS | set(settings["local_hostnames"])
        self.headers = self._handler_headers()
        self.tasks: set[asyncio.Task] = set()

    @classmethod
    def install(cls, http_server, web_app, service, max_body, routed, answered, log) -> PredictionLane | None:
        """Put a lane in front of ``web_app`` when the server's identity provider and authorizer
        can be asked without a handler (ours, with no published-apps gate: the model server's)."""
        identity, authorizer = web_app.settings.get("identity_provider"), web_app.settings.get("authorizer")
        if not hasattr(identity, "user_for_token") or not hasattr(authorizer, "decide"):
            return None
        if getattr(authorizer, "app_gate", None) is not None:
            return None
        path = web_app.settings.get("base_url", "/").rstrip("/") + API_PREFIX + "/models/predict"
        lane = cls(web_app, service, path, max_body, routed, answered, log)
        http_server.request_callback = lane
        return lane

    def _handler_headers(self) -> dict[str, str]:
        """The default headers the handler sets (security headers, CSP), from a handler made for a
        request that is never served: whatever the settings and the policy add, the lane sends too."""

        class Unconnected:
            def set_close_callback(self, callback):
                pass

        request = httputil.HTTPServerRequest("POST", self.path, connection=Unconnected())
        route = self.web_app.find_handler(request)
        handler = route.handler_class(self.web_app, request, **route.handler_kwargs)
        headers = dict(handler._headers.get_all())  # (Tornado keeps them there, with no getter)
        for name in ("Date", "Content-Type"):  # set per response
            headers.pop(name, None)
        return headers

    def start_request(self, server_conn, request_conn):
        return _Dispatch(self, server_conn, request_conn)

    def on_close(self, server_conn):
        self.web_app.on_close(server_conn)

    def user_for(self, start_line, headers) -> Any:
        """The user the lane answers for, or None: the handlers take the request."""
        if start_line.method != "POST" or start_line.path != self.path or "Origin" in headers:
            return None
        if headers.get("Content-Type", "").split(";", 1)[0].strip().lower() != "application/json":
            return None
        length = headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > self.max_body:
            return None
        if "Transfer-Encoding" in headers or "Content-Encoding" in headers:
            return None
        if self.hosts is not None and _hostname(headers.get("Host", "")) not in self.hosts:
            return None
        match = self.identity.auth_header_pat.match(headers.get("Authorization", ""))
        user = self.identity.user_for_token(match.group(2).strip()) if match else None
        if user is None or not self.authorizer.decide(None, user, "execute", "mlapp:models"):
            return None
        return user

    def answer(self, prediction: _Prediction) -> None:
        task = asyncio.get_running_loop().create_task(prediction.answer())
        self.tasks.add(task)  # (the loop keeps only a weak reference)
        task.add_done_callback(self.tasks.discard)


def _hostname(host: str) -> str:
    if host.startswith("["):  # [::1]:8888
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


_dated: tuple[int, str] = (0, "")


def _date() -> str:
    """The Date header: made once a second, not per response."""
    global _dated
    now = int(time.time())
    if _dated[0] != now:
        _dated = (now, httputil.format_timestamp(now))
    return _dated[1]


class _Dispatch(httputil.HTTPMessageDelegate):
    """One request: to the lane, or to the web application's router, decided by its headers."""

    def __init__(self, lane: PredictionLane, server_conn, request_conn):
        self.lane, self.server_conn, self.request_conn = lane, server_conn, request_conn
        self.delegate: httputil.HTTPMessageDelegate | None = None

    def headers_received(self, start_line, headers):
        user = self.lane.user_for(start_line, headers)
        if user is None:
            self.delegate = self.lane.web_app.start_request(self.server_conn, self.request_conn)
        else:
            self.delegate = _Prediction(self.lane, self.request_conn, user)
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk):
        assert self.delegate is not None  # (Tornado gives the headers first)
        return self.delegate.data_received(chunk)

    def finish(self):
        assert self.delegate is not None
        self.delegate.finish()

    def on_connection_close(self):
        if self.delegate is not None:
            self.delegate.on_connection_close()


class _Prediction(httputil.HTTPMessageDelegate):
    def __init__(self, lane: PredictionLane, connection, user):
        self.lane, self.connection, self.user = lane, connection, user
        self.chunks: list[bytes] = []
        self.started = time.perf_counter()
        self.closed = self.done = False

    def headers_received(self, start_line, headers):
        self.connection.set_max_body_size(self.lane.max_body)
        self.lane.routed(self)

    def data_received(self, chunk):
        self.chunks.append(chunk)

    def finish(self):
        self.lane.answer(self)

    def on_connection_close(self):
        self.closed = True  # its client left: the answer goes nowhere
        self._answered()

    def _answered(self) -> None:
        if not self.done:
            self.done = True
            self.lane.answered(self)

    async def answer(self) -> None:
        status, extra = 200, {}
        try:
            fields = json_object(b"".join(self.chunks))
            name = self.user.username
            body = json.dumps(await self.lane.service.predict(name, name, fields), default=str)
        except MLAppError as exc:
            status = exc.status
            if isinstance(exc, ServerBusy):
                extra["Retry-After"] = str(exc.retry_after)
            body = json.dumps(error_body(exc.message, httputil.responses.get(status, "Unknown"), exc.detail))
            self.lane.log.info("POST %s: %s", self.lane.path, exc)
        except Exception:  # as the handlers answer: a 500 whose details are in the log only
            status = 500
            self.lane.log.exception("POST %s failed", self.lane.path)
            message = "internal server error; the server log has the details"
            body = json.dumps(error_body(message, "Internal Server Error"))
        if self.closed:
            return
        self.lane.web_app.settings["api_last_activity"] = utcnow()  # as Jupyter's API handlers record
        data = body.encode()
        headers = httputil.HTTPHeaders(self.lane.headers)
        headers.update(extra)
        headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(data))
        headers["Date"] = _date()
        self._answered()  # its last bytes are handed to be written now (the handoff's IDLE)
        reason = httputil.responses.get(status, "Unknown")
        self.connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", status, reason), headers, data)
        self.connection.finish()
        took = time.perf_counter() - self.started
        HTTP_REQUEST_DURATION_SECONDS.labels(method="POST", handler=HANDLER, status_code=status).observe(took)
        level = logging.DEBUG if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        if self.lane.log.isEnabledFor(level):  # (a record nobody is shown is not made)
            self.lane.log.log(level, "%d POST %s (%s) %.2fms", status, self.lane.path, self.user.username, 1000 * took)
