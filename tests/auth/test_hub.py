"""Under JupyterHub the Hub's user is the identity: detection from the spawner's variables."""
from __future__ import annotations

import importlib.util
import logging

import pytest

from jupyter_mlapp.auth.identity import HUB_VARIABLES, MLAppIdentityProvider, hub_environment

SPAWNED = {"JUPYTERHUB_API_TOKEN": "t0k3n", "JUPYTERHUB_API_URL": "http://hub:8081/hub/api",
           "JUPYTERHUB_SERVICE_PREFIX": "/user/ann/", "JUPYTERHUB_USER": "ann"}


def test_detects_a_server_spawned_by_the_hub():
    assert hub_environment(SPAWNED)
    assert not hub_environment({})
    for name in HUB_VARIABLES:  # all of them, not just one stray variable
        assert not hub_environment({**SPAWNED, name: ""})


@pytest.mark.skipif(importlib.util.find_spec("jupyterhub") is not None, reason="jupyterhub is installed")
def test_without_jupyterhub_installed_accounts_stay_in_charge(monkeypatch, caplog):
    for name, value in SPAWNED.items():
        monkeypatch.setenv(name, value)
    with caplog.at_level(logging.WARNING):
        provider = MLAppIdentityProvider(log=logging.getLogger("hub-test"))
    assert provider.hub is None and provider.login_available
    assert "jupyterhub is not installed" in caplog.text
    assert [route for route, _ in provider.get_handlers()][:2] == ["/login", "/logout"]


def test_outside_the_hub_our_login_pages_are_served(monkeypatch):
    for name in SPAWNED:
        monkeypatch.delenv(name, raising=False)
    provider = MLAppIdentityProvider()
    assert provider.hub is None
    routes = dict(provider.get_handlers())
    assert {"/login", "/logout", "/mlapp/account", "/mlapp/setup"} <= set(routes)
