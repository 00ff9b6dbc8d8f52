"""The jobs room: background jobs and their environments, under ``/mlapp/api/jobs`` and ``/envs``."""

from __future__ import annotations

import os

from .. import settings
from ..rooms import Room
from .dispatcher import JobBackends
from .environments import EnvironmentFinder
from .handlers import (
    JOB_ID,
    BackendsHandler,
    ClearFinishedHandler,
    EnvsHandler,
    JobHandler,
    JobKillHandler,
    JobLogHandler,
    JobsHandler,
    KillAllHandler,
)
from .job_manager import JobManager
from .kernelspecs import EnvironmentKernelSpecManager
from .openapi import openapi_paths


def build(app) -> JobManager:
    workspace = app.serverapp.root_dir
    return JobManager(
        home=app.home_path,
        limit=app.job_limit or None,
        grace=app.job_kill_grace,
        workspace=workspace,
        environments=EnvironmentFinder(workspace=workspace),  # its folders: $MLAPP_ENV_DIRS, exported
        confine_cwd=True,
    )


def exports(app) -> dict[str, str]:
    """Kernels find the same environments and run jobs where and as this server's jobs run."""
    env_dirs = [*app.env_dirs, *settings.ENV_DIRS.get()]
    env = {
        settings.ENV_DIRS.name: os.pathsep.join(dict.fromkeys(d for d in env_dirs if d)),
        settings.JOB_LIMIT.name: str(app.job_limit or settings.JOB_LIMIT.get()),
        settings.JOB_GRACE.name: str(app.job_kill_grace),
    }
    for setting, value in ((settings.JOB_BACKEND, app.job_backend), (settings.RAY_ADDRESS, app.ray_address)):
        if value:
            env[setting.name] = value
    return env


def connect(app, manager: JobManager) -> None:
    kernel_specs = getattr(app.serverapp, "kernel_spec_manager", None)
    if isinstance(kernel_specs, EnvironmentKernelSpecManager):
        kernel_specs.finder = manager.environments  # one discovery, one cache for jobs and kernels
    manager.environments.discover_in_background(refresh=False)  # ready before the first page asks
    if isinstance(manager.backend, JobBackends) and manager.backend.ray_address:
        manager.backend.ray_status(wait=0)  # Ray imported and asked before the first start form asks
    if app.job_history_days > 0:  # in a thread: the first pruning may delete many logs
        manager.keep_history(app.job_history_days, log=app.log)


ROUTES = (
    (r"/jobs", JobsHandler),
    (r"/jobs/kill-all", KillAllHandler),
    (r"/jobs/backends", BackendsHandler),
    (r"/jobs/clear-finished", ClearFinishedHandler),
    (rf"/jobs/{JOB_ID}", JobHandler),
    (rf"/jobs/{JOB_ID}/log", JobLogHandler),
    (rf"/jobs/{JOB_ID}/kill", JobKillHandler),
    (r"/envs", EnvsHandler),
)

ROOM = Room("jobs", build=build, routes=ROUTES, openapi=openapi_paths, connect=connect, exports=exports)
