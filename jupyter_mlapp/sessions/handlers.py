"""REST API of sessions: ``/mlapp/api/sessions/...``, for the user the server authenticated (an
admin may add ``?user=<name>`` to see and manage another user's).

For the JupyterLab sidebar and for scripts: list the apps with saved state, read an app's state,
start a new session, and save, list, load, rename and delete snapshots; show and clear the cache.
A running app does not see a change made here until it reloads (its kernel holds the state).
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import Forbidden, NotFound
from ..web import MLAppHandler, json_content
from .manager import SessionManager


class SessionsHandler(MLAppHandler):
    auth_resource = "sessions"
    manager: SessionManager

    @property
    def who(self) -> str:
        """Whose sessions: the signed-in user's; an admin may name another with ``?user=``."""
        user = self.get_query_argument("user", "") or self.username
        if user != self.username and not self.is_admin:
            raise Forbidden("only admins may see another user's sessions")
        return user

    @property
    def role(self) -> str:
        return super().role or "viewer"


class AppsHandler(SessionsHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.write_json({"apps": await self.call(self.manager.apps, self.who)})


class AppStateHandler(SessionsHandler):
    @web.authenticated
    @authorized
    async def get(self, app):
        self.write_json(await self.call(self.manager.state, self.who, app))

    @web.authenticated
    @authorized
    async def delete(self, app):
        await self.call(self.manager.clear, self.who, app)
        self.write_json({"app": app, "cleared": True})


class SnapshotsHandler(SessionsHandler):
    @web.authenticated
    @authorized
    async def get(self, app):
        self.write_json({"app": app, "snapshots": await self.call(self.manager.snapshots, self.who, app)})

    @web.authenticated
    @authorized
    async def post(self, app):
        body = self.json_body()
        overwrite = self.bool_field(body, "overwrite")
        name = self.string_field(body, "name")
        info = await self.call(self.manager.save_snapshot, self.who, app, name, overwrite=overwrite)
        self.write_json(info, status=201)


class SnapshotHandler(SessionsHandler):
    @web.authenticated
    @authorized
    async def get(self, app, name):
        self.write_json(await self.call(self.manager.snapshot, self.who, app, name))

    @web.authenticated
    @authorized
    async def patch(self, app, name):
        new_name = self.string_field(self.json_body(), "name")
        self.write_json(await self.call(self.manager.rename_snapshot, self.who, app, name, new_name))

    @web.authenticated
    @authorized
    async def delete(self, app, name):
        await self.call(self.manager.delete_snapshot, self.who, app, name)
        self.write_json({"app": app, "deleted": name})


class LoadSnapshotHandler(SessionsHandler):
    @web.authenticated
    @authorized
    async def post(self, app, name):
        self.write_json(await self.call(self.manager.load_snapshot, self.who, app, name))


class CacheHandler(SessionsHandler):
    @web.authenticated
    @authorized
    async def get(self):
        who, role = self.who, self.role

        def read():
            with self.manager.cache(who) as cache:
                entries = cache.info()
            shared = []
            if role in ("editor", "admin"):
                for app in self.manager.shared_apps():
                    with self.manager.shared_cache(app, role) as cache:
                        shared += cache.info()
            return {"entries": entries, "shared": shared}

        self.write_json(await self.call(read))

    @web.authenticated
    @authorized
    async def delete(self):
        who = self.who

        def clear():
            with self.manager.cache(who) as cache:
                return cache.clear()

        self.write_json({"removed": await self.call(clear)})


def clear_entry(cache, key_id: str, missing: str) -> int:
    if key_id not in {entry["id"] for entry in cache.info()}:
        raise NotFound(missing)
    return cache.clear(key_id)


class CacheEntryHandler(SessionsHandler):
    @web.authenticated
    @authorized
    async def delete(self, key_id):
        who = self.who

        def clear():
            with self.manager.cache(who) as cache:
                return clear_entry(cache, key_id, f"no cached result with id {key_id!r}")

        self.write_json({"removed": await self.call(clear)})


class SharedCacheEntryHandler(SessionsHandler):
    @web.authenticated
    @authorized
    async def delete(self, app, key_id):
        role = self.role

        def clear():
            with self.manager.shared_cache(app, role) as cache:
                return clear_entry(cache, key_id, f"no shared result with id {key_id!r} for app {app!r}")

        self.write_json({"removed": await self.call(clear)})


APP = r"/sessions/apps/(?P<app>[^/]+)"
SNAPSHOT = APP + r"/snapshots/(?P<name>[^/]+)"


def _error(description: str) -> dict:
    return {"description": description, "content": json_content({"$ref": "#/components/schemas/Error"})}


_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": _error("another user's sessions, and you are not an admin"),
    "404": {"$ref": "#/components/responses/NotFound"},
}
_AUTH = {code: _ERRORS[code] for code in ("401", "403")}
_BAD = {"400": {"$ref": "#/components/responses/BadRequest"}}
_APP = {"name": "app", "in": "path", "required": True, "schema": {"type": "string"}}
_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "snapshot name: 1-128 characters, no / \\ .. or control characters",
}
_SNAPSHOT = {
    "type": "object",
    "required": ["name", "created", "size", "keys", "summary"],
    "properties": {
        "name": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "size": {"type": "integer"},
        "keys": {"type": "integer"},
        "summary": {"type": "string"},
    },
}
_STATE = {
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
}
_CACHE_ENTRY = {
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
}


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
                "409": _error("a snapshot with that name exists"),
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
            "responses": {**_ok("renamed", _SNAPSHOT), **_BAD, **_ERRORS, "409": _error("the new name is taken")},
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
