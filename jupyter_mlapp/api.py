"""The server-wide endpoints: ``/mlapp/api/status`` and ``/mlapp/api/openapi.json``."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from . import __version__
from .web import MLAppHandler


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
                                "required": ["version", "home", "user"],
                                "properties": {
                                    "version": {"type": "string"},
                                    "home": {"type": "string"},
                                    "user": {"type": "object"},
                                    "rooms": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        }
                    },
                },
                "401": {"$ref": "#/components/responses/Unauthorized"},
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
