"""Where jupyter-mlapp keeps its data: one home folder, SQLite in WAL mode, atomic writes.

Every room stores its state below the home folder (``home_dir() / <room>``). The server and the
kernels (notebooks, Voila apps) resolve the same folder, so they share state without talking to
each other: the server passes its home to kernels through ``MLAPP_HOME``.

Each SQLite file has a ``Schema``: version 1 (what the first release wrote) and the migrations
since, in order. ``open_database`` brings a file forward to the code's version in one transaction
(its version is ``PRAGMA user_version``) and refuses a file from a newer release.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import settings
from .errors import MLAppError


def default_home() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "mlapp"


def home_dir(home: str | os.PathLike | None = None) -> Path:
    """The home folder: the argument, else ``$MLAPP_HOME``, else ``<jupyter data dir>/mlapp``.

    It is created when missing.
    """
    path = Path(home or settings.HOME.get() or default_home()).expanduser().resolve()
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


# A step from one schema version to the next: SQL statements, or a function given the connection
# (inside the migration's transaction: it must not commit).
Migration = str | Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Schema:
    """The tables of one kind of database file.

    ``create`` is version 1, exactly as the first release wrote it (``CREATE ... IF NOT EXISTS``:
    a file of that release, which recorded no version, reads as version 0 and is completed, not
    rebuilt). ``migrations[0]`` takes version 1 to 2, and so on: add one at the end for each
    change, never edit one that shipped.
    """

    name: str  # what the messages call it: "jobs", "users", ...
    create: str
    migrations: tuple[Migration, ...] = ()

    @property
    def version(self) -> int:
        return 1 + len(self.migrations)


class SchemaTooNew(MLAppError):
    """The file was written by a newer jupyter-mlapp: opening it with this one could damage it."""

    status = 500  # the server's home folder is at fault, not the request


def add_columns(table: str, **columns: str) -> Callable[[sqlite3.Connection], None]:
    """A migration adding ``columns`` (name=definition) to ``table``, those it lacks only: home
    folders written before schemas had versions (version 0) may hold some of them already."""

    def migrate(conn: sqlite3.Connection) -> None:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for column, definition in columns.items():
            if column not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    return migrate


def execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run SQL statements one by one: ``executescript`` would commit the caller's transaction."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        conn.execute(statement)


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def open_database(
    path: str | os.PathLike, schema: Schema, timeout: float | None = None, readonly: bool = False
) -> sqlite3.Connection:
    """``connect`` to ``path``, brought to ``schema``'s version first.

    A file at the code's version opens without the write lock; an older one (or a new file) is
    migrated in one ``BEGIN IMMEDIATE`` transaction, so a failing step leaves it as it was and
    concurrent openers migrate it once. ``readonly`` migrates through a writable connection, then
    opens for reading. A file of a newer version raises ``SchemaTooNew``, touched by nothing.
    """
    conn = connect(path, timeout=timeout, readonly=readonly)
    try:
        version = schema_version(conn)
        if version < schema.version:
            if readonly:
                with contextlib.closing(connect(path, timeout=timeout)) as writer:
                    migrate(writer, schema)
            else:
                migrate(conn, schema)
            version = schema_version(conn)
        if version > schema.version:
            raise SchemaTooNew(
                f"{path} holds version {version} of the {schema.name} database, newer than this "
                f"jupyter-mlapp knows (version {schema.version}): upgrade jupyter-mlapp to open it",
                detail={"path": str(path), "version": version, "known": schema.version},
            )
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, schema: Schema) -> None:
    """Apply the migrations ``conn``'s file lacks, in one transaction (see ``open_database``)."""
    with transaction(conn):
        version = schema_version(conn)  # again under the lock: another process may have done it
        if version > schema.version:
            return  # open_database says so
        if version == 0:
            execute_script(conn, schema.create)
            version = 1
        for step in schema.migrations[version - 1 :]:
            if callable(step):
                step(conn)
            else:
                execute_script(conn, step)
        conn.execute(f"PRAGMA user_version = {schema.version}")


class Database:
    """One SQLite file of a room, with a connection per thread (so one thread's transaction
    never interleaves with another's), each opened by ``open_database``."""

    def __init__(self, path: str | os.PathLike, schema: Schema):
        self.path = Path(path)
        self.schema = schema
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened (the file created or migrated) at the first call."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = open_database(self.path, self.schema)
        return conn

    def close(self) -> None:
        """Close this thread's connection (the next use opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


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
