"""Real parts for tests: a `jupyter mlapp` server process on a free port and its HTTP client, a local
Ray head, a JupyterHub.

Every room's tests reuse these (``from harness import MLAppServer``) through the fixtures of
``conftest.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import requests

REPO = Path(__file__).resolve().parent.parent
JUPYTER_MLAPP = [sys.executable, "-m", "jupyter_mlapp"]
RESULTS = REPO / "test-results"
URL_WITH_TOKEN = re.compile(r"(https?://127\.0\.0\.1:(\d+)/\S*\?token=([0-9a-f]+))")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def close_websocket(ws) -> None:
    """Close ``ws`` and wait for the server's answering close frame, which shuts the socket.

    ``asyncio.run`` ends its loop when the test's coroutine returns: a socket still waiting for that
    frame would be left open, and its ResourceWarning would fail whichever test the collector met next.
    """
    ws.close()
    if not ws.stream.closed():  # (closed: the server ended it, and its end was read already)
        while await asyncio.wait_for(ws.read_message(), 10) is not None:
            pass  # messages sent before the close frame


class MLAppServer:
    """``jupyter mlapp`` as a user starts it, with its own home and root folders.

    The token is read from the URL the server prints, as a user would copy it.
    """

    def __init__(
        self, home: Path, root: Path, args: list[str] | None = None, env: dict | None = None, port: int | None = None
    ):
        self.home = Path(home)
        self.root = Path(root)
        self.args = list(args or [])
        self.extra_env = dict(env or {})
        self.port = port or free_port()
        self.port_given = port is not None
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []
        self.token: str | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            *JUPYTER_MLAPP,
            f"--port={self.port}",
            f"--ServerApp.root_dir={self.root}",
            f"--MLApp.home={self.home}",
            *([] if any("log_level" in arg for arg in self.args) else ["--ServerApp.log_level=INFO"]),
            *(["--allow-root"] if os.geteuid() == 0 else []),
            *self.args,
        ]

    def start(self, timeout: float = 60) -> MLAppServer:
        for attempt in range(3):
            try:
                return self._start(timeout)
            except RuntimeError:
                # free_port() gives a port free when asked; another process (a Ray head's, say)
                # may bind it before the server does: a port of our choosing is chosen again.
                taken = any("(Address already in use)" in line for line in self.output[-3:])
                if not taken or self.port_given or attempt == 2:
                    raise
                self.port, self.output, self.token, self._ready = free_port(), [], None, threading.Event()
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> MLAppServer:
        # Per-server Jupyter config, runtime, workspace and settings folders: no state leaks in
        # from ~/.jupyter or from another test's server.
        jupyter = self.home.parent / f"{self.home.name}-jupyter"
        env = {
            **os.environ,
            "MLAPP_HOME": str(self.home),
            "JUPYTER_PLATFORM_DIRS": "1",
            "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
            "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
            "JUPYTERLAB_WORKSPACES_DIR": str(jupyter / "workspaces"),
            "JUPYTERLAB_SETTINGS_DIR": str(jupyter / "settings"),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        self.proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=self.root,
            start_new_session=True,
        )
        threading.Thread(target=self._read_output, args=(self.proc, self.output, self._ready), daemon=True).start()
        if not self._ready.wait(timeout) or self.token is None:
            self.stop()
            raise RuntimeError("jupyter mlapp did not start:\n" + "".join(self.output[-60:]))
        deadline = time.monotonic() + timeout
        while True:  # the URL is printed as the server starts listening: wait until it answers
            try:
                requests.get(f"{self.url}/api", timeout=5)
                return self
            except requests.ConnectionError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("jupyter mlapp stopped answering:\n" + "".join(self.output[-60:])) from exc
                time.sleep(0.1)

    def _read_output(self, proc: subprocess.Popen, output: list[str], ready: threading.Event) -> None:
        # Its own process, list and event: a start tried again has new ones.
        assert proc.stdout
        for line in proc.stdout:
            output.append(line)
            match = URL_WITH_TOKEN.search(line)
            if match and not ready.is_set():  # printed once the server listens
                self.token = match.group(3)
                ready.set()
        proc.stdout.close()  # at the end of the output: the server and its process group are gone
        ready.set()

    def stop(self, timeout: float = 15) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    # -- HTTP, as a script would call the API ------------------------------------------------
    def session(self, token: bool = True) -> requests.Session:
        s = requests.Session()
        if token:
            s.headers["Authorization"] = f"token {self.token}"
        return s

    def api(self, method: str, path: str, token: bool = True, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        return self.session(token).request(method, f"{self.url}/mlapp/api/{path.lstrip('/')}", **kwargs)

    def wait_for_output(self, pattern: str, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(re.search(pattern, line) for line in self.output):
                return True
            time.sleep(0.1)
        return False


RAY = Path(sys.executable).with_name("ray")


def raise_priority() -> None:
    """The head's processes first on a busy machine: Ray's raylet gives its dashboard agent a
    fixed 15 s to start (ray-project/ray#65983), which a loaded 2-core machine misses."""
    with contextlib.suppress(PermissionError):  # not root: the default priority
        os.nice(-15)


class RayHead:
    """`ray start --head` on free ports with a folder of its own; stopped by its processes only."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.gcs_port, self.dashboard_port = free_port(), free_port()
        self.address = f"http://127.0.0.1:{self.dashboard_port}"

    def start(self, tries: int = 2) -> RayHead:
        # On a loaded machine the raylet may give up on its dashboard agent (a fixed 15 s wait in
        # Ray, ray-project/ray#65983): start again on fresh ports.
        for attempt in range(tries):
            try:
                return self._start()
            except RuntimeError:
                self.stop()
                if attempt == tries - 1:
                    raise
                self.gcs_port, self.dashboard_port = free_port(), free_port()
                self.address = f"http://127.0.0.1:{self.dashboard_port}"
        return self

    def _start(self) -> RayHead:
        ports = {
            "--port": self.gcs_port,
            "--dashboard-port": self.dashboard_port,
            "--ray-client-server-port": free_port(),
            "--node-manager-port": free_port(),
            "--object-manager-port": free_port(),
            "--dashboard-agent-listen-port": free_port(),
            "--dashboard-agent-grpc-port": free_port(),
            "--metrics-export-port": free_port(),
            "--runtime-env-agent-port": free_port(),
        }
        env = {**os.environ, "RAY_DASHBOARD_STARTUP_TIMEOUT_S": "240", "RAY_USAGE_STATS_ENABLED": "0"}
        run = subprocess.run(
            [
                str(RAY),
                "start",
                "--head",
                "--num-cpus=1",
                "--disable-usage-stats",
                "--include-dashboard=true",
                "--dashboard-host=127.0.0.1",
                "--node-ip-address=127.0.0.1",
                f"--temp-dir={self.folder}",
                "--object-store-memory=100000000",
                *(f"{flag}={port}" for flag, port in ports.items()),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=raise_priority,
        )
        if run.returncode != 0:
            raise RuntimeError(f"ray start failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        return self

    def processes(self) -> list[psutil.Process]:
        """This head's processes: those naming its folder or writing their logs in it (Ray's client
        server names neither, and outlives a failed start as an orphan), and their children (never
        another Ray's)."""
        found = {}
        for process in psutil.process_iter(["cmdline", "open_files"]):
            files = [f.path for f in process.info["open_files"] or []]
            if str(self.folder) in " ".join([*(process.info["cmdline"] or []), *files]) and process.pid != os.getpid():
                found[process.pid] = process
                with contextlib.suppress(psutil.Error):
                    found.update((child.pid, child) for child in process.children(recursive=True))
        return list(found.values())

    def stop(self) -> None:
        for _ in range(3):  # a process started while we stop (a restarted agent) is caught next round
            processes = self.processes()
            if not processes:
                return
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    process.terminate()
            _, alive = psutil.wait_procs(processes, timeout=10)
            for process in alive:
                with contextlib.suppress(psutil.Error):
                    process.kill()
            time.sleep(1)


def make_root(root: Path) -> Path:
    """A workspace folder like a user's: the project's notebooks (and their helper files)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "notebooks", root / "notebooks", dirs_exist_ok=True)
    return root


def screenshot(page, name: str) -> Path:
    """Keep a screenshot as a test artifact (for pages a person should look at)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


HUB_PROXY = Path(sys.prefix) / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
HUB_CONFIG = """
import os
c = get_config()
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {folder!r} + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + {folder!r} + "/hub.sqlite"
c.JupyterHub.cookie_secret_file = {folder!r} + "/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.Authenticator.admin_users = set()
c.JupyterHub.load_roles = {roles!r}
c.JupyterHub.load_groups = {groups!r}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {folder!r} + "/users/{{username}}"
c.Spawner.notebook_dir = {root!r}
c.Spawner.cmd = [{bin!r} + "/jupyterhub-singleuser"]
c.Spawner.args = {args!r}
c.Spawner.start_timeout = c.Spawner.http_timeout = 90

def pre_spawn_hook(spawner):
    name = spawner.user.name
    # Each server its own jupyter-mlapp home and Jupyter folders.
    spawner.environment = {{
        "MLAPP_HOME": {folder!r} + "/mlapp-" + name, "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_CONFIG_DIR": {folder!r} + "/jupyter-" + name + "/config",
        "JUPYTER_RUNTIME_DIR": {folder!r} + "/jupyter-" + name + "/runtime",
        "JUPYTERLAB_WORKSPACES_DIR": {folder!r} + "/jupyter-" + name + "/workspaces",
        "JUPYTERLAB_SETTINGS_DIR": {folder!r} + "/jupyter-" + name + "/settings",
    }}
    if name in {mlapp_users!r}:  # a Spawner told to start `jupyter mlapp` itself
        spawner.cmd = [{bin!r} + "/jupyter-mlapp"]

c.Spawner.pre_spawn_hook = pre_spawn_hook
"""


class JupyterHub:
    """A real JupyterHub whose users' servers run jupyter-mlapp: DummyAuthenticator (one shared
    password), local processes, the real configurable-http-proxy (installed by `make test`).

    Servers start with ``jupyterhub-singleuser`` (the Hub's default), those of ``mlapp_users``
    with ``jupyter mlapp``. ``roles`` and ``groups`` are the Hub's (e.g. access to another
    user's server). ``server_config(user, config)`` configures a user's server.
    """

    PASSWORD = "hub test password"

    def __init__(
        self, folder: Path, root: Path, roles: list[dict] = (), groups: dict | None = None, mlapp_users: tuple = ()
    ):
        self.folder = Path(folder)
        self.root = Path(root)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = HUB_CONFIG.format(
            port=self.port,
            hub_port=free_port(),
            proxy_api_port=free_port(),
            proxy=str(HUB_PROXY),
            folder=str(self.folder),
            password=self.PASSWORD,
            roles=list(roles),
            groups=dict(groups or {}),
            root=str(self.root),
            bin=str(Path(sys.executable).parent),
            mlapp_users=tuple(mlapp_users),
            args=["--allow-root"] if os.geteuid() == 0 else [],
        )
        self.proc: subprocess.Popen | None = None
        self.log = self.folder / "hub.log"

    def home_of(self, user: str) -> Path:
        return self.folder / f"mlapp-{user}"

    def server_config(self, user: str, config: dict) -> None:
        """``jupyter_server_config.json`` of ``user``'s server (before it starts)."""
        folder = self.folder / f"jupyter-{user}" / "config"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "jupyter_server_config.json").write_text(json.dumps(config))

    def start(self, timeout: float = 60) -> JupyterHub:
        if not HUB_PROXY.exists():
            raise RuntimeError(f"configurable-http-proxy not found at {HUB_PROXY}: run `make test`, which installs it")
        (self.folder / "jupyterhub_config.py").write_text(self.config)
        with self.log.open("w") as log:  # the Hub keeps its own descriptor: ours closes here
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "jupyterhub"), "-f", "jupyterhub_config.py"],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.url}/hub/api", timeout=5).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("JupyterHub did not start:\n" + self.log.read_text()[-5000:])
            time.sleep(0.2)

    def stop(self, timeout: float = 30) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the Hub stops its users' servers and its proxy
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def login(self, user: str) -> requests.Session:
        """A browser-like session signed in to the Hub as ``user`` (no server started)."""
        s = requests.Session()
        page = s.get(f"{self.url}/hub/login", timeout=30)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        r = s.post(
            f"{self.url}/hub/login?next=/hub/home",
            timeout=30,
            data={"username": user, "password": self.PASSWORD, "_xsrf": xsrf},
        )
        assert r.status_code == 200 and r.url.endswith("/hub/home"), (r.status_code, r.url)
        return s

    def open_server(self, user: str, timeout: float = 90) -> requests.Session:
        """Sign in as ``user`` and open their own server's JupyterLab, as the Hub's home page does:
        the Hub spawns it, and the server signs the browser in through the Hub's OAuth."""
        s = self.login(user)
        s.get(f"{self.url}/hub/spawn/{user}", timeout=30)  # the Hub home page's "Start My Server"
        deadline = time.monotonic() + timeout
        while True:
            r = s.get(f"{self.url}/user/{user}/lab", timeout=30)
            if r.status_code == 200 and r.url == f"{self.url}/user/{user}/lab":
                return s
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(
                    f"{user}'s server did not open ({r.status_code} {r.url}):\n" + self.log.read_text()[-5000:]
                )
            time.sleep(0.5)

    def authorize(self, s: requests.Session, response: requests.Response) -> requests.Response:
        """Click "Authorize" on the Hub's page that asks whether another user's server may know
        who you are (shown the first time you open someone else's server)."""
        if "/hub/api/oauth2/authorize" not in response.url:
            return response
        form = re.search(r'<form method="post".*?</form>', response.text, re.S).group(0)
        fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
        return s.post(response.url, data=fields, timeout=30)


def fuzz(url: str, token: str, cwd: Path, *, checks: str, max_examples: int, timeout: float) -> int:
    """Schemathesis over the API a server documents at ``/mlapp/api/openapi.json``, with ``token``:
    the document's examples, the coverage phase's edge cases and ``max_examples`` generated cases
    per operation, deterministic. Fails on any failed check or after ``timeout`` seconds; returns
    how many operations it tested."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/mlapp/api/openapi.json",
        "--url",
        f"{url}/mlapp/api",
        "--checks",
        checks,
        "-H",
        f"Authorization: token {token}",
        "--max-examples",
        str(max_examples),
        "--generation-deterministic",
        "--request-timeout",
        "20",
        "--phases",
        "examples,coverage,fuzzing",
    ]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"fuzzing took more than {timeout} s:\n{exc.stdout}") from None
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    tested = re.search(r"Tested:\s+(\d+)", run.stdout)
    assert tested, run.stdout[-2000:]
    return int(tested.group(1))
