"""Voila: its workspace files behind the login, its template files and error page answering well,
its JupyterLab themes served from its own folder, its widget extensions kept by the browser.

Each function runs once every extension has loaded (``MLApp.after_extensions_load``), on the
routes and the Jinja environment Voila registered.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from queue import Empty

from jinja2 import BytecodeCache, ChoiceLoader, FileSystemLoader, PrefixLoader
from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from . import replace_route_target

WRITTEN_FOR = {
    "voila": ">=0.5,<0.6",
    "jupyter_server": ">=2.14,<3",
    "jupyterlab_server": ">=2.27,<3",
    "nbclient": ">=0.11,<0.12",
}

ERROR_PAGES = Path(__file__).with_name("voila_error_pages")


def protect_voila_files(web_app) -> None:
    """Voila serves the workspace's images (``/voila/files/...png``) to anyone, signed in or
    not; put its handler behind the login like everything else."""
    try:
        from voila.static_file_handler import AllowListFileHandler
    except ImportError:
        return

    class AppFileHandler(JupyterHandler, AllowListFileHandler):  # the Authorizer's route check: "voila"
        @web.authenticated
        def get(self, path, include_body=True):
            return super().get(path, include_body)

        @web.authenticated
        def head(self, path):
            return super().head(path)

    replace_route_target(web_app, AllowListFileHandler, AppFileHandler)


def answer_template_file_errors(web_app) -> None:
    """Voila's template files (reachable before login) answer a path that is not
    ``<template>/static/<file>`` with a 500: a 404 it is."""
    try:
        from voila.static_file_handler import TemplateStaticFileHandler
    except ImportError:
        return

    class TemplateFiles(TemplateStaticFileHandler):
        def parse_url_path(self, path):
            try:
                return super().parse_url_path(path)
            except (ValueError, AssertionError, KeyError) as exc:  # not <template>/static/<file>
                raise web.HTTPError(404) from exc

        @classmethod
        def get_absolute_path(cls, root, path):
            try:
                return super().get_absolute_path(root, path)
            except (ValueError, AssertionError, KeyError) as exc:
                raise web.HTTPError(404) from exc

    replace_route_target(web_app, TemplateStaticFileHandler, TemplateFiles)


def explain_voila_errors(web_app) -> None:
    """Voila's error page shows "403: Forbidden" and no reason; ours (``voila_error_pages``) adds
    the reason of a refusal, as Jupyter's own pages do ("Your role (viewer) does not allow ...")."""
    env = web_app.settings.get("voila_jinja2_env")
    if env is None or getattr(env, "_mlapp_errors", False):
        return
    original = env.loader
    env.loader = ChoiceLoader([FileSystemLoader(ERROR_PAGES), original, PrefixLoader({"voila": original})])
    env._mlapp_errors = True


def own_theme_cache(web_app) -> None:
    """jupyter_server's ``FileFindHandler`` caches where it found a file by its relative path
    alone, in one dict for all its subclasses: once JupyterLab served
    ``@jupyterlab/theme-light-extension/index.css`` from its folder, Voila's themes handler was
    given Lab's file for the same path, outside its own folder, and answered 403: apps and the
    gallery lost their theme. Voila's themes get a cache of their own."""
    from jupyterlab_server.themes_handler import ThemesHandler

    class VoilaThemesHandler(ThemesHandler):
        _static_paths: dict[str, str] = {}  # noqa: RUF012 (the class-level cache is the point)

    replace_route_target(web_app, ThemesHandler, VoilaThemesHandler, path_contains="/voila/api/themes/")


# A federated extension's entry point and chunks are named by their content's hash
# (``remoteEntry.<hash>.js``; ``<chunk>.<hash>.js?v=<hash>``, by @jupyterlab/builder's webpack
# configuration): a new build is a new name, so the browser may keep these for good.
HASHED_ENTRY = re.compile(r"/remoteEntry\.[0-9a-f]{8,}\.js$")


def cache_hashed_labextensions(web_app) -> None:
    """Voila serves the widget extensions of every app page with ``Cache-Control: no-cache``
    (its route's ``no_cache_paths=["/"]``), so each page load asks again for some 70 files and
    waits for 70 "304 Not Modified" answers before a widget draws: most of a warm open. Files
    named by their content are served ``immutable`` instead; any other file (``package.json``,
    a style sheet named without a hash) still answers ``no-cache``."""
    from jupyter_server.base.handlers import FileFindHandler

    class AppExtensionFiles(FileFindHandler):
        _static_paths: dict[str, str] = {}  # noqa: RUF012 (a cache of its own: see own_theme_cache)

        def set_headers(self) -> None:
            super().set_headers()
            if "v" in self.request.arguments or HASHED_ENTRY.search(self.request.path):
                self.set_header("Cache-Control", "public, max-age=31536000, immutable")

    replace_route_target(web_app, FileFindHandler, AppExtensionFiles, path_contains="/voila/labextensions/")


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates kept in memory, by template file and source checksum."""

    def __init__(self, size: int = 256):
        self.size = size
        self._codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._codes.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # a changed source misses: the bucket checks its checksum

    def dump_bytecode(self, bucket) -> None:
        if len(self._codes) >= self.size:  # templates are few: only a folder of changing ones gets here
            self._codes.pop(next(iter(self._codes)))
        self._codes[bucket.key] = bucket.bytecode_to_string()


def cache_compiled_templates() -> None:
    """Voila builds a new exporter, with a new Jinja environment, for every page load, so Jinja
    parses and compiles the page's templates (lab's index.html.j2, nbconvert's base and display
    templates, ours) again each time: measured, about 70% of the server's work for a page, on the
    event loop. Voila's environments share one bytecode cache. Only Voila's: the cache's key is
    the template's file, and code compiled for Voila's async environment with its ``do``
    extension is not for another exporter's."""
    from voila.exporter import VoilaExporter

    create = VoilaExporter._create_environment
    if getattr(create, "_mlapp_cached", False):
        return
    cache = CompiledTemplates()

    def _create_environment(self):
        environment = create(self)
        environment.bytecode_cache = cache
        return environment

    _create_environment._mlapp_cached = True  # type: ignore[attr-defined]
    VoilaExporter._create_environment = _create_environment


async def wait_until_connected(client, timeout: float) -> None:
    """jupyter_client's ``wait_for_ready`` without its last step, which reads IOPub until it has
    been quiet for 0.2 s: every page waited those 0.2 s for nothing, about a fifth of a warm open.
    A kernel_info reply on shell, then one IOPub message (ipykernel 7's welcome to a new
    subscriber, or the request's status) show both channels connected, as they do for
    jupyter_client. What IOPub still holds concerns no request of the executor's, which reads only
    the messages of its own requests."""
    deadline = time.monotonic() + timeout
    while True:
        client.kernel_info()
        try:
            reply = await ensure_async(client.get_shell_msg(timeout=1))
        except Empty:
            reply = None
        if reply is not None and reply["msg_type"] == "kernel_info_reply":
            try:
                await ensure_async(client.get_iopub_msg(timeout=0.2))
            except Empty:  # subscribed too late for this request's status: ask again
                pass
            else:
                client._handle_kernel_info_reply(reply)
                return
        if not await ensure_async(client.is_alive()):
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


def connect_page_kernels_sooner() -> None:
    """Voila's executor connects to each page's kernel with nbclient's
    ``async_start_new_kernel_client``: the same, waiting with ``wait_until_connected``."""
    from nbclient.util import run_hook
    from voila.execute import VoilaExecutor

    if getattr(VoilaExecutor.async_start_new_kernel_client, "_mlapp_sooner", False):
        return

    async def async_start_new_kernel_client(self):
        assert self.km is not None
        try:
            self.kc = self.km.client()
            await ensure_async(self.kc.start_channels())
            await wait_until_connected(self.kc, self.startup_timeout)
        except Exception as exc:
            self.log.error(
                "Error occurred while starting new kernel client for kernel %s: %s",
                getattr(self.km, "kernel_id", None),
                exc,
            )
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        await run_hook(self.on_notebook_start, notebook=self.nb)
        return self.kc

    async_start_new_kernel_client._mlapp_sooner = True  # type: ignore[attr-defined]
    VoilaExecutor.async_start_new_kernel_client = async_start_new_kernel_client
