"""What our JupyterHub changes rely on is still in the installed jupyterhub and jupyter_server.

Their effect is tested against a real Hub (tests/auth/test_hub.py, tests/browser/test_hub.py).
"""

from __future__ import annotations

import inspect

from jupyter_server.serverapp import ServerApp
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider, JupyterHubLogoutHandler, JupyterHubUser

from jupyter_mlapp.integrations import jupyterhub as ours

from .upstream import assert_written_for, parameters


def test_installed_jupyterhub_is_the_one_the_changes_were_written_for():
    assert_written_for(ours)


def test_the_hubs_identity_provider_still_has_what_ours_extends():
    assert inspect.iscoroutinefunction(JupyterHubIdentityProvider.get_user)
    assert parameters(JupyterHubIdentityProvider.get_user) == ["self", "handler"]
    assert JupyterHubIdentityProvider.logout_handler_class is JupyterHubLogoutHandler  # ours replaces it
    assert "get" in vars(JupyterHubLogoutHandler)
    # our user copies the Hub's model from the Hub's user: its groups and admin flag give the role
    assert parameters(JupyterHubUser.__init__) == ["self", "hub_user"]


def test_the_server_still_has_the_settings_a_spawned_server_takes_from_ours():
    traits = ServerApp.class_traits()
    assert set(ours.SERVER_SETTINGS) | {"identity_provider_class"} <= set(traits)
