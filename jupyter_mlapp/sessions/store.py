"""On-disk layout of sessions: one SQLite index per app and user, values in content-addressed blobs.

::

    <home>/sessions/<user>/apps/<app>/state.db        live autosave (slot 0) and snapshots (slot N)
    <home>/sessions/<user>/apps/<app>/state.good.db   the index as it was when the app last loaded fine
    <home>/sessions/<user>/apps/<app>/blobs/ab/abcd…  values over 4 KB, named by their hash (shared by snapshots)
    <home>/sessions/<user>/apps/<app>/corrupt/        damaged files set aside (never deleted by us)
    <home>/sessions/<user>/cache/                     the explicit cache (same layout, ``cache.db``)

Why this shape: a changed key is one row (plus one new blob when large), so an autosave never
rewrites unchanged large values; SQLite gives per-key last-write-wins between two tabs (two
kernels) and atomic multi-key commits; a snapshot is a copy of rows that share the blobs, so saving
one costs no copy of the data. A blob is written (fsynced, renamed) before the row that names it
is committed, so a process killed at any instant leaves the old or the new state.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import unicodedata
from pathlib import Path

from ..errors import InvalidInput
from ..home import Schema, atomic_write, open_database, room_dir, transaction
from .values import Encoded

ROOM = "sessions"
# Values up to this size live in the index row itself; larger ones in blobs, which snapshots
# share instead of copying (and which keep the index small enough to check at every open).
INLINE_MAX = 4 * 1024
NAME_MAX = 128
# An unreferenced blob younger than this may belong to a writer about to commit: keep it.
GC_GRACE = 60.0
# Opening the index while another kernel creates or writes it may meet a lock: retry for ~5 s.
OPEN_ATTEMPTS = 50


class DamagedBlob(ValueError):
    """A value's file no longer holds what was saved."""


def blob_digest(data: bytes) -> str:
    """The name of a value's file: its content's hash (BLAKE2b, ~1 GB/s)."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def check_name(name, what: str = "name") -> str:
    """``name`` if it is safe as a file or snapshot name, else ``InvalidInput`` saying why."""
    if not isinstance(name, str):
        raise InvalidInput(f"{what} must be text, not {type(name).__name__}")
    if not name.strip():
        raise InvalidInput(f"{what} is empty")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"{what} is too long ({len(name)} characters, at most {NAME_MAX})")
    if "/" in name or "\\" in name:
        raise InvalidInput(f"{what} {name!r} must not contain / or \\")
    if ".." in name or name.startswith("."):
        raise InvalidInput(f"{what} {name!r} must not start with . or contain ..")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise InvalidInput(f"{what} {name!r} contains control characters")
    if name != name.strip():
        raise InvalidInput(f"{what} {name!r} must not start or end with spaces")
    return name


def user_folder(user: str, home=None) -> Path:
    """``<home>/sessions/<user>``, readable by its owner only (other local accounts on the
    machine must not read a user's state)."""
    return _private_dir(room_dir(ROOM, home) / check_name(user, "user name"))


def app_folder(user: str, app: str, home=None) -> Path:
    return user_folder(user, home) / "apps" / check_name(app, "app name")


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


class Index:
    """A SQLite index in ``folder`` plus the blobs its rows name.

    Subclasses give ``SCHEMA`` (a ``Schema`` of tables with ``kind, meta, inline, blob, size`` columns) and
    ``BLOB_REFS`` (a query listing every blob digest still in use).
    """

    FILE = "index.db"
    SCHEMA: Schema
    BLOB_REFS = ""

    def __init__(self, folder: Path, readonly: bool = False):
        self.readonly = readonly  # the server's reads: no write lock, never waiting for a writer
        self.folder = _private_dir(Path(folder))
        self.path = self.folder / self.FILE
        self.good_path = self.path.with_suffix(".good.db")
        self.blobs = self.folder / "blobs"
        self.notices: list[str] = []  # what went wrong and was repaired, to tell the user
        self.lock = threading.RLock()  # one connection, used by the kernel and its autosave thread
        self.conn = self._open()

    # -- the index ------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if self.readonly:
            try:
                return self._connect(self.path)
            except sqlite3.OperationalError:  # locked or unreadable, not damaged: the caller says so
                raise
            except sqlite3.DatabaseError:  # damaged: repair it, which takes a writable opening
                self.readonly = False
        attempts = 0
        while True:
            try:
                return self._connect(self.path)
            except sqlite3.OperationalError:
                # Busy or locked (another kernel of this app creating or writing the file) is not
                # damage: setting the file aside would lose what that kernel writes. Wait, retry.
                attempts += 1
                if attempts == OPEN_ATTEMPTS:
                    raise
                time.sleep(0.1)
            except sqlite3.DatabaseError:
                return self._recover()

    def _recover(self) -> sqlite3.Connection:
        """The index is damaged: set it aside, continue from the last good copy (or clean)."""
        try:
            aside = self.set_aside(self.path)
        except FileNotFoundError:  # another process set it aside first: use what it made
            return self._connect(self.path)
        for suffix in ("-wal", "-shm"):
            extra = Path(f"{self.path}{suffix}")
            if extra.exists():
                self.set_aside(extra)
        if self.good_path.exists():
            shutil.copyfile(self.good_path, self.path)
            try:
                conn = self._connect(self.path)
            except sqlite3.DatabaseError:  # the good copy is damaged too: start clean
                self.set_aside(self.path)
            else:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.good_path.stat().st_mtime))
                self.notices.append(
                    f"The saved state was damaged and was set aside as {aside.name}; "
                    f"restored the last good state from {when}."
                )
                return conn
        self.notices.append(f"The saved state was damaged and was set aside as {aside.name}; starting clean.")
        return self._connect(self.path)

    def _connect(self, path: Path) -> sqlite3.Connection:
        # An index at the code's version opens without taking the write lock.
        conn = open_database(path, self.SCHEMA, readonly=self.readonly)
        try:
            # The index is small (large values live in blobs): checking every page is cheap, and
            # finds a truncated or overwritten file now rather than half-way through a load.
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(verdict)
            if not self.readonly:
                os.chmod(path, 0o600)
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def set_aside(self, path: Path) -> Path:
        """Move a damaged file to ``corrupt/``, kept for inspection; returns where it went."""
        target = _private_dir(self.folder / "corrupt") / f"{path.name}.{time.strftime('%Y%m%dT%H%M%S')}"
        n = 1
        while target.exists():
            target = target.with_name(f"{target.name}.{n}")
            n += 1
        os.replace(path, target)
        return target

    def save_good_copy(self) -> None:
        """Keep a copy of the index as it is now, known to load: the fallback if it gets damaged."""
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{self.good_path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            with self.lock:
                dest = sqlite3.connect(tmp)
                try:
                    self.conn.backup(dest)
                    # A single self-contained file: no -wal beside it that could outlive it and be
                    # replayed onto the next copy renamed over it.
                    dest.execute("PRAGMA journal_mode=DELETE")
                finally:
                    dest.close()
            os.replace(tmp, self.good_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    # -- values -----------------------------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        return self.blobs / digest[:2] / digest

    def prepare(self, encoded: Encoded) -> tuple:
        """Write a large value's blob (before any row names it); returns the row columns
        ``(kind, meta, inline, blob, size)``."""
        data = encoded.data
        meta = json.dumps(encoded.meta, default=str)
        if len(data) <= INLINE_MAX:
            return (encoded.kind, meta, data, None, len(data))
        digest = blob_digest(data)
        path = self.blob_path(digest)
        if path.exists():
            # A fresh mtime: the collector spares blobs younger than GC_GRACE, so it cannot
            # remove this one between now and our commit.
            os.utime(path)
        else:
            _private_dir(path.parent)
            atomic_write(path, data)
        return (encoded.kind, meta, None, digest, len(data))

    def read(self, row) -> Encoded:
        """The stored value of a row (``kind, meta, inline, blob`` columns). A blob is named by
        the hash of its content: one whose content changed since (a flipped bit, a partial
        copy, an edit) raises DamagedBlob rather than loading wrong values."""
        data = row["inline"]
        if row["blob"]:
            data = self.blob_path(row["blob"]).read_bytes()
            if blob_digest(data) != row["blob"]:
                raise DamagedBlob("its file does not hold what was saved (the content changed since)")
        return Encoded(row["kind"], bytes(data), json.loads(row["meta"] or "{}"))

    def collect_garbage(self) -> int:
        """Delete blobs no row names any more, and temporary files left by killed writers;
        returns how many."""
        now = time.time()

        def remove_if_old(path: Path) -> int:
            with contextlib.suppress(FileNotFoundError):
                if now - path.stat().st_mtime > GC_GRACE:
                    path.unlink()
                    return 1
            return 0

        removed = sum(remove_if_old(tmp) for tmp in self.folder.glob(".*.tmp"))
        if not self.blobs.exists():
            return removed
        with self.lock, transaction(self.conn):  # under the write lock: no commit races the check
            used = {r[0] for r in self.conn.execute(self.BLOB_REFS)} | self.good_refs()
            for sub in self.blobs.iterdir():
                removed += sum(remove_if_old(blob) for blob in sub.iterdir() if blob.name not in used)
        return removed

    def good_refs(self) -> set[str]:
        if not self.good_path.exists():
            return set()
        try:
            conn = sqlite3.connect(f"file:{self.good_path}?mode=ro", uri=True)
            try:
                return {r[0] for r in conn.execute(self.BLOB_REFS)}
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return set()

    def close(self) -> None:
        with self.lock:
            self.conn.close()


LIVE = 0  # the slot of the live (autosaved) state; snapshots use their own id as slot


class StateIndex(Index):
    """The index of one app for one user: live values and named snapshots."""

    FILE = "state.db"
    # Version 1 is the first release's; no change since.
    SCHEMA = Schema(
        "app state",
        """
    CREATE TABLE IF NOT EXISTS entries (
        slot INTEGER NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, meta TEXT,
        inline BLOB, blob TEXT, size INTEGER NOT NULL, updated REAL NOT NULL, writer TEXT NOT NULL,
        PRIMARY KEY (slot, key));
    CREATE INDEX IF NOT EXISTS entries_blob ON entries(blob) WHERE blob IS NOT NULL;
    CREATE TABLE IF NOT EXISTS snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, created REAL NOT NULL,
        size INTEGER NOT NULL, summary TEXT NOT NULL);
    """,
    )
    BLOB_REFS = "SELECT DISTINCT blob FROM entries WHERE blob IS NOT NULL"

    def __init__(self, user: str, app: str, home=None, readonly: bool = False):
        self.user, self.app = user, app
        super().__init__(app_folder(user, app, home), readonly=readonly)

    def rows(self, slot: int = LIVE) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute("SELECT * FROM entries WHERE slot=? ORDER BY key", (slot,)).fetchall()

    def write(self, changes: dict[str, Encoded | None]) -> None:
        """Store the changed keys of the live state in one commit (``None`` deletes a key)."""
        now = time.time()
        prepared = {key: self.prepare(enc) for key, enc in changes.items() if enc is not None}
        with self.lock, transaction(self.conn):
            for key, enc in changes.items():
                if enc is None:
                    self.conn.execute("DELETE FROM entries WHERE slot=? AND key=?", (LIVE, key))
                else:
                    self.conn.execute(
                        "INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?,?,?,?)",
                        (LIVE, key, *prepared[key], now, self.user),
                    )

    def clear(self) -> None:
        with self.lock, transaction(self.conn):
            self.conn.execute("DELETE FROM entries WHERE slot=?", (LIVE,))
