"""Job records in SQLite (WAL): the one place the server, kernels and supervisors agree on.

Every state change is one ``BEGIN IMMEDIATE`` transaction, so a server, several kernels and the
supervisors of running jobs can read and write the same file at once. The queue lives here too:
whoever has a free slot claims the next queued job in a transaction, so the concurrency limit
holds across processes without any of them being in charge. The queue is fair between users: the
next job is the oldest of the user with the fewest running jobs (then: whose last job started
longest ago), so one user's 20 queued jobs do not hold another's.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..home import Database, Schema, add_columns, transaction

STATES = ("queued", "running", "succeeded", "failed", "killed", "lost")
ACTIVE = ("queued", "running")

# Version 1: the first release's tables. Since then: who started a job and how (role, template),
# where it runs (backend, resources).
SCHEMA = Schema(
    "jobs",
    """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user TEXT NOT NULL,
    command TEXT NOT NULL,          -- JSON argv as the user gave it (what the table shows)
    argv TEXT NOT NULL,             -- JSON argv as run (interpreter and executable resolved)
    cwd TEXT NOT NULL,
    env TEXT NOT NULL,              -- JSON overlay on the supervisor's environment; null unsets
    environment TEXT,               -- name of the environment the job runs in
    environment_path TEXT,
    stdin_path TEXT,
    log_path TEXT NOT NULL,
    grace REAL NOT NULL,            -- seconds between SIGTERM and SIGKILL
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    claimed_at REAL,
    started_at REAL,
    ended_at REAL,
    pid INTEGER,
    pid_created REAL,               -- the child's start time: a reused PID is never signalled
    supervisor_pid INTEGER,
    supervisor_created REAL,
    exit_code INTEGER,
    signal TEXT,
    kill_requested_at REAL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
CREATE INDEX IF NOT EXISTS jobs_by_user ON jobs(user, seq);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""",
    migrations=(
        add_columns(
            "jobs",
            role="TEXT",  # the starter's role, the job's MLAPP_ROLE
            template="TEXT",  # the job template it was started from (viewers start only these)
            backend="TEXT",  # where it runs: null for this machine, 'ray' for the Ray cluster
            resources="TEXT",  # JSON {cpus, gpus, memory} asked of the cluster, or null
        ),
    ),
)


# Per waiting user: their oldest queued job, how many of theirs run, when their last one started.
NEXT_FAIRLY = """
WITH waiting AS (SELECT user, min(seq) AS first FROM jobs WHERE state = 'queued' AND backend IS NULL GROUP BY user),
     load AS (SELECT user, sum(state = 'running' AND backend IS NULL) AS running, max(claimed_at) AS last FROM jobs
              WHERE user IN (SELECT user FROM waiting) GROUP BY user)
SELECT jobs.id FROM waiting JOIN load USING (user) JOIN jobs ON jobs.seq = waiting.first
ORDER BY load.running, coalesce(load.last, 0), waiting.first LIMIT 1
"""


class QueueFull(Exception):
    """A user has as many queued jobs as one may (``JobStore.insert``'s ``max_queued``)."""

    def __init__(self, queued: int):
        super().__init__(queued)
        self.queued = queued


@dataclass
class Job:
    """One job as recorded. Times are seconds since the epoch; ``None`` when not reached yet."""

    id: str
    name: str
    user: str
    command: list[str]
    argv: list[str]
    cwd: str
    env: dict
    environment: str | None
    environment_path: str | None
    stdin_path: str | None
    log_path: str
    grace: float
    state: str
    created_at: float
    claimed_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    pid: int | None = None
    pid_created: float | None = None
    supervisor_pid: int | None = None
    supervisor_created: float | None = None
    exit_code: int | None = None
    signal: str | None = None
    kill_requested_at: float | None = None
    reason: str | None = None
    role: str | None = None
    template: str | None = None
    backend: str | None = None  # None: this machine; "ray": the Ray cluster (its submission id is mlapp-<id>)
    resources: dict | None = None  # asked of the cluster: cpus, gpus, memory (bytes)
    # Live figures of a running job (not stored): CPU % and resident memory of its process group.
    cpu_percent: float | None = field(default=None, compare=False)
    memory: int | None = field(default=None, compare=False)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        data = dict(row)
        data.pop("seq", None)
        for key in ("command", "argv", "env"):
            data[key] = json.loads(data[key])
        data["resources"] = json.loads(data["resources"]) if data.get("resources") else None
        return cls(**data)

    @property
    def finished(self) -> bool:
        return self.state not in ACTIVE

    @property
    def runtime(self) -> float | None:
        """Seconds the job has run (so far, while it runs)."""
        if self.started_at is None:
            return None
        return (self.ended_at or time.time()) - self.started_at

    def to_json(self) -> dict:
        """What the REST API and the widgets show: no environment variable values, no stdin."""
        data = asdict(self)
        for private in ("env", "stdin_path", "claimed_at", "pid_created", "supervisor_created"):
            data.pop(private)
        data["env_keys"] = sorted(self.env)
        data["runtime"] = self.runtime
        return data


class JobStore:
    """The ``jobs.sqlite`` file: one connection per thread (transactions never interleave)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.database = Database(self.path, SCHEMA)
        self.database.connection()  # now: a file newer than the code is refused here, not at the first job

    @property
    def conn(self) -> sqlite3.Connection:
        return self.database.connection()

    # -- records ---------------------------------------------------------------------------------
    def insert(self, job: Job, max_queued: int | None = None) -> None:
        """Record a new job; with ``max_queued``, ``QueueFull`` if its user has that many queued
        already (counted in the same transaction: a burst cannot pass the cap)."""
        data = asdict(job)
        data.pop("cpu_percent")
        data.pop("memory")
        for key in ("command", "argv", "env"):
            data[key] = json.dumps(data[key])
        data["resources"] = json.dumps(data["resources"]) if data["resources"] else None
        columns = ", ".join(data)
        marks = ", ".join(f":{key}" for key in data)
        with transaction(self.conn) as conn:
            if max_queued is not None:
                (queued,) = conn.execute(
                    "SELECT count(*) FROM jobs WHERE user = ? AND state = 'queued'", (job.user,)
                ).fetchone()
                if queued >= max_queued:
                    raise QueueFull(queued)
            conn.execute(f"INSERT INTO jobs ({columns}) VALUES ({marks})", data)

    def get(self, job_id: str) -> Job | None:
        row = self.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(row) if row else None

    def list(self, user: str | None = None, states: tuple[str, ...] | None = None) -> list[Job]:
        """Jobs in the order they were started; all users' when ``user`` is None."""
        sql, args = "SELECT * FROM jobs WHERE 1", []
        if user is not None:
            sql += " AND user = ?"
            args.append(user)
        if states:
            sql += f" AND state IN ({', '.join('?' * len(states))})"
            args.extend(states)
        return [Job.from_row(row) for row in self.conn.execute(sql + " ORDER BY seq", args)]

    def update(self, job_id: str, only_if_state: tuple[str, ...] = ACTIVE, **values) -> Job | None:
        """Set ``values`` if the job is in one of ``only_if_state``; the record after, else None."""
        sets = ", ".join(f"{key} = :{key}" for key in values)
        marks = ", ".join(f":state{i}" for i in range(len(only_if_state)))
        args = {**values, "id": job_id, **{f"state{i}": s for i, s in enumerate(only_if_state)}}
        with transaction(self.conn) as conn:
            changed = conn.execute(f"UPDATE jobs SET {sets} WHERE id = :id AND state IN ({marks})", args).rowcount
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone() if changed else None
        return Job.from_row(row) if row else None

    def delete(self, job_id: str) -> Job | None:
        """Forget a finished job; the record deleted, or None if there is none or it is active.

        One transaction: a job cannot start (or be claimed) between the check and the delete.
        """
        with transaction(self.conn) as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or row["state"] in ACTIVE:
                return None
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        return Job.from_row(row)

    def finished_before(self, when: float, user: str | None = None) -> list[Job]:
        """Finished jobs that ended before ``when`` (all users' when ``user`` is None), oldest first."""
        sql = (
            f"SELECT * FROM jobs WHERE state NOT IN ({', '.join('?' * len(ACTIVE))}) "
            "AND coalesce(ended_at, created_at) < ?"
        )
        args: list = [*ACTIVE, when]
        if user is not None:
            sql += " AND user = ?"
            args.append(user)
        return [Job.from_row(row) for row in self.conn.execute(sql + " ORDER BY seq", args)]

    # -- the queue -------------------------------------------------------------------------------
    def claim_next(self, limit: int) -> Job | None:
        """Move the next queued job (fair between users, see above) to ``running`` if fewer than
        ``limit`` run; None otherwise.

        Jobs of this machine only: a cluster queues its own jobs."""
        with transaction(self.conn) as conn:
            (running,) = conn.execute(
                "SELECT count(*) FROM jobs WHERE state = 'running' AND backend IS NULL"
            ).fetchone()
            if running >= limit:
                return None
            row = conn.execute(NEXT_FAIRLY).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE jobs SET state = 'running', claimed_at = ? WHERE id = ?", (time.time(), row["id"]))
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone()
        return Job.from_row(row)

    def take(self, job_id: str, supervisor_pid: int, supervisor_created: float | None) -> Job | None:
        """A supervisor takes a claimed job; None if it is over or another supervisor has it."""
        with transaction(self.conn) as conn:
            taken = conn.execute(
                "UPDATE jobs SET supervisor_pid = ?, supervisor_created = ? "
                "WHERE id = ? AND state = 'running' AND supervisor_pid IS NULL",
                (supervisor_pid, supervisor_created, job_id),
            ).rowcount
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone() if taken else None
        return Job.from_row(row) if row else None

    def record_exit(
        self, job_id: str, exit_code: int | None, signal_name: str | None, reason: str | None = None
    ) -> Job | None:
        """The job's end: killed if a kill was asked for, else succeeded on exit code 0, else failed."""
        with transaction(self.conn) as conn:
            conn.execute(
                """UPDATE jobs SET ended_at = ?, exit_code = ?, signal = ?, reason = coalesce(?, reason),
                   state = CASE WHEN kill_requested_at IS NOT NULL THEN 'killed'
                                WHEN ? = 0 THEN 'succeeded' ELSE 'failed' END
                   WHERE id = ? AND state = 'running'""",
                (time.time(), exit_code, signal_name, reason, exit_code, job_id),
            )
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(row) if row else None

    def request_kill(self, job_id: str) -> tuple[Job, Job | None]:
        """Ask for a job's end: a queued job is killed at once, a running one is marked.

        Returns the record before and after (after is None when there was nothing to do).
        """
        now = time.time()
        with transaction(self.conn) as conn:
            before = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if before is None:
                raise KeyError(job_id)
            if before["state"] == "queued":
                conn.execute(
                    "UPDATE jobs SET state = 'killed', ended_at = ?, kill_requested_at = ? WHERE id = ?",
                    (now, now, job_id),
                )
            elif before["state"] == "running" and before["kill_requested_at"] is None:
                conn.execute("UPDATE jobs SET kill_requested_at = ? WHERE id = ?", (now, job_id))
            elif before["state"] != "running":
                return Job.from_row(before), None
            after = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(before), Job.from_row(after)

    # -- settings shared by every process on this home folder --------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with transaction(self.conn) as conn:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        self.database.close()
