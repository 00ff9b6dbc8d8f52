"""``jupyter mlapp serve --models DIR --port N``: the model API alone, for production.

It is the Jupyter server of ``jupyter mlapp`` with the same secure defaults, configuration files,
identity provider and authorizer (so the same tokens, API tokens and accounts work), but it loads
only jupyter-mlapp's ``models`` room and none of Jupyter's own services that run code or touch
files (kernels, terminals, contents): a stolen credential can predict, not execute.

``--workers N`` (default: the number of cores) runs N worker processes on the one port: this
process supervises them and serves nothing itself. Each worker is the whole server (its own event
loop, model copies and micro-batchers) and listens with SO_REUSEPORT, so the kernel spreads new
connections over them. The first worker starts alone (it settles the port and the token, and a bad
setting fails once, with one message); the others start with its port and token. A worker that
dies is started again, and the requests it was answering are answered 503 by this process, which
holds a duplicate of each of its connections (``handoff``; not over TLS, whose connections are
closed); SIGTERM (or Ctrl-C) lets each worker finish its in-flight requests, then stops. Workers
share nothing but the registry folder, whose changes each reads within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import ClassVar

from jupyter_core.application import JupyterApp
from jupyter_server import serverapp
from threadpoolctl import threadpool_limits
from tornado.ioloop import PeriodicCallback
from tornado.netutil import bind_sockets
from traitlets import Dict, Float, Int, default
from traitlets.config import Config

from .. import settings
from ..extension import MLApp, MLAppServerApp, fail, secure_defaults
from ..home import atomic_write
from .handoff import IDLE, ROUTED, Connections, WorkerHandoff
from .lane import PredictionLane

ENDPOINTS = "/mlapp/api/models"
# What the supervisor tells a worker: its number, the socket to say it listens and to hand over its
# connections on, the page of their states, where the workers' table is, and (from the first worker
# on) the port.
WORKER_ENV, CHANNEL_ENV, CONNECTIONS_ENV, STATUS_ENV, PORT_ENV = (
    setting.name
    for setting in (
        settings.SERVE_WORKER,
        settings.SERVE_CHANNEL_FD,
        settings.SERVE_CONNECTIONS,
        settings.SERVE_STATUS,
        settings.SERVE_PORT,
    )
)
# A worker that dies this soon after starting, again and again, is started again less often.
CRASH_LOOP_SECONDS = 5.0
STOP_LINE = "Use Control-C to stop this server and shut down all kernels (twice to skip confirmation)."


class ModelServerApp(MLAppServerApp):
    name = "jupyter-mlapp-serve"
    description = (
        "Serve the model registry's REST API alone (no JupyterLab): "
        "jupyter mlapp serve --models DIR --port N [--workers N]. Clients authenticate with the printed "
        "token (Authorization: token <token>) or a per-user API token."
    )
    # Login pages and /api/status only: no kernels, terminals, contents or file downloads.
    default_services = ("api", "auth", "security")
    classes: ClassVar = [*MLAppServerApp.classes, MLApp]
    subcommands = Dict()  # not Jupyter's list/stop/password/extension: this server has none of them
    examples = """
    jupyter mlapp serve --models ~/models --port 9000      # the printed URL carries its token
    jupyter mlapp serve --models ~/models --port 9000 --workers 4
    jupyter mlapp serve --models ~/models --ip 0.0.0.0 --certfile cert.pem --keyfile key.pem
    jupyter mlapp serve --models ~/models --max-batch-size 32 --max-wait-ms 1
"""
    aliases = Dict(
        {
            **serverapp.aliases,
            "models": "MLApp.models_dir",
            "max-batch-size": "MLApp.models_max_batch_size",
            "max-wait-ms": "MLApp.models_max_wait_ms",
            "workers": "ModelServerApp.workers",
        }
    )

    workers = Int(
        help="Worker processes answering on the one port, each with its own models and micro-batchers. "
        f"Default: ${settings.SERVE_WORKERS.name}, else the number of cores."
    ).tag(config=True)

    @default("workers")
    def _default_workers(self):
        return settings.SERVE_WORKERS.get()

    _lane: PredictionLane | None = None  # a worker's, once it is open

    drain_seconds = Float(
        30, help="On SIGTERM, how long a worker lets its in-flight requests finish before it stops."
    ).tag(config=True)

    def initialize(self, argv=None, **kwargs):
        # The secure defaults of `jupyter mlapp` first; config files and the command line on top.
        defaults = secure_defaults()
        defaults.merge(
            Config(
                {
                    "ServerApp": {"jpserver_extensions": {"jupyter_mlapp": True}, "default_url": f"{ENDPOINTS}/health"},
                    "MLApp": {"rooms": ["models"], "standalone": True},
                }
            )
        )
        self.update_config(defaults)
        self.worker = settings.SERVE_WORKER.get()
        if self.worker is None:  # the supervisor: the settings only, no server
            JupyterApp.initialize(self, argv)
            if self.workers < 1:
                fail(f"--workers must be at least 1, not {self.workers}")
            self._argv = list(sys.argv[1:] if argv is None else argv)
            return
        # Requests from routing to their log line. Weak: one whose client left before sending its
        # body is never logged, and goes with its connection.
        self._in_flight: weakref.WeakSet = weakref.WeakSet()
        self._drained: asyncio.Event | None = None  # set once stopping and no request is in flight
        self._to_route = 0  # the connections accepted on stop whose requests are not routed yet
        self._all_routed: asyncio.Event | None = None  # set once they are
        self._handoff = WorkerHandoff(settings.SERVE_CHANNEL_FD.get(), settings.SERVE_CONNECTIONS.get())
        super().initialize(argv, find_extensions=False)
        if settings.SERVE_PORT.get():  # a worker after the first: the port the first one settled
            self.port = settings.SERVE_PORT.get()
        # The lane before the handoff, which hands over each connection accepted, the lane's too;
        # and before the count, since the lane reads the predict route once.
        self._lane = self._open_prediction_lane()
        self._handoff.install(self.http_server, self.web_app)
        self._count_requests()
        self.web_app.settings["mlapp_workers"] = self.worker_status
        # A worker whose supervisor is gone (killed outright) stops: no orphan keeps the port.
        self._supervisor = os.getppid()
        PeriodicCallback(self._check_supervisor, 1000).start()
        # One BLAS thread per model call: concurrency comes from batching and the worker processes,
        # and more BLAS threads would fight the event loops for the same cores.
        threadpool_limits(1)

    def start(self):
        if self.worker is None:
            sys.exit(Supervisor(self).run())
        super().start()

    # -- a worker ---------------------------------------------------------------------------------
    def _find_http_port(self):
        if not settings.SERVE_PORT.get():  # the first worker checks (or, with --port=0, picks) the port
            super()._find_http_port()

    def _bind_http_server_tcp(self) -> bool:
        try:
            sockets = bind_sockets(self.port, self.ip, reuse_port=True)
        except OSError as exc:
            self.log.critical("port %s on %s is not available (%s)", self.port, self.ip, exc.strerror)
            return False
        self.port = sockets[0].getsockname()[1]
        self.http_server.add_sockets(sockets)
        self._handoff.tell_ready({"port": self.port, "token": self.identity_provider.token})
        return True

    def init_signal(self) -> None:
        super().init_signal()
        # Ctrl-C reaches every worker of the terminal's process group: each drains and stops
        # (Jupyter's "Shut down this server (y/[n])?" prompt would ask N times on one terminal).
        signal.signal(signal.SIGINT, self._signal_stop)

    def _check_supervisor(self) -> None:
        if os.getppid() != self._supervisor and not self._stopping:
            self.log.warning("worker %s: its supervisor (pid %s) is gone; stopping", self.worker + 1, self._supervisor)
            self.stop()

    def stop(self, from_signal: bool = False) -> None:
        if self.worker is not None and not self._stopping and hasattr(self, "http_server"):
            self._take_waiting_connections(from_signal)
        super().stop(from_signal)

    def _take_waiting_connections(self, from_signal: bool) -> None:
        """Accept the connections the kernel queued for this worker's listening socket: closing it
        (as stopping does) would reset them, and their clients have sent their requests already.
        They are served on the event loop (this may run in a signal handler), and the drain waits
        for their requests too."""
        waiting = []
        # Tornado's listening sockets and its handler of an accepted connection (checked by
        # tests/integrations/test_jupyter_server.py).
        for listening in list(self.http_server._sockets.values()):
            with contextlib.suppress(OSError):  # BlockingIOError: none (left)
                while True:
                    waiting.append(listening.accept())
        if not waiting:
            return
        # At most one request each, routed once its bytes are read: what the drain waits for.
        self._to_route = len(waiting)

        def serve_them():
            for connection, address in waiting:
                self.http_server._handle_connection(connection, address)

        (self.io_loop.add_callback_from_signal if from_signal else self.io_loop.add_callback)(serve_them)

    def _signal_stop(self, sig, frame) -> None:
        if not self._stopping:  # a second SIGTERM (the supervisor's after the terminal's) changes nothing
            super()._signal_stop(sig, frame)

    def _count_requests(self) -> None:
        """Count requests from routing to their log line: what SIGTERM lets finish; and mark them in
        the page of the connections' states: what the supervisor answers 503 if this worker dies.
        The prediction lane's requests are counted from their headers to their answer."""
        app = self.web_app
        find_handler, log_request = app.find_handler, app.log_request

        def counted_find_handler(request, **kwargs):
            self._routed(request)
            return find_handler(request, **kwargs)

        def counted_log_request(handler):
            self._answered(handler.request)
            log_request(handler)

        app.find_handler, app.log_request = counted_find_handler, counted_log_request

    def _routed(self, request) -> None:
        self._in_flight.add(request)
        if self._to_route:
            self._to_route -= 1
            if not self._to_route and self._all_routed is not None:
                self._all_routed.set()
        self._handoff.page[request.connection.stream.mlapp_slot] = ROUTED

    def _answered(self, request) -> None:
        self._in_flight.discard(request)
        self._handoff.page[request.connection.stream.mlapp_slot] = IDLE
        if self._drained is not None and not self._answerable():
            self._drained.set()

    def _open_prediction_lane(self) -> PredictionLane | None:
        mlapp = next(iter(self.extension_manager.extension_apps.get("jupyter_mlapp", ())), None)
        service = getattr(mlapp, "managers", {}).get("models")
        if service is None:  # (the models room failed to start: the server has stopped already)
            return None
        return PredictionLane.install(
            self.http_server,
            self.web_app,
            service,
            mlapp.models_max_body_mb << 20,
            self._routed,
            self._answered,
            self.log,
        )

    def _answerable(self) -> int:
        """The requests in flight whose client still waits: one whose connection closed (its client
        left) is not waited for, since its answer would go nowhere."""
        return sum(1 for request in list(self._in_flight) if not request.connection.stream.closed())

    async def _stop(self) -> None:
        # stop() closed the listening socket already: new connections go to the other workers.
        # Those it had queued are being served: their requests are routed within a few turns of
        # the loop (a client that connected and sent nothing is not waited for long).
        if self._to_route:
            self._all_routed = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_routed.wait(), min(2.0, self.drain_seconds))
        waiting = self._answerable()
        if waiting:
            self.log.info("worker %s: finishing %d request(s) in flight", self.worker + 1, waiting)
            self._drained = asyncio.Event()
            deadline = time.monotonic() + self.drain_seconds
            # Woken by each request answered; looked at again every quarter second for clients
            # that left meanwhile (a closed connection logs nothing).
            while self._answerable() and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._drained.wait(), min(0.25, max(0.0, deadline - time.monotonic())))
                self._drained.clear()
        if self._lane is not None:
            self._lane.close_all()
        await super()._stop()

    async def cleanup_kernels(self) -> None:
        """This server runs no kernels: nothing to shut down (and nothing to say about it)."""

    def running_server_info(self, kernel_count: bool = True) -> str:
        """What this server serves (Jupyter's own line speaks of notebooks and kernels)."""
        models = self.extension_manager.extension_apps.get("jupyter_mlapp", set())
        folder = next((app.models_dir or str(Path(app.home) / "models") for app in models), "")
        return (
            f"Serving the model registry {folder} (worker {self.worker + 1} of {self.workers}, pid {os.getpid()})\n"
            f"jupyter-mlapp model server (Jupyter Server {serverapp.ServerApp.version}) is running at:\n"
            f"{self.display_url}"
        )

    def start_app(self) -> None:
        # Jupyter logs that Control-C "shuts down all kernels": this server has none.
        def reword(record):
            if record.msg == STOP_LINE:
                record.msg = "Use Control-C (or SIGTERM) to stop this server once its requests are answered."
            return True

        self.log.addFilter(reword)
        try:
            super().start_app()
        finally:
            self.log.removeFilter(reword)

    def worker_status(self) -> dict:
        """The workers as ``/health`` reports them: the supervisor's table and which one answers."""
        workers = []
        path = settings.SERVE_STATUS.get()
        if path:
            with contextlib.suppress(OSError, ValueError):  # being replaced: the next health check reads it
                workers = json.loads(Path(path).read_text())
        return {
            "count": self.workers,
            "alive": sum(1 for w in workers if w.get("alive")),
            "answered_by": {"worker": self.worker, "pid": os.getpid()},
            "workers": workers,
        }


class Worker:
    """One worker process as the supervisor sees it."""

    def __init__(self, index: int):
        self.index = index
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.ready = False
        self.next_start = 0.0

    def as_dict(self) -> dict:
        alive = self.proc is not None and self.proc.poll() is None
        return {
            "worker": self.index,
            "pid": self.proc.pid if self.proc else None,
            "alive": alive and self.ready,
            "started_at": self.started_at,
            "restarts": self.restarts,
        }


class Supervisor:
    """Starts the workers, starts again any that dies (answering its requests in flight 503), and
    stops them all on SIGTERM or Ctrl-C."""

    def __init__(self, app: ModelServerApp):
        self.app = app
        self.log = app.log
        self.workers = [Worker(i) for i in range(app.workers)]
        self.folder = Path(tempfile.mkdtemp(prefix="mlapp-serve-"))
        self.status = self.folder / "workers.json"
        self.env = {**os.environ, STATUS_ENV: str(self.status)}
        self.stopping = False
        # It holds a duplicate of each worker's connections: as many descriptors as a worker allows.
        app.init_resources()
        self.connections = Connections(self.folder, len(self.workers))

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            first = self.workers[0]
            self._spawn(first)
            code = self._wait_ready([first])
            if code is None:
                for worker in self.workers[1:]:
                    self._spawn(worker)
                code = self._wait_ready(self.workers[1:])
            if code is not None:  # a worker could not start: the reason is on stderr already
                self._stop_all()
                return code
            self.log.info("%d worker(s) serving on port %s", len(self.workers), self.env[PORT_ENV])
            self._supervise()
            return 0
        finally:
            self._stop_all()
            self.connections.close()
            self.status.unlink(missing_ok=True)
            self.folder.rmdir()

    def _stop(self, signum, frame) -> None:
        self.stopping = True

    def _spawn(self, worker: Worker) -> None:
        channel, page = self.connections.open(worker.index)
        env = {
            **self.env,
            WORKER_ENV: str(worker.index),
            CHANNEL_ENV: str(channel.fileno()),
            CONNECTIONS_ENV: str(page),
        }
        with channel:
            worker.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyter_mlapp", "serve", *self.app._argv], env=env, pass_fds=(channel.fileno(),)
            )
        worker.ready, worker.started_at = False, time.time()
        self._write_status()

    def _on_ready(self, worker: Worker, message: bytes) -> None:
        """The worker's "listening" message."""
        worker.ready = True
        if PORT_ENV not in self.env:  # the first worker settled these: every other one uses them
            told = json.loads(message)
            self.env[PORT_ENV] = str(told["port"])
            self.env["JUPYTER_TOKEN"] = told["token"]
        self._write_status()

    def _wait_ready(self, workers: list[Worker]) -> int | None:
        """Wait until each of ``workers`` listens; the exit code of one that stopped instead."""
        waiting = {w.index for w in workers}
        while waiting:
            if self.stopping:
                return 0
            for index, message in self.connections.poll(0.2):
                worker = self.workers[index]
                if message is not None:
                    self._on_ready(worker, message)
                    waiting.discard(index)
                elif index in waiting:  # (one started before, dead meanwhile, is started again later)
                    return worker.proc.wait() or 1
        return None

    def _supervise(self) -> None:
        while not self.stopping:
            for index, message in self.connections.poll(0.2):
                worker = self.workers[index]
                if message is not None:
                    self._on_ready(worker, message)
                else:  # its channel ended: it died, and is reaped in a moment
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        worker.proc.wait(1)
            now = time.time()
            for worker in self.workers:
                if worker.proc.poll() is None or self.stopping:
                    continue
                if worker.next_start == 0.0:  # just seen dead
                    self._answer_in_flight(worker)
                    quick = now - worker.started_at < CRASH_LOOP_SECONDS
                    worker.next_start = now + (min(30.0, 2.0**worker.restarts) if quick else 0.0)
                    self.log.warning(
                        "worker %d (pid %d) exited with code %s; starting it again%s",
                        worker.index + 1,
                        worker.proc.pid,
                        worker.proc.returncode,
                        f" in {worker.next_start - now:.0f} s" if quick else "",
                    )
                    self._write_status()
                if now >= worker.next_start:
                    worker.restarts += 1
                    worker.next_start = 0.0
                    self._spawn(worker)

    def _answer_in_flight(self, worker: Worker) -> None:
        self.connections.answer_in_flight(
            worker.index, f"worker {worker.index + 1} of the model server stopped before it answered; try again"
        )

    def _stop_all(self) -> None:
        """SIGTERM to every worker (each drains); SIGKILL to one still starting, or still running after the drain."""
        running = [w.proc for w in self.workers if w.proc is not None and w.proc.poll() is None]
        for worker in self.workers:
            if worker.proc in running:  # one still starting has no request to finish
                worker.proc.send_signal(signal.SIGTERM if worker.ready else signal.SIGKILL)
        deadline = time.monotonic() + self.app.drain_seconds + 10
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for worker in self.workers:  # a request still in flight was in one killed after the drain
            self._answer_in_flight(worker)

    def _write_status(self) -> None:
        atomic_write(self.status, json.dumps([w.as_dict() for w in self.workers]).encode())


main = ModelServerApp.launch_instance
