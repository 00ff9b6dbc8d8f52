"""The server-wide endpoints, ``/mlapp/api/status`` and ``/mlapp/api/openapi.json``, and the OpenAPI
document they serve: ``document`` assembles the rooms' paths, and the named pieces they share
(``Schema``, ``Response``, the error responses) are here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from . import __version__
from .web import API_PREFIX, MLAppHandler, json_content


class Component(dict):
    """A piece of the OpenAPI document with a name: the document lists it once under
    ``components/<section>`` and refers to it with ``$ref`` wherever a room's OpenAPI uses it (see
    ``document``), so that the sidebar's generated types name it too instead of repeating it in
    every operation."""

    section = ""

    def __init__(self, name: str, body: dict):
        super().__init__(body)
        self.name = name


class Schema(Component):
    section = "schemas"


class Response(Component):
    section = "responses"


# The fragments every room's OpenAPI shares: the error body and the responses that carry it.
ERROR = Schema(
    "Error",
    {
        "type": "object",
        "required": ["message", "reason"],
        "properties": {
            "message": {"type": "string"},
            "reason": {"type": "string"},
            "detail": {},
            "error": {"type": "string", "deprecated": True, "description": "message, old name"},
        },
    },
)


def refused(name: str, description: str) -> Response:
    """A response with the error body: why a request was refused (a 403, a 409, ...)."""
    return Response(name, {"description": description, "content": json_content(ERROR)})


BAD_REQUEST = {"400": refused("BadRequest", "bad input")}
UNAUTHORIZED = {"401": refused("Unauthorized", "not logged in")}
NOT_FOUND = {"404": refused("NotFound", "no such thing")}


class StatusHandler(MLAppHandler):
    @web.authenticated
    @authorized
    def get(self):
        user = self.current_user
        self.write_json(
            {
                "version": __version__,
                "home": str(self.mlapp.home_path),
                "user": {
                    "username": user.username,
                    "name": user.display_name or user.name,
                    "role": getattr(user, "role", None),
                },
                "rooms": sorted(self.mlapp.managers),
            }
        )


class OpenAPIHandler(MLAppHandler):
    @web.authenticated
    @authorized
    def get(self):
        self.write_json(self.mlapp.openapi())


# Served whatever the rooms, before theirs.
ROUTES = [(r"/status", StatusHandler), (r"/openapi.json", OpenAPIHandler)]


USER = Schema(
    "CurrentUser",
    {
        "type": "object",
        "required": ["username", "name", "role"],
        "properties": {
            "username": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string", "nullable": True, "description": "null: roles are not used"},
        },
    },
)
openapi_paths = {
    "/status": {
        "get": {
            "summary": "Server status: version, home folder, current user",
            "tags": ["server"],
            "responses": {
                "200": {
                    "description": "status",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["version", "home", "user", "rooms"],
                                "properties": {
                                    "version": {"type": "string"},
                                    "home": {"type": "string"},
                                    "user": USER,
                                    "rooms": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        }
                    },
                },
                **UNAUTHORIZED,
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "tags": ["server"],
            "responses": {"200": {"description": "the OpenAPI document"}},
        }
    },
}


def _hoist(node: Any, components: dict[str, dict], named: dict[tuple[str, str], Component]) -> Any:
    """``node`` with each ``Component`` replaced by its ``$ref``, collected in ``components``."""
    if isinstance(node, Component):
        key = (node.section, node.name)
        if key not in named:
            named[key] = node
            components.setdefault(node.section, {})[node.name] = _hoist(dict(node), components, named)
        elif named[key] != node:
            raise ValueError(f"two different OpenAPI {node.section} are named {node.name}")
        return {"$ref": f"#/components/{node.section}/{node.name}"}
    if isinstance(node, dict):
        return {key: _hoist(value, components, named) for key, value in node.items()}
    if isinstance(node, list):
        return [_hoist(value, components, named) for value in node]
    return node


def document(rooms: Iterable[Any], base_url: str) -> dict:
    """The OpenAPI document of the server's endpoints and of these rooms' (``rooms.Room``)."""
    paths = dict(openapi_paths)
    for room in rooms:
        paths.update(room.openapi)
    components: dict[str, dict] = {}
    paths = _hoist(paths, components, {})
    return {
        "openapi": "3.0.3",
        "info": {"title": "jupyter-mlapp", "version": __version__},
        "servers": [{"url": url_path_join(base_url, API_PREFIX)}],
        "security": [{"token": []}, {"cookie": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "token <your token>",
                },
                "cookie": {"type": "apiKey", "in": "cookie", "name": "_xsrf"},
            },
            **{section: dict(sorted(named.items())) for section, named in sorted(components.items())},
        },
    }
