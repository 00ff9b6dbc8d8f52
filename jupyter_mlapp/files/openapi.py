"""The OpenAPI description of ``/mlapp/api/files/...``."""

from __future__ import annotations

from ..api import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, Schema, refused
from ..web import json_content

_PATH_QUERY = {
    "name": "path",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "default": ""},
    "description": "relative to your root, '/'-separated; '' is the root",
}
_ENTRY = Schema(
    "FileEntry",
    {
        "type": "object",
        "required": ["name", "path", "type", "mtime"],
        "properties": {
            "name": {"type": "string"},
            "path": {"type": "string"},
            "type": {"type": "string", "enum": ["file", "folder"]},
            "size": {"type": "integer", "nullable": True},
            "mtime": {"type": "number"},
        },
    },
)
_ERRORS = {**BAD_REQUEST, **UNAUTHORIZED, "403": refused("OutsideRoot", "the path leaves your root"), **NOT_FOUND}
_CONFLICT = {"409": refused("NameTaken", "the name is taken, or the folder is not empty")}


def _body(properties: dict, required: list[str]) -> dict:
    return {
        "required": True,
        "content": json_content({"type": "object", "required": required, "properties": properties}),
    }


_PATH_PROP = {"path": {"type": "string"}}

openapi_paths = {
    "/files/list": {
        "get": {
            "summary": "The entries of a folder, folders first",
            "tags": ["files"],
            "parameters": [_PATH_QUERY],
            "responses": {
                "200": {
                    "description": "entries",
                    "content": json_content(
                        {
                            "type": "object",
                            "properties": {"path": {"type": "string"}, "entries": {"type": "array", "items": _ENTRY}},
                        }
                    ),
                },
                **_ERRORS,
            },
        }
    },
    "/files/tree": {
        "get": {
            "summary": "A folder and its descendants",
            "tags": ["files"],
            "parameters": [
                _PATH_QUERY,
                {
                    "name": "depth",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 8, "default": 2},
                },
            ],
            "responses": {
                "200": {"description": "the tree (entries with 'children')", "content": json_content(_ENTRY)},
                **_ERRORS,
            },
        }
    },
    "/files/stat": {
        "get": {
            "summary": "Size, type and modification time of one entry",
            "tags": ["files"],
            "parameters": [_PATH_QUERY],
            "responses": {"200": {"description": "the entry", "content": json_content(_ENTRY)}, **_ERRORS},
        }
    },
    "/files/content": {
        "get": {
            "summary": "Download a file",
            "tags": ["files"],
            "parameters": [_PATH_QUERY],
            "responses": {
                "200": {"description": "the bytes", "content": {"application/octet-stream": {}}},
                "413": {"description": "too large"},
                **_ERRORS,
            },
        },
        "put": {
            "summary": "Upload a file (the raw body)",
            "tags": ["files"],
            "parameters": [
                _PATH_QUERY,
                {"name": "overwrite", "in": "query", "schema": {"type": "boolean", "default": False}},
            ],
            "requestBody": {"required": True, "content": {"application/octet-stream": {}}},
            "responses": {
                "201": {"description": "stored", "content": json_content(_ENTRY)},
                "413": {"description": "too large"},
                **_ERRORS,
                **_CONFLICT,
            },
        },
    },
    "/files/mkdir": {
        "post": {
            "summary": "Create a folder",
            "tags": ["files"],
            "requestBody": _body(_PATH_PROP, ["path"]),
            "responses": {"201": {"description": "created", "content": json_content(_ENTRY)}, **_ERRORS, **_CONFLICT},
        }
    },
    "/files/create": {
        "post": {
            "summary": "Create a text file",
            "tags": ["files"],
            "requestBody": _body({**_PATH_PROP, "content": {"type": "string", "default": ""}}, ["path"]),
            "responses": {"201": {"description": "created", "content": json_content(_ENTRY)}, **_ERRORS, **_CONFLICT},
        }
    },
    "/files/rename": {
        "post": {
            "summary": "Rename or move (never overwrites)",
            "tags": ["files"],
            "requestBody": _body({**_PATH_PROP, "new_path": {"type": "string"}}, ["path", "new_path"]),
            "responses": {
                "200": {"description": "the entry at its new path", "content": json_content(_ENTRY)},
                **_ERRORS,
                **_CONFLICT,
            },
        }
    },
    "/files/delete": {
        "post": {
            "summary": "Delete a file or folder (a non-empty folder needs recursive=true)",
            "tags": ["files"],
            "requestBody": _body({**_PATH_PROP, "recursive": {"type": "boolean", "default": False}}, ["path"]),
            "responses": {
                "200": {
                    "description": "deleted",
                    "content": json_content({"type": "object", "properties": {"deleted": {"type": "string"}}}),
                },
                **_ERRORS,
                **_CONFLICT,
            },
        }
    },
}
