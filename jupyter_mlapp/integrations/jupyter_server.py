"""Jupyter Server: its request log line built only when it is shown."""

from __future__ import annotations

import logging

WRITTEN_FOR = {"jupyter_server": ">=2.14,<3"}


def log_requests_when_shown(web_app) -> None:
    """Jupyter's ``log_request`` builds each answered request's line (the URI parsed to scrub its
    tokens, the user, the time) and only then logs it, successes at DEBUG, which a server rarely
    shows: measured, about a twelfth of a model server worker's CPU per tiny prediction. A success
    is now formatted only when DEBUG is shown; it is still counted in Prometheus' request
    histogram (``/metrics``), and every other answer is logged as Jupyter logs it."""
    from jupyter_server.prometheus.log_functions import prometheus_log_method

    log_function = web_app.settings.get("log_function")
    if log_function is None or getattr(log_function, "mlapp_when_shown", False):
        return

    def log_request(handler):
        status = handler.get_status()
        if status < 300 or status == 304:  # what Jupyter logs at DEBUG
            logger = getattr(handler, "log", None) or logging.getLogger("tornado.access")
            if not logger.isEnabledFor(logging.DEBUG):
                prometheus_log_method(handler)
                return
        log_function(handler)

    log_request.mlapp_when_shown = True  # type: ignore[attr-defined]
    web_app.settings["log_function"] = log_request
