"""The sessions room: app state, snapshots and the cache, under ``/mlapp/api/sessions``."""

from __future__ import annotations

from ..rooms import Room
from .handlers import (
    APP,
    SNAPSHOT,
    AppsHandler,
    AppStateHandler,
    CacheEntryHandler,
    CacheHandler,
    LoadSnapshotHandler,
    SharedCacheEntryHandler,
    SnapshotHandler,
    SnapshotsHandler,
)
from .manager import SessionManager
from .openapi import openapi_paths
from .state import end_session

ROUTES = (
    (r"/sessions/apps", AppsHandler),
    (APP, AppStateHandler),
    (APP + r"/snapshots", SnapshotsHandler),
    (SNAPSHOT, SnapshotHandler),
    (SNAPSHOT + r"/load", LoadSnapshotHandler),
    (r"/sessions/cache", CacheHandler),
    (r"/sessions/cache/(?P<key_id>[0-9a-f]+)", CacheEntryHandler),
    (r"/sessions/cache/shared/(?P<app>[^/]+)/(?P<key_id>[0-9a-f]+)", SharedCacheEntryHandler),
)


ROOM = Room(
    "sessions",
    build=lambda app: SessionManager(app.home_path),
    routes=ROUTES,
    openapi=openapi_paths,
    # Logging out starts clean: the user's autosaved app state goes (their snapshots stay).
    on_logout=lambda manager, username: end_session(username, home=manager.home),
)
