"""REST API of the file explorer: ``/mlapp/api/files/...``, confined like the widget.

Each request works in the caller's root: the server's workspace, or ``<workspace>/users/<name>``
when per-user roots are on (``c.MLApp.files_per_user``); admins always see the whole workspace.
"""

from __future__ import annotations

from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..web import MLAppHandler, json_content
from .manager import FileManager, user_root

CHUNK = 1024 * 1024


class FilesHandler(MLAppHandler):
    auth_resource = "files"

    @property
    def files(self) -> FileManager:
        workspace = self.manager.root
        per_user = self.mlapp.files_per_user and not self.is_admin
        if not per_user:
            return self.manager
        return FileManager(user_root(self.username, workspace=workspace, per_user=True))

    def path_argument(self) -> str:
        return self.get_query_argument("path", "")

    def body_path(self, body: dict, key: str = "path") -> str:
        return self.string_field(body, key, "a string path relative to the root")


class ListHandler(FilesHandler):
    @web.authenticated
    @authorized
    async def get(self):
        files, path = self.files, self.path_argument()
        self.write_json({"path": files.normalize(path), "entries": await self.call(files.list, path)})


class TreeHandler(FilesHandler):
    @web.authenticated
    @authorized
    async def get(self):
        depth = self.int_argument("depth", 2, low=0, high=8)
        self.write_json(await self.call(self.files.tree, self.path_argument(), depth=depth))


class StatHandler(FilesHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.write_json(await self.call(self.files.stat, self.path_argument()))


class ContentHandler(FilesHandler):
    """GET downloads a file; PUT uploads the raw request body to ``?path=`` (``&overwrite=1``)."""

    @web.authenticated
    @authorized
    async def get(self):
        files = self.files
        real = await self.call(files.file, self.path_argument())
        name = files.normalize(self.path_argument()).rpartition("/")[2]
        # RFC 6266: a UTF-8 name, percent-encoded, can never break out of the header.
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Type", "application/octet-stream")
        fh = await self.call(open, real, "rb")
        try:  # in chunks, read off the event loop: a large file never sits in memory whole
            while chunk := await self.call(fh.read, CHUNK):
                self.write(chunk)
                await self.flush()
        finally:
            fh.close()
        self.finish(set_content_type="application/octet-stream")

    @web.authenticated
    @authorized
    async def put(self):
        files, path, overwrite = self.files, self.path_argument(), self.flag_argument("overwrite")
        entry = await self.call(files.upload, path, self.request.body, overwrite=overwrite)
        self.write_json(entry, status=201)


class MkdirHandler(FilesHandler):
    @web.authenticated
    @authorized
    async def post(self):
        self.write_json(await self.call(self.files.mkdir, self.body_path(self.json_body())), status=201)


class CreateHandler(FilesHandler):
    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        content = self.string_field(body, "content", "a string (upload binary files with PUT /files/content)", "")
        self.write_json(await self.call(self.files.create, self.body_path(body), content), status=201)


class RenameHandler(FilesHandler):
    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        self.write_json(await self.call(self.files.rename, self.body_path(body), self.body_path(body, "new_path")))


class DeleteHandler(FilesHandler):
    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        recursive = self.bool_field(body, "recursive")
        files, path = self.files, self.body_path(body)
        await self.call(files.delete, path, recursive=recursive)
        self.write_json({"deleted": files.normalize(path)})


_PATH_QUERY = {
    "name": "path",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "default": ""},
    "description": "relative to your root, '/'-separated; '' is the root",
}
_ENTRY = {
    "type": "object",
    "required": ["name", "path", "type", "mtime"],
    "properties": {
        "name": {"type": "string"},
        "path": {"type": "string"},
        "type": {"type": "string", "enum": ["file", "folder"]},
        "size": {"type": "integer", "nullable": True},
        "mtime": {"type": "number"},
    },
}
_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {
        "description": "the path leaves your root",
        "content": json_content({"$ref": "#/components/schemas/Error"}),
    },
    "404": {"$ref": "#/components/responses/NotFound"},
}
_CONFLICT = {
    "409": {
        "description": "the name is taken, or the folder is not empty",
        "content": json_content({"$ref": "#/components/schemas/Error"}),
    }
}


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
