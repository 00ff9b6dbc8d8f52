"""``MLApp``: the Jupyter Server extension and the ``jupyter mlapp`` command.

``MLApp`` is the composition root: it reads the settings (``settings.py``, the ``c.MLApp`` traits),
resolves the rooms of ``c.MLApp.rooms`` (``rooms.py``; each room declares itself in its
``room.py``), writes the kernel environment once, builds each room's manager in dependency order,
connects the rooms to the server and collects their routes under ``/mlapp/api`` and their OpenAPI.
Launched as ``jupyter mlapp`` it starts JupyterLab (and Voila, and any other enabled extension)
with the secure defaults of ``jupyter_config.py``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode, default
from traitlets.config.loader import PyFileConfigLoader

from . import __version__, api, rooms, settings
from .apps.kernels import DEFAULT_PRELOAD, default_caps
from .auth.identity import hub_environment
from .home import SchemaTooNew, check_writable, default_home, use_server_busy_timeout
from .integrations.jupyter_server import log_requests_when_shown
from .web import API_PREFIX, APINotFoundHandler, openapi_path

SECURE_DEFAULTS = Path(__file__).with_name("jupyter_config.py")


def secure_defaults():
    """The settings of ``jupyter_config.py``, as a traitlets Config."""
    return PyFileConfigLoader(SECURE_DEFAULTS.name, str(SECURE_DEFAULTS.parent)).load_config()


def spawned_by_hub() -> bool:
    """Started by JupyterHub (its variables are set) with jupyterhub installed to check its logins."""
    return hub_environment() and importlib.util.find_spec("jupyterhub") is not None


def skip_unshown_log_records(serverapp) -> None:
    """traitlets sets the server's logger to DEBUG and leaves the choice to its handlers, so every
    ``log.debug`` (Jupyter logs each kernel message it routes and each request it answers at that
    level) builds a record only to drop it: measured, a tenth of the server's event loop while an
    app page opens. The logger's level becomes the lowest its handlers show."""
    logger = serverapp.log
    levels = [handler.level for handler in getattr(logger, "handlers", ())]
    if levels and not getattr(logger, "propagate", True):
        logger.setLevel(min(levels))


def fail(message: str, code: int = 2):
    """Stop ``jupyter mlapp`` with a one-line message, as a CLI should (no traceback)."""
    print(f"jupyter mlapp: {message}", file=sys.stderr)
    sys.exit(code)


class MLAppServerApp(ServerApp):
    """The ServerApp of ``jupyter mlapp``: Jupyter's own, starting from our secure defaults."""

    def _find_http_port(self):
        # With port_retries=0 (our default) Jupyter would log a timestamped critical message;
        # say which port and what to do instead.
        if self.port_retries == 0 and self.port:
            try:
                for sock in bind_sockets(self.port, self.ip):
                    sock.close()
            except OSError as exc:
                fail(
                    f"port {self.port} on {self.ip} is not available ({exc.strerror}); stop what "
                    f"uses it or start with --port=N (--port=0 picks any free port)"
                )
        return super()._find_http_port()


class MLApp(ExtensionApp):
    """jupyter-mlapp. Configure with ``c.MLApp.<trait>`` or the environment variables named."""

    name = "mlapp"
    description = "Ship ML applications from Jupyter: JupyterLab, Voila apps, jobs and models."
    extension_url = "/mlapp"  # viewers go on to the gallery, editors and admins to /lab
    load_other_extensions = True
    serverapp_class = MLAppServerApp
    subcommands: dict = {  # noqa: RUF012 - traitlets reads it from the class (an instance trait upstream)
        "user": (
            "jupyter_mlapp.auth.cli.UserApp",
            "Manage user accounts: add, remove, passwd, list, set-role, disable.",
        ),
        "serve": (
            "jupyter_mlapp.models.serve.ModelServerApp",
            "Serve the model registry's REST API alone (no JupyterLab).",
        ),
        "app": (
            "jupyter_mlapp.apps.cli.AppCommand",
            "Published apps: publish, unpublish, list.",
        ),
    }

    home = Unicode(
        help=f"The folder where jupyter-mlapp keeps its data (SQLite files, logs, sessions, "
        f"models). Default: ${settings.HOME.name}, else <jupyter data dir>/mlapp.",
    ).tag(config=True)

    @default("home")
    def _default_home(self):
        return settings.HOME.get() or str(default_home())

    files_per_user = Bool(
        help="Give each user their own folder <root>/users/<name> in the file explorer (admins see "
        "the whole root). Default: $MLAPP_FILES_PER_USER=1, else off (everyone sees the root).",
    ).tag(config=True)

    @default("files_per_user")
    def _default_files_per_user(self):
        return settings.FILES_PER_USER.get()

    job_limit = Int(
        help="How many background jobs run at once; more wait in state 'queued'. "
        "Default: $MLAPP_JOB_LIMIT, else the number of cores.",
    ).tag(config=True)

    @default("job_limit")
    def _default_job_limit(self):
        return settings.JOB_LIMIT.get()

    job_kill_grace = Float(
        help="Seconds between SIGTERM and SIGKILL when a job is killed. Default: $MLAPP_JOB_GRACE, else 10.",
    ).tag(config=True)

    @default("job_kill_grace")
    def _default_job_kill_grace(self):
        return settings.JOB_GRACE.get()

    job_backend = Enum(
        ("local", "ray"),
        help="Where jobs run unless a job asks otherwise: 'local' (this machine) or 'ray' (the Ray "
        "cluster at ray_address; pip install 'jupyter-mlapp[ray]'). Default: $MLAPP_JOB_BACKEND, else local.",
    ).tag(config=True)

    @default("job_backend")
    def _default_job_backend(self):
        return settings.JOB_BACKEND.get()

    ray_address = Unicode(
        help="The Ray cluster's dashboard URL (http://head:8265) for jobs started with backend 'ray'. "
        "Default: $MLAPP_RAY_ADDRESS, else none (Ray jobs are refused with a message).",
    ).tag(config=True)

    @default("ray_address")
    def _default_ray_address(self):
        return settings.RAY_ADDRESS.get()

    job_history_days = Float(
        help="Remove finished jobs (their records and logs) this many days after they ended, at "
        "start and then hourly; 0 keeps them forever. Default: $MLAPP_JOB_HISTORY_DAYS, else 0.",
    ).tag(config=True)

    @default("job_history_days")
    def _default_job_history_days(self):
        return settings.JOB_HISTORY_DAYS.get()

    env_dirs = List(
        Unicode(),
        help="Folders holding virtual environments for jobs and kernels (besides conda's and the "
        "workspace's .venv/venv). Default: $MLAPP_ENV_DIRS (separated by ':').",
    ).tag(config=True)

    apps = List(
        Dict(),
        help="Apps published when this home folder first serves the workspace, for the notebooks that "
        "exist: [{'path': ..., 'title': ..., 'description': ..., 'audience': {...}, 'files': [...]}]. "
        "Default: the apps of notebooks/. Editors may unpublish them afterwards.",
    ).tag(config=True)

    @default("apps")
    def _default_apps(self):
        from .apps.published import SHIPPED_APPS

        return [dict(app) for app in SHIPPED_APPS]

    rooms = List(
        Unicode(),
        default_value=list(rooms.KNOWN),
        help=f"The rooms this server serves: {', '.join(rooms.KNOWN)} (`jupyter mlapp serve` keeps only "
        "'models'). An unknown room, or a room without one it requires, stops the start with a message.",
    ).tag(config=True)

    standalone = Bool(
        False,
        help="Set by `jupyter mlapp serve`: the models room is the server, so the models load before it "
        "serves and a registry it cannot use stops the start with a message.",
    ).tag(config=True)

    models_dir = Unicode(
        help="The model registry's folder. Default: $MLAPP_MODELS_DIR, else <home>/models.",
    ).tag(config=True)

    @default("models_dir")
    def _default_models_dir(self):
        return settings.MODELS_DIR.get()

    models_max_batch_size = Int(
        64, help="Most inputs (rows or images) one model call takes when concurrent prediction requests are batched."
    ).tag(config=True)
    models_max_wait_ms = Float(
        2.0,
        help="Under concurrent load, how long (ms) a batch waits for "
        "more requests before the model runs; 0: never wait.",
    ).tag(config=True)
    models_max_body_mb = Int(64, help="Largest prediction request body (MB); larger ones get a 413.").tag(config=True)

    # App kernels (apps/kernels.py): the caps' defaults keep at most half the memory in app kernels.
    app_kernels_total = Int(
        help="Most app pages' kernels at once, all users; past it a page gets 'the server is busy' (503). "
        "Default: $MLAPP_APP_KERNELS_TOTAL, else half the memory at 250 MB a kernel.",
    ).tag(config=True)

    @default("app_kernels_total")
    def _default_app_kernels_total(self):
        return settings.APP_KERNELS_TOTAL.get() or default_caps()["total"]

    app_kernels_per_user = Int(
        help="Most app pages' kernels one user holds at once. Default: $MLAPP_APP_KERNELS_PER_USER, else 3.",
    ).tag(config=True)

    @default("app_kernels_per_user")
    def _default_app_kernels_per_user(self):
        return settings.APP_KERNELS_PER_USER.get() or default_caps()["per_user"]

    app_kernel_pool_size = Int(
        help="Kernels kept warm (started, the apps' imports done) per kernel spec, handed to app pages "
        "as they open; 0: none. Default: $MLAPP_APP_KERNEL_POOL, else 2 (1 on a small machine).",
    ).tag(config=True)

    @default("app_kernel_pool_size")
    def _default_app_kernel_pool_size(self):
        return settings.APP_KERNEL_POOL.get() or default_caps()["pool_size"]

    app_kernel_pool_kernels = List(
        Unicode(), help="The kernel specs the pool keeps warm. Default: the server's default kernel."
    ).tag(config=True)
    app_kernel_preload = List(
        Unicode(),
        default_value=list(DEFAULT_PRELOAD),
        help="Modules a pooled kernel imports before it is handed to a page (default: what the shipped apps import).",
    ).tag(config=True)
    app_kernel_fork = Bool(
        False,
        help="Fork pooled app kernels from a warm template process that did the preload imports once "
        "(Linux, Python ipykernel specs): a kernel starts in milliseconds and shares the imported "
        "modules' memory (benchmarks/bench_kernels.py: 2.3x less private memory, the pool refilled "
        "4x sooner). Off (the default until its shutdown race is fixed): each pooled kernel is a new process "
        "doing its own imports.",
    ).tag(config=True)
    app_kernel_grace = Float(
        help="Seconds an app page's kernel outlives its page (closed, reloaded, navigated away). "
        "Default: $MLAPP_APP_KERNEL_GRACE, else 15.",
    ).tag(config=True)

    @default("app_kernel_grace")
    def _default_app_kernel_grace(self):
        return settings.APP_KERNEL_GRACE.get()

    app_kernel_idle_timeout = Float(
        help="Seconds without activity after which an app page's kernel is shut down even with its page "
        "open (a reload restores the page); 0: never. Default: $MLAPP_APP_KERNEL_IDLE, else 3600.",
    ).tag(config=True)

    @default("app_kernel_idle_timeout")
    def _default_app_kernel_idle_timeout(self):
        return settings.APP_KERNEL_IDLE.get()

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser().resolve()

    @classmethod
    def make_serverapp(cls, **kwargs):
        # Our secure defaults go in first: the user's own config files and the command line
        # are loaded on top, as with any Jupyter config.
        config = kwargs.setdefault("config", secure_defaults())
        if spawned_by_hub():
            # Spawned by JupyterHub as `jupyter mlapp`: the Hub's extension takes the address,
            # base URL and login from the Hub, as under `jupyterhub-singleuser`.
            config.ServerApp.jpserver_extensions = {**config.ServerApp.jpserver_extensions, "jupyterhub": True}
        return super().make_serverapp(**kwargs)

    def _link_jupyter_server_extension(self, serverapp):
        super()._link_jupyter_server_extension(serverapp)
        # Before any trait takes its default from a variable (Jupyter reads them all before
        # initialize_settings): a bad value stops the start instead of the extension's loading.
        try:
            settings.check()
        except settings.InvalidSetting as exc:
            self.refuse(str(exc), exc)
        if spawned_by_hub():
            from .integrations.jupyterhub import use_hub

            use_hub(serverapp, secure_defaults())
        elif hub_environment():
            self.log.warning(
                "JUPYTERHUB_* variables are set but jupyterhub is not installed: "
                "using jupyter-mlapp accounts, not the Hub's login"
            )

    def initialize_settings(self):
        self.managers: dict[str, object] = {}
        self._after_load: list = []  # see after_extensions_load
        try:
            self.served = rooms.resolve(self.rooms)
        except rooms.RoomError as exc:
            self.refuse(str(exc), exc)
        try:
            check_writable(self.home_path)
        except PermissionError as exc:
            choose = f"choose another with --MLApp.home=DIR or ${settings.HOME.name}"
            self.refuse(f"{exc}; make it writable or {choose}", exc)
        self.refuse_empty_credentials()
        # Before the managers: they read the same settings as the kernels started by this server.
        os.environ.update(self.kernel_environment())
        use_server_busy_timeout()  # a locked database answers one request a 503, it stalls nothing
        for room in self.served:
            try:
                self.managers[room.name] = room.build(self)
            except (rooms.RoomError, SchemaTooNew) as exc:  # a database of a newer release: stop, touch nothing
                self.refuse(str(exc), exc)
        for room in self.served:
            if room.connect is not None:
                room.connect(self, self.managers[room.name])
        self.serverapp.web_app.settings["mlapp_on_logout"] = self.on_logout
        skip_unshown_log_records(self.serverapp)
        log_requests_when_shown(self.serverapp.web_app)
        self.serverapp.observe(lambda _: skip_unshown_log_records(self.serverapp), "log_level")
        self.log.info("jupyter-mlapp %s: home folder %s", __version__, self.home_path)

    def refuse(self, message: str, error: Exception):
        """Stop the start: with a one-line message from ``jupyter mlapp``, else (an extension of
        another server, a test) with ``error``."""
        if isinstance(self.serverapp, MLAppServerApp):
            fail(message)
        raise error

    def kernel_environment(self) -> dict[str, str]:
        """What kernels started by this server (notebooks, Voila apps) read to share its state and
        settings: the home folder, the workspace and the base URL (which several rooms link to),
        and what each room exports."""
        assert self.serverapp is not None  # the kernels are this server's
        environment = {
            settings.HOME.name: str(self.home_path),
            settings.WORKSPACE.name: self.serverapp.root_dir,
            settings.BASE_URL.name: self.serverapp.base_url,
        }
        for room in self.served:
            if room.exports is not None:
                environment.update(room.exports(self))
        return environment

    def on_logout(self, username: str) -> None:
        """Tell every room that ``username`` logged out (the identity provider calls this)."""
        for room in self.served:
            if room.on_logout is not None:
                try:
                    room.on_logout(self.managers[room.name], username)
                except Exception:  # the logout itself must not fail over a room
                    self.log.exception("the %s room could not end the session of %s", room.name, username)

    def after_extensions_load(self, patch) -> None:
        """Run ``patch(web_app)`` once every extension has added its routes (Voila loads after us).

        A loop callback from our own loading usually comes late enough, but an extension may run
        the loop while it loads (JupyterHub's does), so ``patch`` runs again, for sure after
        every extension, when the server starts: patches must be idempotent."""
        self._after_load.append(patch)
        assert self.serverapp is not None  # extensions load from a server
        IOLoop.current().add_callback(patch, self.serverapp.web_app)

    async def _start_jupyter_server_extension(self, serverapp):
        for patch in self._after_load:
            patch(serverapp.web_app)

    async def stop_extension(self):
        """The rooms' background work (model workers, job history pruning) stops with the server."""
        for room, manager in getattr(self, "managers", {}).items():
            close = getattr(manager, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    self.log.exception("could not stop the %s room", room)

    def refuse_empty_credentials(self):
        """An empty token with no password lets anyone who reaches the port run code: refuse."""
        provider = self.serverapp.identity_provider
        if provider.need_token and not provider.token and not getattr(provider, "hashed_password", ""):
            message = (
                "an empty token with no password would let anyone in; remove IdentityProvider.token='' from your config"
            )
            self.refuse(message, ValueError(message))

    def initialize_handlers(self):
        for pattern, handler in api.ROUTES:
            self.handlers.append((url_path_join(API_PREFIX, pattern), handler))
        for room in self.served:
            kwargs = {"manager": self.managers[room.name]}
            for pattern, handler in room.routes:
                self.handlers.append((url_path_join(API_PREFIX, pattern), handler, kwargs))
        # Anything else under the API answers a JSON 404, not Jupyter's HTML error page.
        self.handlers.append((url_path_join(API_PREFIX, "/.*"), APINotFoundHandler))

    def api_routes(self) -> list[str]:
        """The OpenAPI names of every route this extension registered under ``/mlapp/api``."""
        return [
            openapi_path(pattern[len(API_PREFIX) :])
            for pattern, handler, *_ in self.handlers
            if pattern.startswith(API_PREFIX) and handler is not APINotFoundHandler
        ]

    def openapi(self) -> dict:
        return api.document(self.served, self.serverapp.base_url if self.serverapp else "/")


main = launch_new_instance = MLApp.launch_instance
