"""REST API of the training monitor: a job's metrics, parsed incrementally, and its raw log.

Both act on jobs, so they reuse the jobs room's handler base: the job is looked up as the
caller sees jobs (their own, or everyone's for an admin), and another user's job is a 404.
"""

from __future__ import annotations

import os

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput, NotFound
from ..jobs.handlers import JobsBase
from .metrics import read_metrics
from .progress import log_progress
from .tail import MiB

DOWNLOAD_CHUNK = MiB


class TrainingBase(JobsBase):
    """The jobs room's lookup and ownership rules, authorized as this room (``mlapp:training``)."""

    auth_resource = "training"


class MetricsHandler(TrainingBase):
    @web.authenticated
    @authorized
    async def get(self, job_id):
        since = self.int_argument("since", 0)
        if since < 0:
            raise InvalidInput("'since' cannot be negative")
        step, epoch = self.float_argument("step"), self.float_argument("epoch")
        job = await self.call(self.jobs.get, job_id)
        result = await self.call(read_metrics, job.log_path, since, step=step, epoch=epoch)
        result["state"] = job.state
        result["finished"] = job.finished
        # Where the training is, from the log's last lines (whatever 'since' asked), with an ETA
        # at the pace since the job started while it runs.
        progress = await self.call(log_progress, job.log_path, job.runtime if job.state == "running" else None)
        result["progress"] = progress.to_dict() if progress else None
        self.write_json(result)


class LogDownloadHandler(TrainingBase):
    @web.authenticated
    @authorized
    async def get(self, job_id):
        job = await self.call(self.jobs.get, job_id)
        try:
            log = await self.call(open, job.log_path, "rb")  # streamed below, closed in finally
        except FileNotFoundError as exc:
            raise NotFound(f"the log of job {job.id} is gone") from exc
        try:
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.set_header("Content-Disposition", f'attachment; filename="{job.id}.log"')
            remaining = os.fstat(log.fileno()).st_size  # what the length promises, even if the job writes on
            self.set_header("Content-Length", str(remaining))
            while remaining > 0:
                chunk = await self.call(log.read, min(DOWNLOAD_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                self.write(chunk)
                await self.flush()  # one chunk in memory at a time, whatever the size of the log
        finally:
            log.close()
        self.finish()
