"""The backend a ``JobManager`` is given: each job to the backend it was started on.

``JobBackends`` holds the local backend and, once a job asks for it, the Ray backend
(``ray_backend``, imported only then): local and cluster jobs live in one table. It is apart from
``backend`` because the Ray backend builds on that module's interface.
"""

from __future__ import annotations

import threading
import time

from .. import settings
from ..errors import InvalidInput
from .backend import Backend, LocalBackend, LogChunk
from .store import Job, JobStore

BACKENDS = ("local", "ray")
THIS_MACHINE = {"name": "local", "available": True, "address": None, "message": None}  # as describe() answers it
PROBE_EVERY = 10.0  # seconds an answer of the cluster to "are you there?" is reused
# The longest a caller waits for a fresh answer; a slower cluster keeps its last one (the first
# probe also imports Ray, seconds on a busy machine: the server starts one as it starts).
PROBE_WAIT = 2.0


class JobBackends(Backend):
    """Each job to the backend it was started on (its record's ``backend``): this machine, or
    the Ray cluster at ``ray_address`` (connected to only when a job is on Ray)."""

    def __init__(
        self, store: JobStore, local: Backend | None = None, default: str | None = None, ray_address: str | None = None
    ):
        self.store = store
        self.local = local or LocalBackend(store)
        self.default = default or settings.JOB_BACKEND.get()
        self.ray_address = ray_address or settings.RAY_ADDRESS.get() or None
        self._ray = None
        self._lock = threading.Lock()
        self._probed: tuple[float, bool, str | None] | None = None  # when, whether Ray answered, why not
        self._probing: threading.Thread | None = None

    @property
    def ray(self):
        with self._lock:
            if self._ray is None:
                from .ray_backend import RayBackend

                self._ray = RayBackend(self.store, self.ray_address)
            return self._ray

    def choose(self, name: str | None) -> str | None:
        """The backend a new job runs on (``None``: this machine); Ray must answer now."""
        name = self.default if name in (None, "") else name
        if name not in BACKENDS:
            raise InvalidInput(f"unknown job backend {str(name)[:40]!r}: use one of {', '.join(BACKENDS)}")
        if name == "local":
            return None
        self.ray.check()
        return name

    def offers_ray(self) -> bool:
        """Whether this server has a Ray cluster to send jobs to (configured, or the default)."""
        return bool(self.ray_address) or self.default == "ray"

    def describe(self) -> dict:
        """Where new jobs may run: the default, this machine, and the Ray cluster when one is
        configured (or is the default), with whether it answers; never waits long on it."""
        backends = [dict(THIS_MACHINE)]
        if self.offers_ray():
            available, message = self.ray_status()
            backends.append({"name": "ray", "available": available, "address": self.ray_address, "message": message})
        return {"default": self.default, "backends": backends}

    def ray_status(self, wait: float = PROBE_WAIT) -> tuple[bool, str | None]:
        """Whether the cluster answered lately, and why not: a probe at most every ``PROBE_EVERY``
        seconds, in a thread of its own, waited on for at most ``wait`` seconds."""
        with self._lock:
            probed, probing = self._probed, self._probing
            if (probed is None or time.monotonic() - probed[0] > PROBE_EVERY) and probing is None:
                probing = self._probing = threading.Thread(target=self._probe, name="mlapp-ray-probe", daemon=True)
                probing.start()
        if probing is not None:
            probing.join(wait)
        probed = self._probed
        if probed is None:
            return False, f"the Ray cluster at {self.ray_address} has not answered yet"
        return probed[1], probed[2]

    def _probe(self) -> None:
        try:
            self.ray.check()
            answer: tuple[bool, str | None] = (True, None)
        except Exception as exc:  # RayUnavailable: not installed, not configured, not answering
            answer = (False, str(exc))
        with self._lock:
            self._probed, self._probing = (time.monotonic(), *answer), None

    def _of(self, job: Job) -> Backend:
        return self.ray if job.backend == "ray" else self.local

    def start(self, job: Job, limit: int) -> None:
        self._of(job).start(job, limit)

    def poll(self, jobs: list[Job]) -> list[Job]:
        on_ray = [job for job in jobs if job.backend == "ray"]
        if not on_ray:
            return self.local.poll(jobs)
        local = iter(self.local.poll([job for job in jobs if job.backend != "ray"]))
        remote = iter(self.ray.poll(on_ray))
        return [next(remote) if job.backend == "ray" else next(local) for job in jobs]

    def kill(self, job: Job) -> bool:
        return self._of(job).kill(job)

    def read_log(self, job: Job, offset: int, limit: int, tail: int | None = None) -> LogChunk:
        return self._of(job).read_log(job, offset, limit, tail)

    def still_runs(self, job: Job) -> bool:
        return self._of(job).still_runs(job)
