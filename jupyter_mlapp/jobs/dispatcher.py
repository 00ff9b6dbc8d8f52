"""The backend a ``JobManager`` is given: each job to the backend it was started on.

``JobBackends`` holds the local backend and, once a job asks for it, the Ray backend
(``ray_backend``, imported only then): local and cluster jobs live in one table. It is apart from
``backend`` because the Ray backend builds on that module's interface.
"""

from __future__ import annotations

import threading

from .. import settings
from ..errors import InvalidInput
from .backend import Backend, LocalBackend, LogChunk
from .store import Job, JobStore

BACKENDS = ("local", "ray")


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
