"""The apps room: published apps (who may open what), the landing page and the gallery."""

from __future__ import annotations

from ..auth.authorizer import MLAppAuthorizer
from ..auth.identity import MLAppIdentityProvider
from ..integrations.voila import (
    cache_compiled_templates,
    cache_hashed_labextensions,
    connect_page_kernels_sooner,
    own_theme_cache,
)
from ..rooms import Room
from .enforce import AppGate, filter_voila_tree, follow_renames
from .handlers import AppHandler, AppListHandler, GalleryPage, LandingPage, ShortLink
from .openapi import openapi_paths
from .published import PublishedApps


def build(app) -> PublishedApps:
    serverapp = app.serverapp
    hub = not isinstance(serverapp.identity_provider, MLAppIdentityProvider)
    users = app.managers.get("auth")  # the accounts, to check audiences (Hub users need none)
    published = PublishedApps(
        serverapp.root_dir, app.home_path, users=None if hub else users, per_user=app.files_per_user
    )
    for seeded in published.seed(app.apps):
        app.log.info("Published the shipped app %s (%s)", seeded.slug, seeded.path)
    return published


def connect(app, published: PublishedApps) -> None:
    serverapp = app.serverapp
    serverapp.web_app.settings["mlapp_published_apps"] = published
    if isinstance(serverapp.authorizer, MLAppAuthorizer):
        serverapp.authorizer.app_gate = AppGate(published)
    else:
        app.log.warning("The server's Authorizer is not jupyter-mlapp's: published apps are not enforced")
    app.after_extensions_load(filter_voila_tree(published))
    app.after_extensions_load(own_theme_cache)
    app.after_extensions_load(cache_hashed_labextensions)
    cache_compiled_templates()
    connect_page_kernels_sooner()
    follow_renames(serverapp, published, app.log)
    app.handlers.extend(
        [
            (r"/mlapp", LandingPage),
            (r"/mlapp/apps", GalleryPage),
            (r"/mlapp/apps/(?P<slug>[^/]+)", ShortLink),
        ]
    )


ROUTES = ((r"/apps", AppListHandler), (r"/apps/(?P<slug>[^/]+)", AppHandler))


# Published apps open in app kernels: without that room their pages would get Voila's kernels with
# no caps, no pool and no cull, so a list naming apps alone is refused at start.
ROOM = Room("apps", requires=("appkernels",), build=build, routes=ROUTES, openapi=openapi_paths, connect=connect)
