"""Python environments a job or a kernel can run in: conda environments, virtual environments,
and the server's own.

Conda environments come from ``conda info --json`` when a conda is installed, else from
``~/.conda/environments.txt`` and the usual envs folders (a conda environment is a prefix with a
``conda-meta/`` folder). Virtual environments (a ``pyvenv.cfg``) are found in the configured
folders and in the workspace (``.venv``, ``venv``, and projects' ``.venv``). Each interpreter is
asked once for its version and whether it has ipykernel, all in parallel; the result is cached.
Discovery can take seconds (conda is slow): servers call it from a thread, never on the event
loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from jupyter_client.kernelspec import NATIVE_KERNEL_NAME

from .. import settings
from ..errors import InvalidInput

CACHE_SECONDS = 60.0
PROBE_TIMEOUT = 20.0
CONDA_TIMEOUT = 30.0
# What a project folder calls its virtual environment.
VENV_NAMES = (".venv", "venv", "env", ".env")
CONDA_ENVS_DIRS = (
    "~/.conda/envs",
    "~/miniconda3/envs",
    "~/anaconda3/envs",
    "~/miniforge3/envs",
    "~/mambaforge/envs",
    "/opt/conda/envs",
)
CONDA_BASES = ("~/miniconda3", "~/anaconda3", "~/miniforge3", "~/mambaforge", "/opt/conda")
PROBE = (
    "import importlib.util, json, platform, sys; print(json.dumps({'version': platform.python_version(), "
    "'prefix': sys.prefix, 'ipykernel': importlib.util.find_spec('ipykernel') is not None}))"
)
KERNEL_HINT = "{python} -m pip install ipykernel  (or: conda install -p {path} ipykernel)"


@dataclass(frozen=True)
class Environment:
    name: str
    path: str
    kind: str  # "conda", "venv" or "server"
    python: str
    python_version: str | None
    has_ipykernel: bool
    error: str | None = None

    @property
    def kernel_name(self) -> str:
        if self.kind == "server":  # the server's own Python is Jupyter's native kernel
            return NATIVE_KERNEL_NAME
        return f"mlapp-{self.kind}-{re.sub(r'[^a-z0-9._-]+', '-', self.name.lower()).strip('-')}"

    @property
    def hint(self) -> str | None:
        """What to do to use it as a notebook kernel, when it cannot be one yet."""
        if self.has_ipykernel or self.error:
            return self.error
        return "add ipykernel to offer it as a kernel: " + KERNEL_HINT.format(python=self.python, path=self.path)

    def activation(self, base_path: str | None = None) -> dict[str, str | None]:
        """The variables that activate it (``None`` unsets): its ``bin`` first on PATH, and
        VIRTUAL_ENV or CONDA_PREFIX, as ``activate`` would set them."""
        base_path = os.environ.get("PATH", os.defpath) if base_path is None else base_path
        # Leave out the bin folder of the environment we were started in, it would shadow this one.
        ours = {str(Path(os.environ[k]) / "bin") for k in ("VIRTUAL_ENV", "CONDA_PREFIX") if os.environ.get(k)}
        path = os.pathsep.join(
            [str(Path(self.path) / "bin"), *(p for p in base_path.split(os.pathsep) if p not in ours)]
        )
        variables: dict[str, str | None] = {
            "PATH": path,
            "PYTHONHOME": None,
            "VIRTUAL_ENV": None,
            "CONDA_PREFIX": None,
            "CONDA_DEFAULT_ENV": None,
        }
        if self.kind == "conda" or (Path(self.path) / "conda-meta").is_dir():
            variables.update(CONDA_PREFIX=self.path, CONDA_DEFAULT_ENV=self.name)
        elif (Path(self.path) / "pyvenv.cfg").is_file():
            variables["VIRTUAL_ENV"] = self.path
        return variables

    def to_json(self) -> dict:
        return {**asdict(self), "kernel_name": self.kernel_name if self.has_ipykernel else None, "hint": self.hint}


def interpreter(prefix: Path) -> Path | None:
    for name in ("bin/python", "bin/python3", "python.exe"):
        if (prefix / name).exists():
            return prefix / name
    return None


def is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file() and interpreter(path) is not None


def is_conda_env(path: Path) -> bool:
    return (path / "conda-meta").is_dir() and interpreter(path) is not None


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


class EnvironmentFinder:
    """Finds environments; ``environments()`` is cached for ``cache_seconds`` and thread-safe."""

    def __init__(
        self,
        env_dirs=(),
        workspace: str | os.PathLike | None = None,
        conda_envs_dirs=(),
        cache_seconds: float = CACHE_SECONDS,
    ):
        self.env_dirs = [Path(d).expanduser() for d in [*env_dirs, *settings.ENV_DIRS.get()]]
        self.workspace = Path(workspace or os.getcwd())
        self.conda_envs_dirs = [Path(d).expanduser() for d in conda_envs_dirs]
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cache: tuple[float, list[Environment]] | None = None
        self._refreshing = threading.Event()

    # -- discovery -----------------------------------------------------------------------------
    def environments(self, refresh: bool = False) -> list[Environment]:
        with self._lock:
            if refresh or self._cache is None or time.monotonic() - self._cache[0] > self.cache_seconds:
                self._cache = (time.monotonic(), self._discover())
            return list(self._cache[1])

    def environments_soon(self) -> list[Environment]:
        """Never waits: the last discovery (empty before the first), refreshed in a background
        thread when missing or old. For callers on an event loop (kernel spec listings)."""
        cache = self._cache
        if (cache is None or time.monotonic() - cache[0] > self.cache_seconds) and not self._refreshing.is_set():
            self.discover_in_background(refresh=cache is not None)
        return list(cache[1]) if cache else []

    def discover_in_background(self, refresh: bool = True) -> None:
        self._refreshing.set()

        def discover():
            try:
                self.environments(refresh=refresh)
            finally:
                self._refreshing.clear()

        threading.Thread(target=discover, name="mlapp-env-discovery", daemon=True).start()

    def _discover(self) -> list[Environment]:
        found: dict[str, tuple[str, Path]] = {}  # real path -> (kind, path)
        server = Path(sys.prefix)
        found[os.path.realpath(server)] = ("server", server)
        for kind, paths in (("conda", self._conda_prefixes()), ("venv", self._venv_prefixes())):
            for path in paths:
                found.setdefault(os.path.realpath(path), (kind, path))
        with ThreadPoolExecutor(max_workers=8) as pool:
            probes = list(pool.map(lambda item: self._probe(*item), found.values()))
        named: list[Environment] = []
        taken: set[str] = set()
        for kind, path, probe in probes:
            name = self._unique(self._name(kind, path), kind, taken)
            named.append(
                Environment(
                    name=name,
                    path=str(path),
                    kind=kind,
                    python=str(interpreter(path) or sys.executable),
                    python_version=probe.get("version"),
                    has_ipykernel=bool(probe.get("ipykernel")),
                    error=probe.get("error"),
                )
            )
        return named

    @staticmethod
    def _unique(name: str, kind: str, taken: set[str]) -> str:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}-{kind}" if n == 2 else f"{name}-{kind}-{n - 1}"
        taken.add(candidate)
        return candidate

    def _name(self, kind: str, path: Path) -> str:
        if kind == "server":
            return "server"
        if kind == "conda" and (path / "condabin").is_dir():
            return "base"  # the root prefix of a conda installation
        if path.name in VENV_NAMES:  # `project/.venv` is the project's environment
            return path.parent.name or path.name
        return path.name

    def _conda_prefixes(self) -> list[Path]:
        conda = os.environ.get("CONDA_EXE") or shutil.which("conda")
        prefixes: list[Path] = []
        if conda:
            try:
                out = subprocess.run([conda, "info", "--json"], capture_output=True, timeout=CONDA_TIMEOUT, check=True)
                prefixes = [Path(p) for p in json.loads(out.stdout).get("envs", [])]
            except (OSError, subprocess.SubprocessError, ValueError):
                prefixes = []  # a broken conda: fall back to the files it keeps
        if not prefixes:
            listed = Path("~/.conda/environments.txt").expanduser()
            with contextlib.suppress(OSError):
                prefixes = [Path(line.strip()) for line in listed.read_text().splitlines() if line.strip()]
            envs_dirs = [*self.conda_envs_dirs, *(Path(d).expanduser() for d in CONDA_ENVS_DIRS)]
            envs_dirs += [Path(d) for d in os.environ.get("CONDA_ENVS_PATH", "").split(os.pathsep) if d]
            prefixes += [Path(d).expanduser() for d in CONDA_BASES]
            for folder in envs_dirs:
                prefixes += _children(folder)
        return [p for p in prefixes if is_conda_env(p)]

    def _venv_prefixes(self) -> list[Path]:
        candidates: list[Path] = []
        for folder in self.env_dirs:
            candidates += [folder, *_children(folder)]
        candidates.append(self.workspace)
        for child in _children(self.workspace):
            candidates += [child, *(child / name for name in VENV_NAMES)]
        return [p for p in candidates if is_venv(p)]

    def _probe(self, kind: str, path: Path) -> tuple[str, Path, dict]:
        if kind == "server":
            import importlib.util
            import platform

            return (
                kind,
                path,
                {"version": platform.python_version(), "ipykernel": importlib.util.find_spec("ipykernel") is not None},
            )
        python = interpreter(path)
        try:
            out = subprocess.run(
                [str(python), "-c", PROBE],
                capture_output=True,
                timeout=PROBE_TIMEOUT,
                env={"PATH": os.environ.get("PATH", os.defpath)},
                check=True,
            )
            return kind, path, json.loads(out.stdout)
        except subprocess.CalledProcessError as exc:
            error = exc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit code {exc.returncode}"]
            return kind, path, {"error": f"its python does not run: {error[0]}"}
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            return kind, path, {"error": f"its python does not run: {exc}"}

    # -- lookup --------------------------------------------------------------------------------
    def find(self, name_or_path: str) -> Environment:
        """The environment with this name, kernel name or path; ``InvalidInput`` if none."""
        wanted = str(name_or_path)
        for refresh in (False, True):  # a new environment appears without waiting for the cache
            envs = self.environments(refresh=refresh)
            real = os.path.realpath(os.path.expanduser(wanted)) if os.sep in wanted else None
            for env in envs:
                if wanted in (env.name, env.kernel_name) or (real and os.path.realpath(env.path) == real):
                    return env
        if real and (is_venv(Path(real)) or is_conda_env(Path(real))):
            kind = "conda" if is_conda_env(Path(real)) else "venv"
            _, path, probe = self._probe(kind, Path(real))
            return Environment(
                name=self._name(kind, path),
                path=str(path),
                kind=kind,
                python=str(interpreter(path)),
                python_version=probe.get("version"),
                has_ipykernel=bool(probe.get("ipykernel")),
                error=probe.get("error"),
            )
        names = ", ".join(sorted(env.name for env in envs))
        raise InvalidInput(
            f"unknown environment {wanted!r}; known: {names}", detail={"known": sorted(e.name for e in envs)}
        )


_finder: EnvironmentFinder | None = None


def default_finder() -> EnvironmentFinder:
    """The finder of this process: the server's workspace in a kernel it started, else the
    current folder."""
    global _finder
    if _finder is None:
        _finder = EnvironmentFinder(workspace=settings.WORKSPACE.get())
    return _finder
