"""A worker of ``jupyter mlapp serve`` hands its connections to the supervisor, so that a request
in flight when the worker dies is answered 503 instead of reset.

The kernel closes a dead process's sockets, and a client whose request was in flight would see its
connection reset. So each worker sends the supervisor a duplicate of every connection it accepts
(SCM_RIGHTS over the Unix socket pair on which it also says it listens; once per connection, not
per request, since clients keep connections alive), and marks what each connection is doing in a
page of memory the supervisor maps too, one byte per file descriptor number of the worker: IDLE
between requests, ROUTED from routing a request until its response starts to be written,
RESPONDING from then until its last bytes are handed to be written, IDLE again from there: a client
that has read a whole response and sends its next request at once must find IDLE, even though the
worker may not have logged the first one yet. The marks are plain memory writes: the request path
pays a few attribute lookups, no system call.

When a worker dies, the supervisor first reads what the worker sent before it died, then takes
each of its connections: ROUTED, or IDLE with a request waiting unread in the kernel, gets a
complete ``503`` (``Retry-After: 1``, ``Connection: close``, the API's error body); a response
already started is left as it is (a second one in its middle would garble it). Every one is then
closed, which its client sees as the connection's end, not a hang.

Since the supervisor holds a duplicate, a worker's close() alone would not end a TCP connection:
the worker shuts each connection down before it closes it, and the supervisor, which watches its
duplicates for that end only (EPOLLRDHUP and EPOLLHUP, never for input: it never reads a live
connection's data), then closes its duplicate. It holds at most what its open-files limit allows,
closing the oldest duplicate first (that connection is then simply not covered).

Over TLS (``--certfile``) the supervisor cannot write inside the encrypted stream, so a worker
hands over no TLS connection: when the worker dies, the kernel closes it, as it did before.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import mmap
import os
import resource
import select
import socket
import struct
import termios
import time
from functools import partial
from pathlib import Path

from tornado.web import OutputTransform

from ..web import error_body

# The worker's file descriptor numbers the page covers; a connection on a higher one is not covered.
PAGE_SIZE = 1 << 16
# The page's last byte: where the requests of a connection not (or no longer) covered are marked.
UNCOVERED = PAGE_SIZE
IDLE, ROUTED, RESPONDING = 0, 1, 2
# How long a connection answered 503 waits for its client to close, reading (and dropping) what
# the client still sends: closing on unread bytes would reset it and could lose the answer.
LINGER_SECONDS = 2.0
# Descriptors the supervisor keeps for itself (standard streams, epoll, log files) and per worker
# (its channel, its page).
RESERVED_FDS, RESERVED_FDS_PER_WORKER = 32, 4


class WorkerHandoff:
    """A worker's side: hands over each connection it accepts, marks its requests in the page."""

    def __init__(self, channel_fd: int, page_path: str):
        # Started with it (pass_fds made it inheritable); a process the worker starts must not
        # keep it open, since its end is how the supervisor learns at once that the worker died.
        os.set_inheritable(channel_fd, False)
        self.channel = socket.socket(fileno=channel_fd)
        self.channel.setblocking(False)  # (socket.send_fds ignores its flags before Python 3.12)
        with open(page_path, "r+b") as file:
            self.page = mmap.mmap(file.fileno(), PAGE_SIZE + 1)

    def tell_ready(self, message: dict) -> None:
        self.channel.send(json.dumps(message).encode())

    def install(self, http_server, web_app) -> None:
        """Hand over each connection the server accepts; mark each response as it starts."""
        accept = http_server.handle_stream
        tls = http_server.ssl_options is not None

        def handle_stream(stream, address):
            stream.mlapp_slot = UNCOVERED
            if not tls:
                self._hand_over(stream)
            return accept(stream, address)

        http_server.handle_stream = handle_stream
        web_app.add_transform(partial(MarkResponding, self.page))

    def _hand_over(self, stream) -> None:
        fd = stream.socket.fileno()
        if fd >= PAGE_SIZE:
            return
        try:
            socket.send_fds(self.channel, [fd.to_bytes(4, "little")], [fd])
        except OSError:  # the supervisor is behind (the pair's queue is full) or gone: not covered
            return
        stream.mlapp_slot = fd
        close_fd = stream.close_fd

        def shut_down_then_close():
            self.page[fd] = IDLE
            # A request answered after its client left must not mark the next connection on this fd.
            stream.mlapp_slot = UNCOVERED
            with contextlib.suppress(OSError):  # the client may have reset it already
                stream.socket.shutdown(socket.SHUT_RDWR)
            close_fd()

        stream.close_fd = shut_down_then_close


class MarkResponding(OutputTransform):
    """Marks a response started (Tornado calls an output transform as the first bytes are written):
    the supervisor must not write a 503 in its middle; and IDLE as its last bytes go out, before
    they reach the client (a worker that dies between the two leaves a response the client sees
    cut short either way)."""

    def __init__(self, page: mmap.mmap, request):
        self.page, self.stream = page, request.connection.stream

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        self.page[self.stream.mlapp_slot] = IDLE if finishing else RESPONDING
        return status_code, headers, chunk

    def transform_chunk(self, chunk, finishing):
        if finishing:
            self.page[self.stream.mlapp_slot] = IDLE
        return chunk


def unavailable_response(message: str) -> bytes:
    """A complete HTTP/1.1 503 with the API's error body, for a client to try again."""
    reason = "Service Unavailable"
    body = json.dumps(error_body(message, reason)).encode()
    head = (
        f"HTTP/1.1 503 {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Retry-After: 1\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class Connections:
    """The supervisor's side: each worker's channel and page, and the duplicates of its connections."""

    def __init__(self, folder: Path, workers: int):
        self.folder = folder
        self.poller = select.epoll()
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        soft = 1 << 20 if soft == resource.RLIM_INFINITY else soft
        self.limit = max(1, soft - RESERVED_FDS - RESERVED_FDS_PER_WORKER * workers)
        self.channels: dict[int, socket.socket] = {}  # worker -> the supervisor's end of its pair
        self.pages: dict[int, mmap.mmap] = {}
        self.worker_of_channel: dict[int, int] = {}  # channel fd -> worker, while it is watched
        self.dups: dict[tuple[int, int], socket.socket] = {}  # (worker, its fd) -> duplicate, oldest first
        self.key_of_dup: dict[int, tuple[int, int]] = {}
        self.lingering: dict[int, tuple[socket.socket, float]] = {}  # fd -> (answered connection, deadline)

    def open(self, worker: int) -> tuple[socket.socket, Path]:
        """A new channel and page for a worker about to start: the worker's end of the pair (to pass
        to it, then close) and the page's path."""
        self.channels[worker], theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.channels[worker].setblocking(False)  # (socket.recv_fds ignores its flags before Python 3.12)
        path = self.folder / f"connections-{worker}"
        path.write_bytes(bytes(PAGE_SIZE + 1))
        with path.open("r+b") as file:
            self.pages[worker] = mmap.mmap(file.fileno(), PAGE_SIZE + 1)
        fd = self.channels[worker].fileno()
        self.worker_of_channel[fd] = worker
        self.poller.register(fd, select.EPOLLIN)
        return theirs, path

    def poll(self, timeout: float) -> list[tuple[int, bytes | None]]:
        """Wait up to ``timeout`` seconds; what the workers said: (worker, its "listening" message),
        or (worker, None) once its channel ended (it is exiting)."""
        told: list[tuple[int, bytes | None]] = []
        for fd, events in self.poller.poll(timeout):
            if fd in self.worker_of_channel:
                worker = self.worker_of_channel[fd]
                messages = self._read(worker)
                if messages and messages[-1] is None:
                    self.poller.unregister(fd)  # ended: it would be reported again and again
                    del self.worker_of_channel[fd]
                told.extend((worker, message) for message in messages)
            elif fd in self.key_of_dup:  # the connection ended: the worker shut it down or the client left
                self._forget(self.key_of_dup[fd])
            elif fd in self.lingering:
                self._drop_input(fd, events)
        now = time.monotonic()
        for fd in [fd for fd, (_, deadline) in self.lingering.items() if deadline <= now]:
            self._close_lingering(fd)
        return told

    def _read(self, worker: int) -> list[bytes | None]:
        """Take every connection the worker handed over so far; its other messages (None: the end)."""
        channel = self.channels[worker]
        told: list[bytes | None] = []
        while True:
            try:
                data, fds, flags, _ = socket.recv_fds(channel, 4096, 1)
            except BlockingIOError:
                return told
            except OSError:
                data, fds, flags = b"", [], 0
            if fds:
                self._keep((worker, int.from_bytes(data, "little")), fds[0])
            elif flags & socket.MSG_CTRUNC:
                pass  # a connection the supervisor had no descriptor left for: not covered
            else:
                told.append(data or None)
                if not data:
                    return told

    def _keep(self, key: tuple[int, int], fd: int) -> None:
        self._forget(key)  # the worker reused the number: the connection it had before has ended
        while self.dups and len(self.dups) + len(self.lingering) >= self.limit:
            self._forget(next(iter(self.dups)))
        self.dups[key] = socket.socket(fileno=fd)
        self.key_of_dup[fd] = key
        # Never EPOLLIN: the worker reads the connection; the supervisor only learns of its end.
        self.poller.register(fd, select.EPOLLRDHUP)

    def _forget(self, key: tuple[int, int]) -> None:
        dup = self._unwatch(key)
        if dup is not None:
            dup.close()

    def _unwatch(self, key: tuple[int, int]) -> socket.socket | None:
        dup = self.dups.pop(key, None)
        if dup is not None:
            # Before it is closed: an epoll registration lives as long as the worker's descriptor
            # of the same connection does, and would keep reporting it.
            self.poller.unregister(dup.fileno())
            del self.key_of_dup[dup.fileno()]
        return dup

    def answer_in_flight(self, worker: int, message: str) -> None:
        """The worker died: answer its requests in flight 503 and close all its connections."""
        if worker not in self.channels:  # done already for this death, or never started
            return
        self._read(worker)  # what it handed over before it died
        channel = self.channels.pop(worker)
        if self.worker_of_channel.pop(channel.fileno(), None) is not None:
            self.poller.unregister(channel.fileno())
        channel.close()
        page = self.pages.pop(worker)
        answer = unavailable_response(message)
        for key, dup in [(key, dup) for key, dup in self.dups.items() if key[0] == worker]:
            self._unwatch(key)
            state = page[key[1]]
            # IDLE with bytes unread: a request the worker had not read yet, not answered either.
            in_flight = state == ROUTED or (state == IDLE and unread_bytes(dup.fileno()) > 0)
            if not (in_flight and self._answer(dup, answer)):
                dup.close()
        page.close()
        (self.folder / f"connections-{worker}").unlink(missing_ok=True)

    def _answer(self, dup: socket.socket, answer: bytes) -> bool:
        """Send the whole answer, then wait a moment for the client to close; False if it cannot be
        sent at once (a full send buffer, a client gone)."""
        try:
            if dup.send(answer, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL) < len(answer):
                return False
            dup.shutdown(socket.SHUT_WR)
        except OSError:
            return False
        self.lingering[dup.fileno()] = (dup, time.monotonic() + LINGER_SECONDS)
        self.poller.register(dup.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
        return True

    def _drop_input(self, fd: int, events: int) -> None:
        """What a client answered 503 still sends, dropped, until it closes."""
        dup = self.lingering[fd][0]
        try:
            ended = events & (select.EPOLLHUP | select.EPOLLERR) or not dup.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            ended = False
        except OSError:
            ended = True
        if ended:
            self._close_lingering(fd)

    def _close_lingering(self, fd: int) -> None:
        dup, _ = self.lingering.pop(fd)
        self.poller.unregister(fd)
        dup.close()

    def close(self) -> None:
        """After every worker's death was answered: let the answered clients read, then close all."""
        deadline = time.monotonic() + LINGER_SECONDS
        while self.lingering and time.monotonic() < deadline:
            self.poll(max(0.0, deadline - time.monotonic()))
        for fd in list(self.lingering):
            self._close_lingering(fd)
        self.poller.close()


def unread_bytes(fd: int) -> int:
    """Bytes the kernel holds that the connection's reader has not read yet (FIONREAD)."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
