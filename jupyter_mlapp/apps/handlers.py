"""Published apps over HTTP: the gallery, short links, where a user lands, and the REST API.

Pages: ``/mlapp`` (where ``/`` and the login page send everyone: viewers on to the gallery,
editors and admins to JupyterLab), ``/mlapp/apps`` (the gallery, ``?q=`` searches) and
``/mlapp/apps/<slug>`` (a short link to ``/voila/render/<path>``). REST under
``/mlapp/api/apps``: list, publish, change, unpublish.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..auth.identity import MLAppIdentityProvider
from ..errors import InvalidInput, NotFound
from ..web import MLAppHandler
from .published import EDITORS, PublishedApp, PublishedApps, Who

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)
FIELDS = ("path", "title", "description", "thumbnail", "audience", "files", "slug")
MAX_QUERY = 200


def render_url(base_url: str, app: PublishedApp) -> str:
    """The app's stable address: Voila's, ``/voila/render/<path>``."""
    return url_path_join(base_url, "voila/render", quote(app.path))


def matches(app: dict, query: str) -> bool:
    words = query.lower().split()
    text = f"{app['title']} {app['description']} {app['path']}".lower()
    return all(word in text for word in words)


def search_query(handler) -> str:
    query = handler.get_query_argument("q", "").strip()
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"the search is longer than {MAX_QUERY} characters")
    return query


def gallery_of(apps: PublishedApps, who: Who, query: str = "") -> list[dict]:
    shown = [apps.describe(app, who) for app in apps.visible_to(who)]
    return [app for app in shown if matches(app, query)] if query else shown


# -- pages ----------------------------------------------------------------------------------------
class AppsPage(JupyterHandler):
    """Our pages, authorized as the ``apps`` room's read API (viewers included)."""

    auth_resource = "apps"

    @property
    def apps(self) -> PublishedApps:
        return self.settings["mlapp_published_apps"]

    @property
    def who(self) -> Who:
        return Who.of(self.current_user)


class LandingPage(AppsPage):
    """``/mlapp``: viewers land on the gallery, editors and admins in JupyterLab."""

    @web.authenticated
    @authorized
    def get(self):
        target = "mlapp/apps" if self.who.role not in EDITORS else "lab"
        self.redirect(url_path_join(self.base_url, target))


class GalleryPage(AppsPage):
    """``/mlapp/apps``: cards of the apps this user may open, with a search."""

    @web.authenticated
    @authorized
    async def get(self):
        who = self.who
        try:
            query = search_query(self)
        except InvalidInput as err:
            raise web.HTTPError(400, err.message) from err
        cards = await asyncio.get_running_loop().run_in_executor(None, gallery_of, self.apps, who, query)
        for card in cards:
            card["url"] = url_path_join(self.base_url, "mlapp/apps", quote(card["slug"]))
            card["thumbnail_url"] = (
                url_path_join(self.base_url, "files", quote(card["thumbnail"])) if card.get("thumbnail") else None
            )
            card["updated_text"] = time.strftime("%Y-%m-%d %H:%M", time.localtime(card["last_updated"]))
            card["hue"] = int(hashlib.sha256(card["slug"].encode()).hexdigest()[:4], 16) % 360
            card["initial"] = (card["title"][:1] or "A").upper()
        self.set_header("Cache-Control", "no-store")
        self.finish(
            TEMPLATES.get_template("gallery.html").render(
                base_url=self.base_url,
                user=self.current_user,
                editor=who.role in EDITORS,
                cards=cards,
                query=query,
                signs_in_here=isinstance(self.identity_provider, MLAppIdentityProvider),
            )
        )


class ShortLink(AppsPage):
    """``/mlapp/apps/<slug>``: on to the app, for those who may open it (else a 404, as for none)."""

    @web.authenticated
    @authorized
    def get(self, slug):
        who = self.who
        try:
            app = self.apps.get(slug)
        except NotFound:
            app = None
        if app is None or not self.apps.may_open(who, app) or not self.apps.available(app):
            raise web.HTTPError(404, "No such app.")
        url = render_url(self.base_url, app)
        query = self.request.query
        self.redirect(f"{url}?{query}" if query else url)  # ?page=... deep links pass through


# -- REST -------------------------------------------------------------------------------------------
class AppsHandler(MLAppHandler):
    auth_resource = "apps"

    @property
    def apps(self) -> PublishedApps:
        return self.manager

    @property
    def who(self) -> Who:
        return Who.of(self.current_user)

    def fields(self, body: dict, allowed=FIELDS) -> dict:
        unknown = set(body) - set(allowed)
        if unknown:
            raise InvalidInput(f"unknown fields: {', '.join(sorted(unknown))} (known: {', '.join(allowed)})")
        return body

    def visible(self, slug: str) -> PublishedApp:
        """The app, if this user may see it at all; else the same 404 as for no such app."""
        app = self.apps.get(slug)
        if not self.apps.may_open(self.who, app) or not (self.who.role in EDITORS or self.apps.available(app)):
            raise NotFound(f"no published app {slug!r}")
        return app

    def model(self, app: PublishedApp) -> dict:
        data = self.apps.describe(app, self.who)
        data["url"] = render_url(self.base_url, app)
        data["link"] = url_path_join(self.base_url, "mlapp/apps", quote(app.slug))
        return data


class AppListHandler(AppsHandler):
    @web.authenticated
    @authorized
    async def get(self):
        query = search_query(self)
        apps = await self.call(lambda: [self.model(a) for a in self.apps.visible_to(self.who)])
        self.write_json({"apps": [a for a in apps if matches(a, query)] if query else apps})

    @web.authenticated
    @authorized
    async def post(self):
        body = self.fields(self.json_body())
        app, created = await self.call(self.apps.publish, body.pop("path", None), by=self.who, **body)
        self.log.info("%s published %s as the app %s", self.username, app.path, app.slug)
        self.write_json(await self.call(self.model, app), status=201 if created else 200)


class AppHandler(AppsHandler):
    @web.authenticated
    @authorized
    async def get(self, slug):
        self.write_json(await self.call(lambda: self.model(self.visible(slug))))

    @web.authenticated
    @authorized
    async def patch(self, slug):
        body = self.fields(self.json_body(), allowed=FIELDS[1:])
        if not body:
            raise InvalidInput(f"nothing to change: give {', '.join(FIELDS[1:])}")
        current = await self.call(self.visible, slug)
        app, _ = await self.call(self.apps.publish, current.path, by=self.who, **body)
        self.write_json(await self.call(self.model, app))

    @web.authenticated
    @authorized
    async def delete(self, slug):
        current = await self.call(self.visible, slug)
        app = await self.call(self.apps.unpublish, current.slug, by=self.who)
        self.log.info("%s unpublished the app %s (%s)", self.username, app.slug, app.path)
        self.set_status(204)
        self.finish()
