"""The files room: the confined file explorer's API, under ``/mlapp/api/files``."""

from __future__ import annotations

from .. import settings
from ..rooms import Room
from .handlers import (
    ContentHandler,
    CreateHandler,
    DeleteHandler,
    ListHandler,
    MkdirHandler,
    RenameHandler,
    StatHandler,
    TreeHandler,
)
from .manager import FileManager
from .openapi import openapi_paths

ROUTES = (
    (r"/files/list", ListHandler),
    (r"/files/tree", TreeHandler),
    (r"/files/stat", StatHandler),
    (r"/files/content", ContentHandler),
    (r"/files/mkdir", MkdirHandler),
    (r"/files/create", CreateHandler),
    (r"/files/rename", RenameHandler),
    (r"/files/delete", DeleteHandler),
)


ROOM = Room(
    "files",
    build=lambda app: FileManager(app.serverapp.root_dir),
    routes=ROUTES,
    openapi=openapi_paths,
    # A FileExplorer in a kernel confines each user as the REST API does.
    exports=lambda app: {settings.FILES_PER_USER.name: "1" if app.files_per_user else "0"},
)
