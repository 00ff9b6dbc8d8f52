"""REST API of the training monitor: a job's metrics, parsed incrementally, and its raw log.

Both act on jobs, so they reuse the jobs room's handler base: the job is looked up as the
caller sees jobs (their own, or everyone's for an admin), and another user's job is a 404.
"""

from __future__ import annotations

import os

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput, NotFound
from ..jobs.handlers import ERRORS, JOB_PARAM, NOT_FOUND, JobsBase
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


_NUMBERS = {"type": "array", "items": {"type": "number", "nullable": True}}
SERIES = {
    "type": "object",
    "description": "one metric: its values and, per value, the step and epoch it was logged at "
    "(null when unknown). Non-finite values are the strings NaN, Infinity, -Infinity.",
    "properties": {
        "family": {"type": "string", "description": "the chart it belongs on (loss for val_loss)"},
        "value": {"type": "array", "items": {"oneOf": [{"type": "number"}, {"type": "string"}]}},
        "step": _NUMBERS,
        "epoch": _NUMBERS,
    },
}

openapi_paths = {
    "/jobs/{job_id}/metrics": {
        "get": {
            "summary": "Metrics parsed from the job's log from byte offset 'since' (bounded: follow 'next')",
            "tags": ["training"],
            "parameters": [
                JOB_PARAM,
                {
                    "name": "since",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "byte offset to parse from: 0, or the 'next' of the previous answer",
                },
                {
                    "name": "step",
                    "in": "query",
                    "schema": {"type": "number"},
                    "description": "'carry.step' of the previous answer",
                },
                {
                    "name": "epoch",
                    "in": "query",
                    "schema": {"type": "number"},
                    "description": "'carry.epoch' of the previous answer",
                },
            ],
            "responses": {
                "200": {
                    "description": "metrics",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["since", "next", "size", "series"],
                                "properties": {
                                    "since": {"type": "integer"},
                                    "start": {
                                        "type": "integer",
                                        "description": "where parsing started (0 after a reset)",
                                    },
                                    "next": {"type": "integer", "description": "offset to ask for next time"},
                                    "size": {"type": "integer", "description": "size of the log in bytes"},
                                    "more": {
                                        "type": "boolean",
                                        "description": "more is already waiting: ask again now",
                                    },
                                    "reset": {"type": "boolean", "description": "the log restarted: drop what you had"},
                                    "lines": {"type": "integer"},
                                    "notes": {"type": "array", "items": {"type": "string"}},
                                    "carry": {
                                        "type": "object",
                                        "description": "pass back as step and epoch next time",
                                        "properties": {
                                            "step": {"type": "number", "nullable": True},
                                            "epoch": {"type": "number", "nullable": True},
                                        },
                                    },
                                    "series": {"type": "object", "additionalProperties": SERIES},
                                    "state": {"type": "string"},
                                    "finished": {"type": "boolean"},
                                    "progress": {
                                        "type": "object",
                                        "nullable": True,
                                        "description": "where the training is, from the log's last lines "
                                        "(Epoch 3/10, a tqdm bar, step 30/100); null when it says nothing of it",
                                        "properties": {
                                            "fraction": {"type": "number", "minimum": 0, "maximum": 1},
                                            "label": {"type": "string"},
                                            "eta": {
                                                "type": "number",
                                                "nullable": True,
                                                "description": "seconds left at the pace so far (while running)",
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
    "/jobs/{job_id}/log/download": {
        "get": {
            "summary": "The job's whole log as a file download",
            "tags": ["training"],
            "parameters": [JOB_PARAM],
            "responses": {
                "200": {"description": "the log", "content": {"text/plain": {"schema": {"type": "string"}}}},
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
}
