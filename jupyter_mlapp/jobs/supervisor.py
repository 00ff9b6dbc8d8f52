"""The supervisor of background jobs: ``python -m jupyter_mlapp.jobs.supervisor DB JOB_ID LIMIT``.

Forked by the launcher of the home folder (see ``launcher``), or started in its own session by
whoever starts a job (the server, a kernel) when no launcher answers, it owns the job from then
on: it takes the job in SQLite (so no job is supervised twice), starts the command in its own
process group with its log as stdout and stderr, records the start, waits, records the end (exit
code, or the signal that ended it), and then claims the next queued job while there is one.
Nothing here depends on the server or the kernel staying alive. SIGTERM asks it to kill the job:
SIGTERM to the job's process group (and to its processes that left the group: the supervisor
is their subreaper), then SIGKILL to what is left after the job's grace period.

Kept light on imports (stdlib only on Linux): its start-up is part of a job's start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from .. import settings
from .store import Job, JobStore

PR_SET_CHILD_SUBREAPER = 36
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# Variables of the process that started the supervisor that must not leak into another user's job.
PRIVATE_ENV = (settings.USER.name, settings.ROLE.name, settings.JOB_ID.name)
# Nor the server's credentials and where its runtime files are (its token, its cookie secret):
# Jupyter's and JupyterHub's tokens, the kernel's JPY_* variables, the folders of the runtime.
SECRET_ENV = ("JUPYTER_TOKEN", "JUPYTER_PASSWORD", "JUPYTER_RUNTIME_DIR", "XDG_RUNTIME_DIR")
SECRET_PREFIXES = ("JPY_", "JUPYTERHUB_")


def become_subreaper() -> None:
    """Orphans of the job are re-parented to us (Linux), so we reap them: no zombies left."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def process_started(pid: int) -> float | None:
    """When the live process ``pid`` started, in seconds since boot; None if it is gone or a
    zombie. Comparing it with a recorded value tells a reused PID from the process we started."""
    if sys.platform.startswith("linux"):  # /proc directly: psutil would add to every job's start
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            return None
        return None if fields[0] == b"Z" else int(fields[19]) / CLOCK_TICKS
    import psutil

    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else process.create_time()
    except psutil.Error:
        return None


def descendants(root: int) -> list[int]:
    """The live (not zombie) processes below ``root``. A job's process that left its group
    (``setsid``, a daemon) stays below its supervisor, the subreaper of whatever it orphans."""
    if sys.platform.startswith("linux"):
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    fields = stat.read().rpartition(b")")[2].split()
            except OSError:  # ended meanwhile
                continue
            if fields[0] != b"Z":
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    else:
        import psutil

        try:
            return [p.pid for p in psutil.Process(root).children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
        except psutil.Error:
            return []
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), ()):
            found.append(pid)
            todo.append(pid)
    return found


def job_identity(job: Job) -> dict[str, str]:
    """Who a job's process works for (``current_user()``, ``current_role()`` in it) and its id,
    wherever it runs, with its output unbuffered so its log follows it."""
    return {
        settings.USER.name: job.user,
        settings.ROLE.name: job.role or "editor",
        settings.JOB_ID.name: job.id,
        "PYTHONUNBUFFERED": "1",
    }


def child_environment(job: Job) -> dict[str, str]:
    """The job's environment: ours without the server's secrets, the job's overlay, and who it
    runs for (its ``MLAPP_ROLE`` is its starter's: a viewer's template job is a viewer's)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PRIVATE_ENV and k not in SECRET_ENV and not k.startswith(SECRET_PREFIXES)
    }
    for key, value in job.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    # An empty runtime folder of the job's own: `jupyter server list` there finds no server.
    runtime = os.path.join(os.path.dirname(job.log_path), "runtime")
    os.makedirs(runtime, mode=0o700, exist_ok=True)
    env.update(job_identity(job), JUPYTER_RUNTIME_DIR=runtime)
    return env


class Supervisor:
    def __init__(self, store: JobStore):
        self.store = store
        self.pgid: int | None = None
        self.grace = 10.0
        self.kill_requested = False
        self.kill_deadline = 0.0
        self.terminated = False
        signal.signal(signal.SIGTERM, self._on_kill_request)
        signal.signal(signal.SIGALRM, self._on_grace_over)
        # The job outlives terminals and notebooks: hang-ups and Ctrl-C of others are not for us.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    # Signal handlers run in the main thread between bytecodes, also while we wait for the child.
    def _on_kill_request(self, signum=None, frame=None) -> None:
        if not self.kill_requested:
            self.kill_requested = True
            self.kill_deadline = time.monotonic() + self.grace
        self._terminate()

    def _terminate(self) -> None:
        """SIGTERM to the job's group once it exists; SIGKILL when the grace period is over."""
        if self.pgid is None or self.terminated:
            return
        self.terminated = True
        self._signal_group(signal.SIGTERM)
        signal.setitimer(signal.ITIMER_REAL, max(self.kill_deadline - time.monotonic(), 0.001))

    def _on_grace_over(self, signum=None, frame=None) -> None:
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> bool:
        """``sig`` to the job's process group and to every process below this supervisor (those
        that left the group too); whether any was there to take it."""
        reached = False
        try:
            os.killpg(self.pgid, sig)
            reached = True
        except (ProcessLookupError, PermissionError):
            pass
        for pid in descendants(os.getpid()):
            try:
                os.kill(pid, sig)
                reached = True
            except (ProcessLookupError, PermissionError):
                pass
        return reached

    def run_queue(self, job: Job | None, limit: int) -> None:
        while job is not None:
            self.run(job)
            job = self.store.claim_next(limit)

    def run(self, job: Job) -> None:
        self.pgid, self.grace, self.terminated = None, job.grace, False
        self.kill_requested, self.kill_deadline = False, 0.0
        me = os.getpid()
        job = self.store.take(job.id, me, process_started(me))
        if job is None:
            return  # another supervisor has it (a retried start), or it is over
        if job.kill_requested_at is not None:
            self.store.record_exit(job.id, None, None, "killed before it started")
            return
        with open(job.log_path, "ab", buffering=0) as log:
            try:
                stdin = open(job.stdin_path, "rb") if job.stdin_path else subprocess.DEVNULL  # noqa: SIM115 - the child's
                try:
                    child = subprocess.Popen(
                        job.argv,
                        cwd=job.cwd,
                        env=child_environment(job),
                        stdin=stdin,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        process_group=0,
                        close_fds=True,
                    )
                finally:
                    if stdin is not subprocess.DEVNULL:
                        stdin.close()
            except OSError as exc:
                reason = f"could not start {job.argv[0]}: {exc.strerror or exc}"
                log.write(f"[jupyter-mlapp] {reason}\n".encode())
                self.store.update(job.id, started_at=time.time())
                self.store.record_exit(job.id, None, None, reason)
                return
            self.pgid = child.pid
            started = self.store.update(
                job.id, pid=child.pid, pid_created=process_started(child.pid), started_at=time.time()
            )
            if self.kill_requested or started is None or started.kill_requested_at is not None:
                self._on_kill_request()  # asked for while we were starting it
            become_subreaper()  # after the start is recorded: ctypes costs the start milliseconds
            returncode = child.wait()
            self._end_group(log)
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal_name = None
            if returncode < 0:
                signal_name = signal.Signals(-returncode).name
                log.write(f"[jupyter-mlapp] ended by {signal_name}\n".encode())
            self.store.record_exit(job.id, returncode if returncode >= 0 else None, signal_name)
            self.pgid = None

    def _end_group(self, log) -> None:
        """The job's command has ended: what it left running in its group ends too."""
        self._reap()
        if not self._signal_group(0):
            return
        if not self.kill_requested:
            log.write(b"[jupyter-mlapp] stopping processes the job left running\n")
            self._on_kill_request()
        while time.monotonic() < self.kill_deadline and self._signal_group(0):
            time.sleep(0.02)
            self._reap()
        self._signal_group(signal.SIGKILL)
        while self._signal_group(0):
            time.sleep(0.01)
            self._reap()

    @staticmethod
    def _reap() -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return


def main(argv: list[str] | None = None) -> int:
    db, job_id, limit = argv if argv is not None else sys.argv[1:]
    os.umask(0o077)
    store = JobStore(db)
    job = store.get(job_id)
    if job is None or job.state != "running":
        return 0
    Supervisor(store).run_queue(job, int(limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
