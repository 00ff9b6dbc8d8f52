"""The OpenAPI description of ``/mlapp/api/sessions/...``."""

from __future__ import annotations

from ..api import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, Schema, refused
from ..web import json_content

_ERRORS = {
    **UNAUTHORIZED,
    "403": refused("OthersSessions", "another user's sessions, and you are not an admin"),
    **NOT_FOUND,
}
_AUTH = {code: _ERRORS[code] for code in ("401", "403")}
_BAD = BAD_REQUEST
_APP = {"name": "app", "in": "path", "required": True, "schema": {"type": "string"}}
_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "snapshot name: 1-128 characters, no / \\ .. or control characters",
}
_SNAPSHOT = Schema(
    "Snapshot",
    {
        "type": "object",
        "required": ["name", "created", "size", "keys", "summary"],
        "properties": {
            "name": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
            "size": {"type": "integer"},
            "keys": {"type": "integer"},
            "summary": {"type": "string"},
        },
    },
)
_STATE = Schema(
    "AppState",
    {
        "type": "object",
        "required": ["app", "keys", "size", "snapshots"],
        "properties": {
            "app": {"type": "string"},
            "keys": {"type": "integer"},
            "size": {"type": "integer"},
            "updated": {"type": "string", "nullable": True},
            "snapshots": {"type": "integer"},
            "values": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "kind", "size"],
                    "properties": {
                        "key": {"type": "string"},
                        "kind": {"type": "string"},
                        "size": {"type": "integer"},
                        "updated": {"type": "string"},
                        "summary": {"type": "string"},
                        "value": {"description": "the value itself, for plain (JSON) values up to 4 KB"},
                    },
                },
            },
            "warnings": {"type": "array", "items": {"type": "string"}},
        },
    },
)
_CACHE_ENTRY = Schema(
    "CacheEntry",
    {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "key": {"type": "string"},
            "kind": {"type": "string"},
            "size": {"type": "integer"},
            "created": {"type": "string"},
            "used": {"type": "string"},
            "hits": {"type": "integer"},
            "seconds": {"type": "number"},
            "expires": {"type": "string"},
            "stale": {"type": "boolean"},
            "namespace": {"type": "string", "description": "the cached function (module.name), or '' for direct calls"},
            "version": {"type": "string"},
            "writer": {"type": "string", "description": "the user whose call computed it"},
            "shared": {"type": "string", "nullable": True, "description": "the app whose users share it, or null"},
        },
    },
)


def _ok(description: str, schema: dict, status: str = "200") -> dict:
    return {status: {"description": description, "content": json_content(schema)}}


def _name_body(required_overwrite: bool = False) -> dict:
    properties: dict[str, dict] = {"name": {"type": "string"}}
    if required_overwrite:
        properties["overwrite"] = {"type": "boolean", "default": False}
    return {
        "required": True,
        "content": json_content({"type": "object", "required": ["name"], "properties": properties}),
    }


_TAGS = ["sessions"]
_USER = {
    "name": "user",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "admins only: whose sessions (default: yours)",
}
openapi_paths = {
    "/sessions/apps": {
        "get": {
            "summary": "Your apps with saved state",
            "tags": _TAGS,
            "parameters": [_USER],
            "responses": {
                **_ok("apps", {"type": "object", "properties": {"apps": {"type": "array", "items": _STATE}}}),
                **_BAD,
                **_AUTH,
            },
        }
    },
    "/sessions/apps/{app}": {
        "get": {
            "summary": "The autosaved state of an app",
            "tags": _TAGS,
            "parameters": [_APP, _USER],
            "responses": {**_ok("the state", _STATE), **_BAD, **_ERRORS},
        },
        "delete": {
            "summary": "Start a new session: forget the autosaved state (snapshots stay)",
            "tags": _TAGS,
            "parameters": [_APP, _USER],
            "responses": {**_ok("cleared", {"type": "object"}), **_BAD, **_ERRORS},
        },
    },
    "/sessions/apps/{app}/snapshots": {
        "get": {
            "summary": "Snapshots of an app, newest first",
            "tags": _TAGS,
            "parameters": [_APP, _USER],
            "responses": {
                **_ok(
                    "snapshots", {"type": "object", "properties": {"snapshots": {"type": "array", "items": _SNAPSHOT}}}
                ),
                **_BAD,
                **_ERRORS,
            },
        },
        "post": {
            "summary": "Save the autosaved state as a named snapshot",
            "tags": _TAGS,
            "parameters": [_APP, _USER],
            "requestBody": _name_body(required_overwrite=True),
            "responses": {
                **_ok("saved", _SNAPSHOT, "201"),
                **_BAD,
                **_ERRORS,
                "409": refused("SnapshotExists", "a snapshot with that name exists"),
            },
        },
    },
    "/sessions/apps/{app}/snapshots/{name}": {
        "get": {
            "summary": "One snapshot",
            "tags": _TAGS,
            "parameters": [_APP, _NAME, _USER],
            "responses": {**_ok("the snapshot", _SNAPSHOT), **_BAD, **_ERRORS},
        },
        "patch": {
            "summary": "Rename a snapshot",
            "tags": _TAGS,
            "parameters": [_APP, _NAME, _USER],
            "requestBody": _name_body(),
            "responses": {
                **_ok("renamed", _SNAPSHOT),
                **_BAD,
                **_ERRORS,
                "409": refused("SnapshotNameTaken", "the new name is taken"),
            },
        },
        "delete": {
            "summary": "Delete a snapshot",
            "tags": _TAGS,
            "parameters": [_APP, _NAME, _USER],
            "responses": {**_ok("deleted", {"type": "object"}), **_BAD, **_ERRORS},
        },
    },
    "/sessions/apps/{app}/snapshots/{name}/load": {
        "post": {
            "summary": "Make a snapshot the app's state (a running app shows it when reloaded)",
            "tags": _TAGS,
            "parameters": [_APP, _NAME, _USER],
            "responses": {**_ok("the new state", _STATE), **_BAD, **_ERRORS},
        }
    },
    "/sessions/cache": {
        "get": {
            "summary": "Your cached results, and (editors and admins) those shared by an app's users",
            "tags": _TAGS,
            "parameters": [_USER],
            "responses": {
                **_ok(
                    "entries",
                    {
                        "type": "object",
                        "properties": {
                            "entries": {"type": "array", "items": _CACHE_ENTRY},
                            "shared": {"type": "array", "items": _CACHE_ENTRY},
                        },
                    },
                ),
                **_BAD,
                **_AUTH,
            },
        },
        "delete": {
            "summary": "Clear your cache",
            "tags": _TAGS,
            "parameters": [_USER],
            "responses": {
                **_ok("removed", {"type": "object", "properties": {"removed": {"type": "integer"}}}),
                **_BAD,
                **_AUTH,
            },
        },
    },
    "/sessions/cache/{key_id}": {
        "delete": {
            "summary": "Forget one cached result",
            "tags": _TAGS,
            "parameters": [{"name": "key_id", "in": "path", "required": True, "schema": {"type": "string"}}, _USER],
            "responses": {**_ok("removed", {"type": "object"}), **_BAD, **_ERRORS},
        }
    },
    "/sessions/cache/shared/{app}/{key_id}": {
        "delete": {
            "summary": "Forget one result shared by an app's users (editors and admins)",
            "tags": _TAGS,
            "parameters": [_APP, {"name": "key_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {**_ok("removed", {"type": "object"}), **_BAD, **_ERRORS},
        }
    },
}
