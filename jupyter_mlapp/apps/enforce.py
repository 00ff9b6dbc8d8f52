"""What published apps change in Jupyter's and Voila's routes (written for jupyter_server 2.x and
Voila 0.5; ``tests/apps/test_enforce.py`` fails when they move).

- ``AppGate``: the Authorizer asks it first (``MLAppAuthorizer.app_gate``). A viewer renders
  published apps only (anything else is a 404, as for a notebook that does not exist), reads
  ``/files/`` and ``/voila/files/`` only for the files those apps declare public, gets no
  ``/api/contents`` and no file explorer API outside their own per-user folder. An editor
  renders any notebook, except an app whose audience leaves them out.
- ``filter_voila_tree``: Voila's file list (``/voila/tree``, ``/voila/api/contents``) shows a
  viewer the published apps they may open, and the folders leading to them, nothing else.
- ``follow_renames``: a notebook (or folder) renamed in JupyterLab keeps its apps published at
  the new path, through the contents service's own ``rename`` event.
"""

from __future__ import annotations

import asyncio

from jupyter_core.utils import ensure_async
from tornado import web

from ..integrations import replace_route_target
from .published import EDITORS, PublishedApps, Who

try:  # Voila is optional: without it there is nothing of Voila's to guard
    from voila.handler import VoilaHandler
    from voila.static_file_handler import AllowListFileHandler
    from voila.tornado.contentshandler import VoilaContentsHandler
    from voila.tornado.treehandler import TornadoVoilaTreeHandler
except ImportError:  # pragma: no cover
    VoilaHandler = AllowListFileHandler = VoilaContentsHandler = TornadoVoilaTreeHandler = None

CONTENTS_EVENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"


class AppGate:
    """``gate(handler, user, action, resource)``: True or False when published apps decide the
    request, None when they have no say (the Authorizer's table then decides); raises a 404 for
    a notebook the user may not run, so a refusal tells nothing about what exists."""

    def __init__(self, apps: PublishedApps):
        self.apps = apps

    def __call__(self, handler, user, action: str, resource: str) -> bool | None:
        who = Who.of(user)
        if who.role == "admin":
            return None
        if VoilaHandler is not None and isinstance(handler, VoilaHandler):
            if not self.apps.may_render(who, self._path(handler)):
                raise web.HTTPError(404, "No such app.")
            return None
        if who.role in EDITORS:
            return None
        if resource == "contents":  # Jupyter's /api/contents and /files/
            return isinstance(handler, web.StaticFileHandler) and action == "read" and self._readable(handler, who)
        if AllowListFileHandler is not None and isinstance(handler, AllowListFileHandler):  # /voila/files/
            return self._readable(handler, who)
        if resource == "mlapp:files":  # the file explorer's REST API: only a viewer's own folder
            return None if self.apps.per_user else False
        return None

    @staticmethod
    def _path(handler) -> str:
        args = getattr(handler, "path_args", None) or [""]
        return args[0] or ""

    def _readable(self, handler, who: Who) -> bool:
        return self.apps.may_read(who, self._path(handler))


class AppsOnlyContents:
    """The contents manager as Voila's file list sees it for a viewer: the apps ``paths`` (which
    they may open) and the folders on the way to them."""

    def __init__(self, contents_manager, paths: set[str]):
        self._cm = contents_manager
        self._paths = paths

    def __getattr__(self, name):
        return getattr(self._cm, name)

    def _shown(self, path: str, kind: str) -> bool:
        path = path.strip("/")
        if kind == "directory":
            return path == "" or any(p.startswith(path + "/") for p in self._paths)
        return path in self._paths

    def dir_exists(self, path: str = "") -> bool:
        return self._shown(path, "directory")

    def file_exists(self, path: str = "") -> bool:
        return False  # Voila's tree would redirect to the file itself: nothing for a viewer there

    async def get(self, path: str, **kwargs):
        path = path.strip("/")
        if not (self._shown(path, "directory") or self._shown(path, "notebook")):
            raise web.HTTPError(404, f"file or directory {path!r} does not exist")
        model = await ensure_async(self._cm.get(path, **kwargs))
        if model.get("type") == "directory" and isinstance(model.get("content"), list):
            model["content"] = [entry for entry in model["content"] if self._shown(entry["path"], entry["type"])]
        return model


def _apps_only(handler_class, apps: PublishedApps):
    class AppsOnly(handler_class):
        @property
        def contents_manager(self):
            cm = super().contents_manager
            user = self.current_user
            who = Who.of(user) if user else None
            if who is None or who.role in EDITORS:
                return cm
            return AppsOnlyContents(cm, {a.path for a in apps.visible_to(who)})

    AppsOnly.__name__ = AppsOnly.__qualname__ = f"AppsOnly{handler_class.__name__}"
    return AppsOnly


def filter_voila_tree(apps: PublishedApps):
    """A patch for ``MLApp.after_extensions_load``: Voila's file list through ``AppsOnlyContents``."""
    replaced = {}
    if TornadoVoilaTreeHandler is not None:
        replaced = {cls: _apps_only(cls, apps) for cls in (TornadoVoilaTreeHandler, VoilaContentsHandler)}

    def patch(web_app) -> None:
        for upstream, ours in replaced.items():
            replace_route_target(web_app, upstream, ours)

    return patch


def follow_renames(serverapp, apps: PublishedApps, log) -> None:
    """Published apps follow their notebook when JupyterLab renames or moves it (or its folder)."""

    async def listener(logger, schema_id: str, data: dict) -> None:
        if data.get("action") != "rename" or not data.get("source_path"):
            return
        try:
            moved = await asyncio.get_running_loop().run_in_executor(
                None, apps.moved, data["source_path"], data["path"]
            )
        except Exception:  # the rename itself succeeded: log, never fail it
            log.exception("published apps could not follow the rename of %s", data["source_path"])
            return
        for app in moved:
            log.info("published app %s follows its notebook to %s", app.slug, app.path)

    serverapp.event_logger.add_listener(schema_id=CONTENTS_EVENTS, listener=listener)
