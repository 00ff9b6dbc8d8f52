"""Where jobs run: the small interface the manager needs and the local implementation.

The table, the REST API and the widgets only talk to ``JobManager``; the manager only asks its
backend to start, poll, kill and read the log of a job, and whether an ended one still runs.
``dispatcher.JobBackends`` sends each job to this machine's backend or to Ray's (``ray_backend``).
"""

from __future__ import annotations

import abc
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from . import launcher
from .store import Job, JobStore
from .supervisor import process_started

# How long a claimed job may wait for its supervisor to record the start before it is lost.
CLAIM_TIMEOUT = 60.0
# Two start times of one process differ only by rounding; a reused PID differs by far more.
SAME_PROCESS = 0.05


# `python -m jupyter_mlapp.jobs.<module>`, minus the site packages' start-up (.pth hooks cost tens
# of ms): on Linux the supervisor and the launcher need nothing but this package and the stdlib.
PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
# A launcher is being started: don't start another for every job of a burst meanwhile.
LAUNCHER_RETRY = 5.0


def our_process(module: str) -> list[str]:
    if not sys.platform.startswith("linux"):
        return [sys.executable, "-m", f"jupyter_mlapp.jobs.{module}"]
    return [
        sys.executable,
        "-S",
        "-c",
        "import sys; sys.path.insert(0, sys.argv.pop(1)); "
        f"from jupyter_mlapp.jobs.{module} import main; sys.exit(main(sys.argv[1:]))",
        PACKAGE_PARENT,
    ]


@dataclass
class LogChunk:
    """A bounded piece of a job's log: bytes ``offset`` to ``next_offset`` of ``size``."""

    text: str
    offset: int
    next_offset: int
    size: int

    def to_json(self) -> dict:
        return {"text": self.text, "offset": self.offset, "next_offset": self.next_offset, "size": self.size}


class Backend(abc.ABC):
    @abc.abstractmethod
    def start(self, job: Job, limit: int) -> None:
        """Run ``job`` (already claimed: state running); on failure record it failed."""

    @abc.abstractmethod
    def poll(self, jobs: list[Job]) -> list[Job]:
        """The jobs as they are now: lost if their supervisor died, live CPU and memory if running."""

    @abc.abstractmethod
    def kill(self, job: Job) -> bool:
        """End a running job (its kill is already recorded as requested), or what still runs of
        a lost one; False when nothing of it runs any more."""

    @abc.abstractmethod
    def read_log(self, job: Job, offset: int, limit: int, tail: int | None = None) -> LogChunk:
        """At most ``limit`` bytes of the log from ``offset`` (or the last ``tail`` bytes)."""

    @abc.abstractmethod
    def still_runs(self, job: Job) -> bool:
        """Whether the command of a job recorded as ended still runs (a lost job's, whose
        supervisor died): such a job is not removed while it can still be killed."""


def same_process(pid: int | None, started: float | None) -> bool:
    """Whether ``pid`` is still the live process that started at ``started`` (not a reused PID)."""
    if not pid or started is None:
        return False
    now = process_started(pid)
    return now is not None and abs(now - started) < SAME_PROCESS


def utf8_boundary(data: bytes) -> int:
    """Length of ``data`` without a trailing, incomplete UTF-8 character (read it next time)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # the lead byte of the last character
            need = 1 if byte < 0x80 else 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4
            return len(data) if back >= need else len(data) - back
    return len(data)


class LocalBackend(Backend):
    """Jobs on this machine, each under a supervisor process of its own session."""

    def __init__(self, store: JobStore, use_launcher: bool = True):
        self.store = store
        self._processes: dict[int, psutil.Process] = {}  # kept for CPU % between two polls
        self._lock = threading.Lock()
        self.launcher_path = launcher.socket_path(store.path) if use_launcher else None
        self._launcher_started = -LAUNCHER_RETRY

    def start(self, job: Job, limit: int) -> None:
        if self.launcher_path is not None and launcher.request(self.launcher_path, str(self.store.path), job.id, limit):
            return
        if not self._spawn(
            [*our_process("supervisor"), str(self.store.path), job.id, str(limit)], Path(job.log_path).parent
        ):
            reason = "could not start the job supervisor"
            with open(job.log_path, "ab") as log:
                log.write(f"[jupyter-mlapp] {reason}\n".encode())
            self.store.record_exit(job.id, None, None, reason)
        elif self.launcher_path is not None and time.monotonic() - self._launcher_started > LAUNCHER_RETRY:
            # The next jobs start faster: a launcher forks their supervisors.
            self._launcher_started = time.monotonic()
            self._spawn(
                [*our_process("launcher"), str(self.launcher_path), str(self.store.path)], self.store.path.parent
            )

    @staticmethod
    def _spawn(command: list[str], log_folder: Path) -> bool:
        try:
            with open(log_folder / "supervisor.log", "ab") as errors:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    start_new_session=True,
                    close_fds=True,
                )
        except OSError:
            return False
        # Reap it when it ends, so no zombie stays behind in this process.
        threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
        return True

    def poll(self, jobs: list[Job]) -> list[Job]:
        polled = [self._check(job) if job.state == "running" else job for job in jobs]
        self._measure([job for job in polled if job.state == "running" and job.pid])
        return polled

    def _check(self, job: Job) -> Job:
        if job.supervisor_pid is None:
            if job.claimed_at is not None and time.time() - job.claimed_at > CLAIM_TIMEOUT:
                return self._lost(job, "its supervisor never started")
            return job
        if not same_process(job.supervisor_pid, job.supervisor_created):
            fresh = self.store.get(job.id)  # it may have recorded the end just now
            if fresh is None or fresh.state != "running":
                return fresh or job
            return self._lost(job, "its supervisor ended without recording the job's end")
        return job

    def _lost(self, job: Job, reason: str) -> Job:
        return (
            self.store.update(job.id, only_if_state=("running",), state="lost", ended_at=time.time(), reason=reason)
            or self.store.get(job.id)
            or job
        )

    def _measure(self, jobs: list[Job]) -> None:
        """CPU % and resident memory of each job, summed over its process group."""
        groups = {job.pid: job for job in jobs if same_process(job.pid, job.pid_created)}
        if not groups:
            return
        members: dict[int, list[int]] = {pgid: [] for pgid in groups}
        for pid in psutil.pids():  # one getpgid per process: far cheaper than reading each /proc/N/stat
            try:
                pgid = os.getpgid(pid)
            except OSError:
                continue
            if pgid in members:
                members[pgid].append(pid)
        with self._lock:
            if len(self._processes) > 4096:  # forget processes of jobs long gone
                self._processes.clear()
            for pgid, job in groups.items():
                cpu, memory = 0.0, 0
                for pid in members[pgid]:
                    try:
                        process = self._processes.get(pid)
                        if process is None or not process.is_running():  # new, or a reused PID
                            process = self._processes[pid] = psutil.Process(pid)
                        with process.oneshot():
                            cpu += process.cpu_percent(None)
                            memory += process.memory_info().rss
                    except psutil.Error:
                        self._processes.pop(pid, None)
                job.cpu_percent, job.memory = round(cpu, 1), memory

    def kill(self, job: Job) -> bool:
        if same_process(job.supervisor_pid, job.supervisor_created):
            try:
                os.kill(job.supervisor_pid, signal.SIGTERM)  # it ends the group and records the kill
                return True
            except ProcessLookupError:
                pass  # it ended just now
        if job.supervisor_pid is None:  # not taken yet: its supervisor sees the request when it takes it
            return job.state == "running"
        # The supervisor is gone (lost job): end the group ourselves if it still runs.
        if same_process(job.pid, job.pid_created):
            terminate_group(job.pid, job.grace)
            return True
        return False

    def still_runs(self, job: Job) -> bool:
        return same_process(job.pid, job.pid_created)

    def read_log(self, job: Job, offset: int, limit: int, tail: int | None = None) -> LogChunk:
        return read_log_file(job.log_path, offset, limit, tail)


def read_log_file(path: str, offset: int, limit: int, tail: int | None = None) -> LogChunk:
    """At most ``limit`` bytes of the log file from ``offset`` (or its last ``tail`` bytes), cut at
    whole UTF-8 characters."""
    try:
        with open(path, "rb") as log:
            size = os.fstat(log.fileno()).st_size
            if tail is not None:
                offset = max(0, size - tail)
                limit = min(limit, tail)
            offset = min(max(0, offset), size)
            log.seek(offset)
            data = log.read(limit)
    except FileNotFoundError:
        return LogChunk("", 0, 0, 0)
    if tail is not None:  # don't start in the middle of a character
        skip = next((i for i, b in enumerate(data[:4]) if b & 0xC0 != 0x80), 0)
        data, offset = data[skip:], offset + skip
    end = utf8_boundary(data)
    if end == 0 and data and len(data) >= 4:
        end = len(data)  # not UTF-8 at all: show it replaced rather than stall
    return LogChunk(data[:end].decode("utf-8", errors="replace"), offset, offset + end, size)


def terminate_group(pgid: int, grace: float) -> None:
    """SIGTERM to a process group now, SIGKILL after ``grace`` seconds, without waiting here."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return

    def finish():
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    threading.Thread(target=finish, name=f"kill-group-{pgid}", daemon=True).start()
