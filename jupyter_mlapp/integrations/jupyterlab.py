"""JupyterLab: no server token in its pages, and its licenses handler answering errors."""

from __future__ import annotations

from . import replace_route_target

WRITTEN_FOR = {"jupyterlab_server": ">=2.27,<3"}


def keep_token_out_of_pages(web_app) -> None:
    """JupyterLab writes the server token into every Lab page's config, and its front end sends
    it with each request: any signed-in account would then act as the server owner. Browsers
    are authenticated by their login cookie (with the XSRF check), so pages never need it."""
    previous = web_app.settings.get("page_config_hook")

    def hook(handler, page_config):
        if previous is not None:
            page_config = previous(handler, page_config)
        page_config["token"] = ""
        return page_config

    web_app.settings["page_config_hook"] = hook


def answer_licenses_errors(web_app) -> None:
    """JupyterLab's licenses handler (reachable before login) never answers an error: its
    ``finish`` needs a MIME type, and Jupyter's error page calls it without one, so anonymous
    users and viewers waited forever. Errors get Jupyter's JSON instead."""
    try:
        from jupyterlab_server.licenses_handler import LicensesHandler
    except ImportError:
        return

    class Licenses(LicensesHandler):
        def finish(self, *args, **kwargs):
            if "_mime_type" in kwargs:  # the report
                return super().finish(*args, **kwargs)
            return super(LicensesHandler, self).finish(*args, **kwargs)  # an error: Jupyter's JSON

    Licenses.__module__ = LicensesHandler.__module__  # still JupyterLab's page for the Authorizer, not ours
    replace_route_target(web_app, LicensesHandler, Licenses)
