"""REST API of jobs and environments: ``/mlapp/api/jobs/...`` and ``/mlapp/api/envs``.

Thin over ``JobManager``: each request acts as the authenticated user (admins see everyone's
jobs). Manager calls run in a thread: SQLite may wait on a lock, psutil reads /proc, and
environment discovery can take seconds; the event loop never waits on them.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from ..web import MLAppHandler
from .job_manager import JobManager

JOB_ID = r"(?P<job_id>[0-9a-f]{1,32})"
START_FIELDS = ("command", "name", "cwd", "env", "environment", "stdin", "backend", "resources")


class JobsBase(MLAppHandler):
    auth_resource = "jobs"

    @property
    def jobs(self) -> JobManager:
        """The manager as the caller sees it: their own jobs, or all for an admin."""
        # A role of None (a plain Jupyter login) is an editor's.
        return self.manager.as_user(self.username, admin=self.is_admin, role=self.role)


class JobsHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self):
        jobs = await self.call(self.jobs.list)
        self.write_json({"jobs": [job.to_json() for job in jobs]})

    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        unknown = sorted(set(body) - set(START_FIELDS))
        if unknown:
            raise InvalidInput(f"unknown field {unknown[0]!r}; a job takes {', '.join(START_FIELDS)}")
        if "command" not in body:
            raise InvalidInput("'command' is required: a list of strings or a command line")
        job = await self.call(self.jobs.start, **body)
        self.set_header("Location", self.request.path.rstrip("/") + "/" + job.id)
        self.write_json(job.to_json(), status=201)


class BackendsHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self):
        self.write_json(await self.call(self.jobs.backends))


class JobHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self, job_id):
        self.write_json((await self.call(self.jobs.get, job_id)).to_json())

    @web.authenticated
    @authorized
    async def delete(self, job_id):
        await self.call(self.jobs.remove, job_id)
        self.set_status(204)
        self.finish()


class JobLogHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self, job_id):
        chunk = await self.call(
            self.jobs.read_log,
            job_id,
            offset=self.int_argument("offset", 0),
            limit=self.int_argument("limit", 64 * 1024),
            tail=self.int_argument("tail", None),
        )
        self.write_json(chunk.to_json())


class JobKillHandler(JobsBase):
    @web.authenticated
    @authorized
    async def post(self, job_id):
        self.write_json((await self.call(self.jobs.kill, job_id)).to_json())


class KillAllHandler(JobsBase):
    @web.authenticated
    @authorized
    async def post(self):
        results = await self.call(self.jobs.kill_all)
        self.write_json({"killed": sum(r.killed for r in results), "results": [r.to_json() for r in results]})


class ClearFinishedHandler(JobsBase):
    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        unknown = sorted(set(body) - {"older_than"})
        if unknown:
            raise InvalidInput(f"unknown field {unknown[0]!r}; clearing takes only 'older_than' (seconds)")
        self.write_json({"removed": await self.call(self.jobs.clear_finished, older_than=body.get("older_than"))})


class EnvsHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self):
        refresh = self.flag_argument("refresh")
        envs = await self.call(self.manager.environments.environments, refresh=refresh)
        self.write_json({"environments": [env.to_json() for env in envs]})
