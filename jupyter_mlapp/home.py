"""Where jupyter-mlapp keeps its data: one home folder, SQLite in WAL mode, atomic writes.

Every room stores its state below the home folder (``home_dir() / <room>``). The server and the
kernels (notebooks, Voila apps) resolve the same folder, so they share state without talking to
each other: the server passes its home to kernels through ``MLAPP_HOME``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

HOME_ENV = "MLAPP_HOME"


def default_home() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "mlapp"


def home_dir(home: str | os.PathLike | None = None) -> Path:
    """The home folder: the argument, else ``$MLAPP_HOME``, else ``<jupyter data dir>/mlapp``.

    It is created when missing.
    """
    path = Path(home or os.environ.get(HOME_ENV) or default_home()).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def room_dir(room: str, home: str | os.PathLike | None = None) -> Path:
    """The folder of one room (``sessions``, ``jobs``, ...) inside the home folder."""
    path = home_dir(home) / room
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_writable(path: str | os.PathLike) -> None:
    """Raise ``PermissionError`` with a clear message when ``path`` cannot hold our data."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise PermissionError(f"home folder {path} is not writable ({exc.strerror or exc})") from exc


# How long a connection waits for another process's write lock before "database is locked". A
# kernel's autosave may wait; the server must not (a request holds a worker thread meanwhile): it
# calls use_server_busy_timeout() at start, and a locked file answers that one request a 503.
KERNEL_BUSY_TIMEOUT = 30.0
SERVER_BUSY_TIMEOUT = 2.0
_busy_timeout = KERNEL_BUSY_TIMEOUT


def use_server_busy_timeout() -> None:
    global _busy_timeout
    _busy_timeout = SERVER_BUSY_TIMEOUT


def connect(path: str | os.PathLike, timeout: float | None = None, readonly: bool = False) -> sqlite3.Connection:
    """Open a SQLite database in WAL mode, safe for several processes writing at once.

    ``isolation_level=None`` leaves transactions to the caller (``with transaction(conn):``).
    ``readonly`` opens an existing database for reading only: it never takes the write lock, so
    it never waits for a writer (WAL readers see the last commit). ``timeout`` defaults to this
    process's busy timeout (30 s in kernels, 2 s in the server).
    """
    timeout = _busy_timeout if timeout is None else timeout
    if readonly:
        target, uri = Path(path).resolve().as_uri() + "?mode=ro", True
    else:
        target, uri = str(path), False
    conn = sqlite3.connect(target, timeout=timeout, isolation_level=None, check_same_thread=False, uri=uri)
    conn.row_factory = sqlite3.Row
    if not readonly:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def is_locked(exc: BaseException) -> bool:
    """``exc`` says another process holds the database's lock (not damage: try again later)."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection):
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: takes the write lock up front, so concurrent writers
    queue on the busy timeout instead of failing half-way with ``database is locked``."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def atomic_write(path: str | os.PathLike, data: bytes | str, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a crash at any instant leaves the old or the new file.

    Write to a temporary file in the same folder, fsync it, rename it over the target, fsync the
    folder (so the rename itself is durable).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
