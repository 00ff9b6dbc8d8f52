"""``RayBackend``: jobs on a Ray cluster, through Ray's job submission API (``ray[default]``).

A Ray job is recorded like a local one (same table, owner, states, log file); Ray runs it. Its
Ray submission id is ``mlapp-<job id>``, so a restarted Jupyter server finds it again from the
record alone. What a local job has maps onto Ray's job:

- the command runs as the job's entrypoint, in the job's working folder (``cd``: the cluster's
  nodes see the workspace on shared storage, as they see the environments), its arguments on
  stdin read from the job's stdin file;
- the environment: a venv's or conda environment's interpreter is the command's interpreter (as
  locally), its activation variables and the job's variables are Ray's ``runtime_env`` env_vars,
  and a conda environment is also Ray's ``runtime_env["conda"]``;
- resources (CPUs, GPUs, memory) are the entrypoint's Ray resources: Ray queues the job
  (``PENDING``) until the cluster has them;
- the log is Ray's driver log, followed over Ray's log stream (``tail_job_logs``) into the job's
  log file while the job runs and anyone looks at it (a poll or a read of its log), so offsets,
  tail and the training monitor work as for a local job; it is fetched whole once, at the end;
- kill is Ray's stop (SIGTERM, then SIGKILL after Ray's ``RAY_JOB_STOP_WAIT_TIME_S``, 3 s by
  default); the exit state and code come from Ray.

Ray is imported only here, and this module only when a job asks for Ray. A cluster that does not
answer is a clear message at start (HTTP 503); its running jobs show ``lost`` with the reason once
it has not answered for ``LOST_AFTER`` seconds. Local jobs never wait on it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import os
import shlex
import threading
import time

from ..errors import InvalidInput, MLAppError
from .backend import CLAIM_TIMEOUT, Backend, LogChunk, read_log_file
from .store import Job, JobStore
from .supervisor import job_identity

SUBMISSION_PREFIX = "mlapp-"
LOST_AFTER = 10.0  # seconds without an answer from the cluster before its running jobs are lost
# Seconds a list of the cluster's jobs answers every poll: each user's sidebar and monitor lists
# about every second, and Ray's list holds every job the cluster ever ran, so one list a second
# serves them all.
LIST_FRESH = 1.0
RESOURCES = ("cpus", "gpus", "memory")


class RayUnavailable(MLAppError):
    """The Ray cluster cannot take the request now (not installed, not configured, not answering)."""

    status = 503


def submission_id(job: Job) -> str:
    return SUBMISSION_PREFIX + job.id


def check_resources(resources) -> dict | None:
    """``{"cpus": 2, "gpus": 0.5, "memory": 4 << 30}`` (memory in bytes), each optional."""
    if resources in (None, {}):
        return None
    if not isinstance(resources, dict) or set(resources) - set(RESOURCES):
        raise InvalidInput(f"resources is a mapping of {', '.join(RESOURCES)} to numbers")
    checked = {}
    for key, value in resources.items():
        if value in (None, ""):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e15:
            raise InvalidInput(f"resources: {key} must be a number, at least 0")
        checked[key] = int(value) if key == "memory" else value
    return checked or None


def _short(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


class RayBackend(Backend):
    """The jobs of one Ray cluster, addressed by its dashboard URL (``http://head:8265``)."""

    def __init__(self, store: JobStore, address: str | None):
        self.store = store
        self.address = address
        self._client = None
        self._lock = threading.Lock()
        self._following: dict[str, concurrent.futures.Future] = {}  # job id -> its log's follower
        self._silent_since: float | None = None  # the cluster has not answered since then
        self._listing = threading.Lock()  # one list of the cluster's jobs asked at a time
        self._listed: tuple[float, dict] | None = None  # when, and {submission id: Ray's details}

    # -- the cluster -----------------------------------------------------------------------------
    def client(self):
        with self._lock:
            if self._client is None:
                if not self.address:
                    raise RayUnavailable(
                        "no Ray cluster is configured: set c.MLApp.ray_address (or $MLAPP_RAY_ADDRESS) "
                        "to its dashboard URL, e.g. http://head:8265"
                    )
                try:
                    from ray.job_submission import JobSubmissionClient
                except ImportError as exc:
                    raise RayUnavailable("Ray is not installed here: pip install 'jupyter-mlapp[ray]'") from exc
                try:
                    self._client = JobSubmissionClient(self.address)
                except Exception as exc:  # refused, DNS, TLS, an old Ray: all one message to the user
                    raise self.unavailable(exc) from exc
            return self._client

    def unavailable(self, exc: BaseException) -> RayUnavailable:
        return RayUnavailable(f"the Ray cluster at {self.address} does not answer ({_short(exc)})")

    def check(self) -> None:
        """Raise ``RayUnavailable`` unless the cluster answers now (before a job is recorded)."""
        client = self.client()
        try:
            client.get_version()
        except Exception as exc:
            raise self.unavailable(exc) from exc

    # -- the Backend interface -------------------------------------------------------------------
    def start(self, job: Job, limit: int) -> None:
        resources = job.resources or {}
        try:
            self.client().submit_job(
                entrypoint=self.entrypoint(job),
                submission_id=submission_id(job),
                runtime_env=self.runtime_env(job),
                metadata={"mlapp_user": job.user, "mlapp_job": job.id},
                entrypoint_num_cpus=resources.get("cpus"),
                entrypoint_num_gpus=resources.get("gpus"),
                entrypoint_memory=resources.get("memory"),
            )
        except Exception as exc:
            reason = str(exc) if isinstance(exc, RayUnavailable) else f"Ray refused the job ({_short(exc)})"
            with open(job.log_path, "ab") as log:
                log.write(f"[jupyter-mlapp] {reason}\n".encode())
            self.store.record_exit(job.id, None, None, reason)
        finally:
            self._forget_list()

    @staticmethod
    def entrypoint(job: Job) -> str:
        """The shell command Ray runs: in the working folder, unset variables gone, stdin from its file."""
        unset = [f"unset {name}; " for name, value in sorted(job.env.items()) if value is None]
        stdin = shlex.quote(job.stdin_path) if job.stdin_path else "/dev/null"
        return f"{''.join(unset)}cd {shlex.quote(job.cwd)} && exec {shlex.join(job.argv)} < {stdin}"

    @staticmethod
    def runtime_env(job: Job) -> dict:
        env = {k: v for k, v in job.env.items() if v is not None}
        env.update(job_identity(job))
        runtime: dict = {"env_vars": env}
        if job.environment_path and os.path.isdir(os.path.join(job.environment_path, "conda-meta")):
            runtime["conda"] = job.environment_path  # a conda environment: Ray activates it too
        return runtime

    def poll(self, jobs: list[Job]) -> list[Job]:
        running = [job for job in jobs if job.state == "running"]
        if not running or not self.address:  # a process not told of the cluster cannot judge its jobs
            return jobs
        try:
            known = self._cluster_jobs()
        except Exception as exc:
            return self._silent(jobs, exc)
        return [self._update(job, known.get(submission_id(job))) if job.state == "running" else job for job in jobs]

    def _cluster_jobs(self) -> dict:
        """Ray's details of the cluster's jobs by submission id, at most ``LIST_FRESH`` seconds old;
        a poll meanwhile waits for the list being asked rather than asking again."""
        with self._listing:
            if self._listed is None or time.monotonic() - self._listed[0] >= LIST_FRESH:
                asked = time.monotonic()
                self._listed = (asked, {details.submission_id: details for details in self.client().list_jobs()})
                self._silent_since = None
            return self._listed[1]

    def _forget_list(self) -> None:
        """A job was submitted or stopped here: the next poll asks the cluster."""
        with self._listing:
            self._listed = None

    def _silent(self, jobs: list[Job], exc: BaseException) -> list[Job]:
        """The cluster did not answer: its running jobs are lost once it has been silent long enough."""
        now = time.monotonic()
        self._silent_since = self._silent_since or now
        with self._lock:
            self._client = None  # connect again next time (the head may come back at a new version)
        if now - self._silent_since < LOST_AFTER:
            return jobs
        reason = str(exc) if isinstance(exc, RayUnavailable) else str(self.unavailable(exc))
        return [self._lost(job, reason) if job.state == "running" else job for job in jobs]

    def _lost(self, job: Job, reason: str) -> Job:
        return (
            self.store.update(job.id, only_if_state=("running",), state="lost", ended_at=time.time(), reason=reason)
            or self.store.get(job.id)
            or job
        )

    def _update(self, job: Job, details) -> Job:
        if details is None:
            if job.claimed_at is not None and time.time() - job.claimed_at < CLAIM_TIMEOUT:
                return job  # being submitted now (by this process or another): a list of just before lacks it
            return self._lost(job, f"the Ray cluster at {self.address} no longer knows this job (was it restarted?)")
        status = str(getattr(details.status, "value", details.status))
        if status in ("PENDING", "RUNNING"):
            if status == "RUNNING":
                self.follow_log(job)
                if job.started_at is None and details.start_time:
                    job = (
                        self.store.update(job.id, only_if_state=("running",), started_at=details.start_time / 1000)
                        or job
                    )
            return job
        self.sync_log(job)  # the whole log before the end is recorded
        code = details.driver_exit_code
        if status == "SUCCEEDED":
            code = 0 if code is None else code
        elif code == 0 or code is None:
            code = None
        reason = None if status == "SUCCEEDED" else (details.message or status.lower())[:500]
        if job.started_at is None and details.start_time:
            self.store.update(job.id, only_if_state=("running",), started_at=details.start_time / 1000)
        return (
            self.store.record_exit(job.id, code, "SIGTERM" if status == "STOPPED" else None, reason)
            or self.store.get(job.id)
            or job
        )

    def kill(self, job: Job) -> bool:
        try:
            return bool(self.client().stop_job(submission_id(job)))
        except Exception:  # not answering: its jobs end up lost, with the reason
            return False
        finally:
            self._forget_list()

    def still_runs(self, job: Job) -> bool:
        try:
            status = self.client().get_job_status(submission_id(job))
        except Exception:
            return False
        return str(getattr(status, "value", status)) in ("PENDING", "RUNNING")

    def read_log(self, job: Job, offset: int, limit: int, tail: int | None = None) -> LogChunk:
        if job.state == "running":
            self.follow_log(job)
        return read_log_file(job.log_path, offset, limit, tail)

    def follow_log(self, job: Job) -> None:
        """Copy the running job's log into its file as Ray's driver writes it, till the job ends."""
        with self._lock:
            follower = self._following.get(job.id)
            if follower is None or follower.done():
                self._following[job.id] = asyncio.run_coroutine_threadsafe(self._follow(job), _follow_loop())

    async def _follow(self, job: Job) -> None:
        # Ray's stream starts at the log's first byte: what the file has (copied before a
        # restart, or by another process) is counted, not written again.
        end = 0
        try:
            async for text in self.client().tail_job_logs(submission_id(job)):
                data = text.encode()
                end += len(data)
                _append(job.log_path, data, end)
        except Exception:  # the cluster went away or the job ended: a later poll or read follows again
            pass
        finally:
            with self._lock:
                self._following.pop(job.id, None)

    def sync_log(self, job: Job) -> None:
        """Copy what Ray's log of the job has beyond our file, fetched whole (once, as it ends)."""
        try:
            data = self.client().get_job_logs(submission_id(job)).encode()
        except Exception:  # not answering now: the log shows what was copied so far
            return
        _append(job.log_path, data, len(data))


def _append(path: str, data: bytes, end: int) -> None:
    """Write what of ``data`` (the log's bytes up to ``end``) the file at ``path`` lacks."""
    # The server and kernels may copy the same job's log at once: one at a time per file.
    with open(path, "ab") as log:
        fcntl.flock(log, fcntl.LOCK_EX)
        size = os.fstat(log.fileno()).st_size
        start = end - len(data)
        if start <= size < end:
            log.write(data[size - start :])


_loop: tuple[int, asyncio.AbstractEventLoop] | None = None  # (the process it runs in, the loop)
_loop_lock = threading.Lock()


def _follow_loop() -> asyncio.AbstractEventLoop:
    """The event loop, on a thread of its own, that follows this process's Ray job logs (a
    forked process starts its own: the thread did not come along)."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="mlapp-ray-logs", daemon=True).start()
            _loop = (os.getpid(), loop)
        return _loop[1]
