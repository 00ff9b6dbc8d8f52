"""The OpenAPI description of the published apps' API, ``/mlapp/api/apps``."""

from __future__ import annotations

from ..web import json_content

_TEXT = {"type": "string"}
_NAMES = {"type": "array", "items": _TEXT}
_AUDIENCE = {
    "type": "object",
    "description": "who may open the app besides admins and its publisher; empty: every signed-in user",
    "properties": {"users": _NAMES, "roles": _NAMES, "groups": _NAMES},
}
_APP = {
    "type": "object",
    "required": ["slug", "path", "title", "description", "available", "url"],
    "properties": {
        "slug": _TEXT,
        "path": _TEXT,
        "title": _TEXT,
        "description": _TEXT,
        "thumbnail": {"type": "string", "nullable": True},
        "audience": _AUDIENCE,
        "files": {**_NAMES, "description": "workspace files (or folders) the app declares public"},
        "published_by": _TEXT,
        "published": {"type": "number"},
        "updated": {"type": "number"},
        "last_updated": {"type": "number", "description": "when the notebook last changed"},
        "available": {"type": "boolean", "description": "false: the notebook is gone from disk"},
        "url": {**_TEXT, "description": "/voila/render/<path>"},
        "link": {**_TEXT, "description": "the short link /mlapp/apps/<slug>"},
    },
}
_PUBLISH = {
    "type": "object",
    "properties": {
        "path": _TEXT,
        "title": _TEXT,
        "description": _TEXT,
        "thumbnail": _TEXT,
        "audience": _AUDIENCE,
        "files": _NAMES,
        "slug": _TEXT,
    },
}
_ERR = {"description": "refused", "content": json_content({"$ref": "#/components/schemas/Error"})}
_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": _ERR,
}
_SLUG = [{"name": "slug", "in": "path", "required": True, "schema": _TEXT}]
openapi_paths = {
    "/apps": {
        "get": {
            "summary": "The published apps this user may open (editors also see unavailable ones); q searches",
            "tags": ["apps"],
            "parameters": [{"name": "q", "in": "query", "required": False, "schema": _TEXT}],
            "responses": {
                "200": {
                    "description": "the apps",
                    "content": json_content(
                        {"type": "object", "properties": {"apps": {"type": "array", "items": _APP}}}
                    ),
                },
                **_ERRORS,
            },
        },
        "post": {
            "summary": "Publish a notebook as an app, or change how it is published (editors, admins)",
            "tags": ["apps"],
            "requestBody": {"required": True, "content": json_content({**_PUBLISH, "required": ["path"]})},
            "responses": {
                "201": {"description": "published", "content": json_content(_APP)},
                "200": {"description": "changed", "content": json_content(_APP)},
                **_ERRORS,
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": {**_ERR, "description": "the slug is taken"},
            },
        },
    },
    "/apps/{slug}": {
        "get": {
            "summary": "One app",
            "tags": ["apps"],
            "parameters": _SLUG,
            "responses": {
                "200": {"description": "the app", "content": json_content(_APP)},
                **_ERRORS,
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        },
        "patch": {
            "summary": "Change an app's title, description, thumbnail, audience, files or slug (editors, admins)",
            "tags": ["apps"],
            "parameters": _SLUG,
            "requestBody": {"required": True, "content": json_content(_PUBLISH)},
            "responses": {
                "200": {"description": "the app", "content": json_content(_APP)},
                **_ERRORS,
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": {**_ERR, "description": "the slug is taken"},
            },
        },
        "delete": {
            "summary": "Unpublish an app (editors, admins); the notebook stays",
            "tags": ["apps"],
            "parameters": _SLUG,
            "responses": {
                "204": {"description": "unpublished"},
                **_ERRORS,
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        },
    },
}
