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
from ..web import MLAppHandler
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
