"""The training room: a job's metrics and its log download, beside the jobs room's routes."""

from __future__ import annotations

from ..jobs.handlers import JOB_ID
from ..rooms import Room
from .handlers import LogDownloadHandler, MetricsHandler
from .openapi import openapi_paths

ROUTES = (
    (rf"/jobs/{JOB_ID}/metrics", MetricsHandler),
    (rf"/jobs/{JOB_ID}/log/download", LogDownloadHandler),
)


ROOM = Room(
    "training",
    requires=("jobs",),
    build=lambda app: app.managers["jobs"],  # training reads the jobs' logs: the jobs room's manager
    routes=ROUTES,
    openapi=openapi_paths,
)
