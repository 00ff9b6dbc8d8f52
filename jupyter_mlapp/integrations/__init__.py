"""What jupyter-mlapp changes in other packages, in one place.

- ``voila``: Voila's workspace files behind the login, its template files and error page.
- ``jupyterlab``: the server token out of JupyterLab's pages, its licenses handler answering errors.
- ``jupyterhub``: under JupyterHub, the Hub's user with our roles, and the server classes of
  ``jupyter mlapp`` on a server the Hub spawned.
- ``ipywidgets``: the Enter key of a text field.
- ``jupyter_server``: its request log line built only when it is shown.
- ``voila_templates/mlapp``: our Voila template (its lab template without links to a CDN).

Jupyter's server classes that ``jupyter mlapp`` configures (its kernel manager and websocket
connection in ``auth/kernels.py``, its IdentityProvider and Authorizer in ``auth/``) stay beside
the rules they carry; tests/integrations/test_jupyter_server.py checks what they override.

Each module's ``WRITTEN_FOR`` names the upstream versions its changes were written for;
tests/integrations fails when an installed version leaves that range, or when what a change relies
on (a class, a method's signature, a template block) is gone.
"""

from __future__ import annotations


def replace_route_target(web_app, old: type, new: type, path_contains: str = "") -> None:
    """Serve ``old``'s routes (those whose pattern holds ``path_contains``) with ``new``
    (idempotent: once replaced, ``old`` is not found again)."""

    def walk(router):
        for rule in getattr(router, "rules", ()):
            pattern = getattr(getattr(rule.matcher, "regex", None), "pattern", "")
            if rule.target is old and path_contains in pattern:
                rule.target = new
            walk(rule.target)

    walk(web_app.default_router)
