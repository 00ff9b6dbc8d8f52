"""Named snapshots of an app's state: save, list, load, rename, delete.

A snapshot is a copy of the live rows under the snapshot's slot; rows share the blobs of large
values, so saving a snapshot of a 10 MB state writes a few rows, not 10 MB. Each operation is one
SQLite transaction: a crash leaves the snapshot saved (or renamed, or deleted) or not, never half.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from ..errors import Conflict, NotFound
from ..home import transaction
from .store import LIVE, StateIndex, check_name

SUMMARY_MAX = 160


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


class Snapshots:
    """The snapshots of one app for one user."""

    def __init__(self, index: StateIndex):
        self.index = index

    @property
    def conn(self):
        return self.index.conn

    def list(self) -> list[dict]:
        """Newest first: name, created (ISO 8601, UTC), size in bytes, number of keys, summary."""
        with self.index.lock:
            rows = self.conn.execute(
                "SELECT s.*, (SELECT count(*) FROM entries e WHERE e.slot=s.id) AS keys "
                "FROM snapshots s ORDER BY created DESC, id DESC"
            ).fetchall()
        return [
            {
                "name": r["name"],
                "created": iso(r["created"]),
                "size": r["size"],
                "keys": r["keys"],
                "summary": r["summary"],
            }
            for r in rows
        ]

    def info(self, name: str) -> dict:
        check_name(name, "snapshot name")
        for snapshot in self.list():
            if snapshot["name"] == name:
                return snapshot
        raise NotFound(f"no snapshot named {name!r}")

    def _id(self, name: str) -> int:
        row = self.conn.execute("SELECT id FROM snapshots WHERE name=?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no snapshot named {name!r}")
        return row[0]

    def save(self, name: str, overwrite: bool = False) -> dict:
        """Copy the live state (as stored) under ``name``."""
        check_name(name, "snapshot name")
        with self.index.lock, transaction(self.conn):
            old = self.conn.execute("SELECT id FROM snapshots WHERE name=?", (name,)).fetchone()
            if old is not None:
                if not overwrite:
                    raise Conflict(f"a snapshot named {name!r} exists: choose another name or delete it first")
                self._drop(old[0])
            rows = self.conn.execute(
                "SELECT key, meta, size FROM entries WHERE slot=? ORDER BY key", (LIVE,)
            ).fetchall()
            cur = self.conn.execute(
                "INSERT INTO snapshots (name, created, size, summary) VALUES (?, ?, ?, ?)",
                (name, time.time(), sum(r["size"] for r in rows), summarize(rows)),
            )
            slot = cur.lastrowid
            self.conn.execute(
                "INSERT INTO entries SELECT ?, key, kind, meta, inline, blob, size, updated, writer "
                "FROM entries WHERE slot=?",
                (slot, LIVE),
            )
        return self.info(name)

    def load(self, name: str) -> None:
        """Make the snapshot the live state (the caller reloads its values from the rows)."""
        check_name(name, "snapshot name")
        with self.index.lock, transaction(self.conn):
            slot = self._id(name)  # NotFound before anything changed
            self.conn.execute("DELETE FROM entries WHERE slot=?", (LIVE,))
            self.conn.execute(
                "INSERT INTO entries SELECT ?, key, kind, meta, inline, blob, size, ?, writer "
                "FROM entries WHERE slot=?",
                (LIVE, time.time(), slot),
            )

    def rename(self, name: str, new_name: str) -> dict:
        check_name(name, "snapshot name")
        check_name(new_name, "new snapshot name")
        with self.index.lock, transaction(self.conn):
            slot = self._id(name)
            if new_name != name and self.conn.execute("SELECT 1 FROM snapshots WHERE name=?", (new_name,)).fetchone():
                raise Conflict(f"a snapshot named {new_name!r} exists")
            self.conn.execute("UPDATE snapshots SET name=? WHERE id=?", (new_name, slot))
        return self.info(new_name)

    def delete(self, name: str) -> None:
        check_name(name, "snapshot name")
        with self.index.lock, transaction(self.conn):
            self._drop(self._id(name))
        self.index.collect_garbage()

    def _drop(self, slot: int) -> None:
        self.conn.execute("DELETE FROM entries WHERE slot=?", (slot,))
        self.conn.execute("DELETE FROM snapshots WHERE id=?", (slot,))


def summarize(rows) -> str:
    """``3 values: learning_rate=0.01, data=DataFrame 100000x8, page='Train'``, kept short."""
    parts = []
    for row in rows:
        summary = json.loads(row["meta"] or "{}").get("summary", "")
        parts.append(f"{row['key']}={summary}" if summary else row["key"])
    text = f"{len(rows)} value{'s' if len(rows) != 1 else ''}" + (": " + ", ".join(parts) if parts else "")
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"
