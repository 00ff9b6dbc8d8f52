"""The OpenAPI description of the published apps' API, ``/mlapp/api/apps``."""

from __future__ import annotations

from ..api import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, Schema, refused
from ..web import json_content

_TEXT = {"type": "string"}
_NAMES = {"type": "array", "items": _TEXT}
_AUDIENCE = Schema(
    "Audience",
    {
        "type": "object",
        "description": "who may open the app besides admins and its publisher; empty: every signed-in user",
        "properties": {"users": _NAMES, "roles": _NAMES, "groups": _NAMES},
    },
)
# PublishedApps.describe and the handlers' url and link; audience, files and published_by are the
# editors' business: a viewer is not sent them.
_APP = Schema(
    "PublishedApp",
    {
        "type": "object",
        "required": [
            "slug",
            "path",
            "title",
            "description",
            "thumbnail",
            "published",
            "updated",
            "last_updated",
            "available",
            "url",
            "link",
        ],
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
    },
)
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
_ERRORS = {**BAD_REQUEST, **UNAUTHORIZED, "403": refused("AppRefused", "refused")}
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
                **NOT_FOUND,
                "409": refused("SlugTaken", "the slug is taken"),
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
                **NOT_FOUND,
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
                **NOT_FOUND,
                "409": refused("SlugTaken", "the slug is taken"),
            },
        },
        "delete": {
            "summary": "Unpublish an app (editors, admins); the notebook stays",
            "tags": ["apps"],
            "parameters": _SLUG,
            "responses": {
                "204": {"description": "unpublished"},
                **_ERRORS,
                **NOT_FOUND,
            },
        },
    },
}
