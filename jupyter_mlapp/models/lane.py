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

A connection (not over TLS) whose first request is the lane's is read and answered by the lane
itself (``_Connection``), without Tornado's ``HTTP1Connection``, which took about half of such a
request's time: each request is looked at in the kernel's buffer (``MSG_PEEK``) before any of it is
read, recognized only in its plainest form (``REQUEST_HEAD``), and answered with one ``send``. The
first request that is not the lane's, or not in that form, is left in the buffer and the
connection goes to Tornado as it is, for good: Tornado parses everything else, as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import time
from collections.abc import Callable
from typing import Any

from jupyter_server._tz import utcnow
from jupyter_server.prometheus.metrics import HTTP_REQUEST_DURATION_SECONDS
from tornado import httputil
from tornado.ioloop import PeriodicCallback

from ..errors import MLAppError, ServerBusy
from ..web import API_PREFIX, error_body, json_object
from .handlers import PredictHandler
from .service import ModelService

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
HANDLER = f"{PredictHandler.__module__}.{PredictHandler.__name__}"  # its label in /metrics
# The most of a connection's waiting bytes looked at for a request's headers: a script's are far
# shorter, and a request whose headers are not all there yet goes to Tornado.
PEEK_BYTES = 8192
# A request a lane connection reads itself, after its start line: header lines of visible ASCII,
# none folded, every line ended by CRLF, then an empty line. Anything else is Tornado's to parse
# (and to refuse), so no request is framed differently by the two.
HEADER_LINES = rb"((?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e]*\r\n)*)\r\n"
# The most read at once (a body may be up to the server's limit, of many megabytes).
READ_BYTES = 1 << 16
# How often idle lane connections are looked for (Tornado's own limit is ``header_timeout``).
IDLE_CHECK_SECONDS = 60


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
        self.head_lines = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        self.request_head = re.compile(rb"POST " + re.escape(path.encode()) + rb" HTTP/1\.1\r\n" + HEADER_LINES)
        self.tasks: set[asyncio.Task] = set()
        self.connections: set[_Connection] = set()  # the lane's own, open
        self.idle_seconds = 3600.0

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
        if http_server.ssl_options is None:  # (over TLS, every byte is the SSL stream's to read)
            lane.idle_seconds = http_server.conn_params.header_timeout
            to_tornado = http_server.handle_stream

            def handle_stream(stream, address):
                _Connection(lane, stream, to_tornado, address)

            http_server.handle_stream = handle_stream
            PeriodicCallback(lane.close_idle, IDLE_CHECK_SECONDS * 1000).start()
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

    def user_for(self, method: str, path: str, headers) -> Any:
        """The user the lane answers for, or None: the handlers take the request. ``headers`` maps
        names as Tornado writes them (``Content-Type``) to values."""
        if method != "POST" or path != self.path or "Origin" in headers:
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

    def recognize(self, head: bytes) -> tuple[Any, int] | None:
        """The user and body length of a request a lane connection answers, from its header block
        (start line to empty line), or None: Tornado takes the connection."""
        match = self.request_head.fullmatch(head)
        if match is None:
            return None
        headers = {}
        for line in match.group(1).split(b"\r\n")[:-1]:
            name, _, value = line.partition(b":")
            key = name.decode().title()  # (Tornado's spelling, for ASCII names: content-type, Content-Type)
            if key in headers:  # a repeated header: Tornado's rules join or refuse it
                return None
            headers[key] = value.strip(b" \t").decode()
        if (
            "Expect" in headers
            or "Upgrade" in headers
            or headers.get("Connection", "keep-alive").lower() != "keep-alive"
        ):
            return None
        user = self.user_for("POST", self.path, headers)
        return None if user is None else (user, int(headers["Content-Length"]))

    def answer(self, prediction: _Prediction | _Request) -> None:
        task = asyncio.get_running_loop().create_task(prediction.answer())
        self.tasks.add(task)  # (the loop keeps only a weak reference)
        task.add_done_callback(self.tasks.discard)

    async def respond(self, user, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """A prediction's status, extra headers and body, as the handler would answer."""
        status, extra = 200, {}
        try:
            fields = json_object(body)
            answer = json.dumps(await self.service.predict(user.username, user.username, fields), default=str)
        except MLAppError as exc:
            status = exc.status
            if isinstance(exc, ServerBusy):
                extra["Retry-After"] = str(exc.retry_after)
            answer = json.dumps(error_body(exc.message, httputil.responses.get(status, "Unknown"), exc.detail))
            self.log.info("POST %s: %s", self.path, exc)
        except Exception:  # as the handlers answer: a 500 whose details are in the log only
            status = 500
            self.log.exception("POST %s failed", self.path)
            message = "internal server error; the server log has the details"
            answer = json.dumps(error_body(message, "Internal Server Error"))
        return status, extra, answer.encode()

    def response_head(self, status: int, extra: dict[str, str], length: int) -> bytes:
        """A lane connection's response line and headers: the handler's, then this response's."""
        reason = httputil.responses.get(status, "Unknown")
        own = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
        return (
            f"HTTP/1.1 {status} {reason}\r\n{self.head_lines}{own}Content-Type: application/json\r\n"
            f"Content-Length: {length}\r\nDate: {_date()}\r\n\r\n"
        ).encode("latin-1")

    def record(self, status: int, started: float, user) -> None:
        """What the handlers record of a request they answered: activity, the histogram, the log."""
        self.web_app.settings["api_last_activity"] = utcnow()  # as Jupyter's API handlers record
        took = time.perf_counter() - started
        HTTP_REQUEST_DURATION_SECONDS.labels(method="POST", handler=HANDLER, status_code=status).observe(took)
        level = logging.DEBUG if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        if self.log.isEnabledFor(level):  # (a record nobody is shown is not made)
            self.log.log(level, "%d POST %s (%s) %.2fms", status, self.path, user.username, 1000 * took)

    def close_idle(self) -> None:
        """Close the lane's connections idle, or still reading a request, for longer than Tornado
        lets its own wait for a request's headers (a request being answered is left alone)."""
        limit = asyncio.get_running_loop().time() - self.idle_seconds
        waiting = [c for c in self.connections if (c.request is None or c.request.missing) and c.since < limit]
        for connection in waiting:
            connection.close()

    def close_all(self) -> None:
        """On stop, once the requests in flight are answered: Tornado closes its own connections."""
        for connection in list(self.connections):
            connection.close()


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
        user = self.lane.user_for(start_line.method, start_line.path, headers)
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
        status, extra, data = await self.lane.respond(self.user, b"".join(self.chunks))
        if self.closed:
            return
        headers = httputil.HTTPHeaders(self.lane.headers)
        headers.update(extra)
        headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(data))
        headers["Date"] = _date()
        self._answered()  # its last bytes are handed to be written now (the handoff's IDLE)
        reason = httputil.responses.get(status, "Unknown")
        self.connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", status, reason), headers, data)
        self.connection.finish()
        self.lane.record(status, self.started, self.user)


class _Connection:
    """A connection the lane reads and answers itself: each request is looked at in the kernel's
    buffer first, and the first that is not the lane's is left there, the connection handed to
    Tornado (``to_tornado``) as it is. One request at a time: the next is looked at once the
    answer is sent. ``stream`` is Tornado's, unread: it holds the socket (and the handoff's mark
    and close) and is what Tornado gets."""

    def __init__(self, lane: PredictionLane, stream, to_tornado, address):
        self.lane, self.stream, self.to_tornado, self.address = lane, stream, to_tornado, address
        self.socket: socket.socket = stream.socket
        self.fd = self.socket.fileno()
        self.loop = asyncio.get_running_loop()
        self.request: _Request | None = None  # the one being read or answered
        self.unsent = memoryview(b"")
        self.since = self.loop.time()  # of the last request (for the idle check)
        self.closed = False
        lane.connections.add(self)
        self.loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        try:
            if self.request is None:
                self._look()
            else:
                self._read_body(self.request)
        except BlockingIOError:  # (woken with nothing to read after all)
            pass
        except OSError:  # reset by its client
            self.close()

    def _look(self) -> None:
        waiting = self.socket.recv(PEEK_BYTES, socket.MSG_PEEK)
        if not waiting:
            self.close()  # its client closed it
            return
        end = waiting.find(b"\r\n\r\n")
        taken = self.lane.recognize(waiting[: end + 4]) if end >= 0 else None
        if taken is None:
            self.loop.remove_reader(self.fd)
            self.lane.connections.discard(self)
            self.to_tornado(self.stream, self.address)
            return
        self.since = self.loop.time()
        request = self.request = _Request(self, *taken)
        self.lane.routed(request)
        data = self.socket.recv(min(end + 4 + request.length, READ_BYTES))  # its headers and what came of its body
        request.chunks.append(data[end + 4 :])
        request.missing -= len(data) - end - 4
        self._read_body(request) if request.missing else self._answer(request)

    def _read_body(self, request: _Request) -> None:
        data = self.socket.recv(min(request.missing, READ_BYTES))
        if not data:
            self.close()
            return
        request.chunks.append(data)
        request.missing -= len(data)
        if not request.missing:
            self._answer(request)

    def _answer(self, request: _Request) -> None:
        self.loop.remove_reader(self.fd)  # (the next request is looked at once this one's answer is sent)
        self.lane.answer(request)

    def send(self, data: bytes) -> None:
        try:
            sent = self.socket.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.close()
            return
        if sent < len(data):
            self.unsent = memoryview(data)[sent:]
            self.loop.add_writer(self.fd, self._writable)
        else:
            self._next()

    def _writable(self) -> None:
        try:
            sent = self.socket.send(self.unsent)
        except BlockingIOError:
            return
        except OSError:
            self.close()
            return
        self.unsent = self.unsent[sent:]
        if not self.unsent:
            self.loop.remove_writer(self.fd)
            self._next()

    def _next(self) -> None:
        self.request = None
        self.since = self.loop.time()
        self.loop.add_reader(self.fd, self._readable)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.fd)
        self.loop.remove_writer(self.fd)
        self.lane.connections.discard(self)
        if self.request is not None:
            self.request.answered()
        self.stream.close()  # (the handoff's close: the connection is shut down, then closed)


class _Request:
    """A request a lane connection answers: what the worker's count and marks need of a request
    (``connection.stream``), its user and its body."""

    def __init__(self, connection: _Connection, user, length: int):
        self.connection, self.user, self.length = connection, user, length
        self.missing = length
        self.chunks: list[bytes] = []
        self.started = time.perf_counter()
        self.done = False

    def answered(self) -> None:
        if not self.done:
            self.done = True
            self.connection.lane.answered(self)

    async def answer(self) -> None:
        lane, connection = self.connection.lane, self.connection
        status, extra, data = await lane.respond(self.user, b"".join(self.chunks))
        if connection.closed:
            return
        head = lane.response_head(status, extra, len(data))
        self.answered()  # its last bytes are handed to be written now (the handoff's IDLE)
        connection.send(head + data)
        lane.record(status, self.started, self.user)
