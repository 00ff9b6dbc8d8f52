"""Real parts for tests: a `jupyter mlapp` server process on a free port, and its HTTP client.

Every room's tests reuse these (``from harness import MLAppServer``) through the fixtures of
``conftest.py``.
"""
from __future__ import annotations

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

import requests

REPO = Path(__file__).resolve().parent.parent
JUPYTER_MLAPP = [sys.executable, "-m", "jupyter_mlapp"]
RESULTS = REPO / "test-results"
URL_WITH_TOKEN = re.compile(r"(http://127\.0\.0\.1:(\d+)/\S*\?token=([0-9a-f]+))")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MLAppServer:
    """``jupyter mlapp`` as a user starts it, with its own home and root folders.

    The token is read from the URL the server prints, as a user would copy it.
    """

    def __init__(self, home: Path, root: Path, args: list[str] | None = None, env: dict | None = None,
                 port: int | None = None):
        self.home = Path(home)
        self.root = Path(root)
        self.args = list(args or [])
        self.extra_env = dict(env or {})
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []
        self.token: str | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [*JUPYTER_MLAPP, f"--port={self.port}", f"--ServerApp.root_dir={self.root}",
                f"--MLApp.home={self.home}", "--ServerApp.log_level=INFO",
                *(["--allow-root"] if os.geteuid() == 0 else []), *self.args]

    def start(self, timeout: float = 60) -> "MLAppServer":
        # Per-server Jupyter config, runtime, workspace and settings folders: no state leaks in
        # from ~/.jupyter or from another test's server.
        jupyter = self.home.parent / f"{self.home.name}-jupyter"
        env = {**os.environ, "MLAPP_HOME": str(self.home), "JUPYTER_PLATFORM_DIRS": "1",
               "JUPYTER_CONFIG_DIR": str(jupyter / "config"), "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
               "JUPYTERLAB_WORKSPACES_DIR": str(jupyter / "workspaces"),
               "JUPYTERLAB_SETTINGS_DIR": str(jupyter / "settings"),
               "PYTHONUNBUFFERED": "1", **self.extra_env}
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env, cwd=self.root, start_new_session=True)
        threading.Thread(target=self._read_output, daemon=True).start()
        if not self._ready.wait(timeout) or self.token is None:
            self.stop()
            raise RuntimeError("jupyter mlapp did not start:\n" + "".join(self.output[-60:]))
        deadline = time.monotonic() + timeout
        while True:  # the URL is printed as the server starts listening: wait until it answers
            try:
                requests.get(f"{self.url}/api", timeout=5)
                return self
            except requests.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("jupyter mlapp stopped answering:\n" + "".join(self.output[-60:]))
                time.sleep(0.1)

    def _read_output(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.output.append(line)
            match = URL_WITH_TOKEN.search(line)
            if match and not self._ready.is_set():  # printed once the server listens
                self.token = match.group(3)
                self._ready.set()
        self._ready.set()

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
