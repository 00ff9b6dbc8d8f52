"""The data room: the catalog of data sets, under ``/mlapp/api/data``."""

from __future__ import annotations

from ..rooms import Room
from .catalog import DataCatalog
from .handlers import DatasetsHandler
from .openapi import openapi_paths

ROOM = Room(
    "data",
    build=lambda app: DataCatalog(app.serverapp.root_dir),
    routes=((r"/data/datasets", DatasetsHandler),),
    openapi=openapi_paths,
)
