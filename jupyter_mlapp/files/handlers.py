"""REST API of the file explorer: ``/mlapp/api/files/...``, confined like the widget.

Each request works in the caller's root: the server's workspace, or ``<workspace>/users/<name>``
when per-user roots are on (``c.MLApp.files_per_user``); admins always see the whole workspace.
"""

from __future__ import annotations

from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..web import MLAppHandler
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
