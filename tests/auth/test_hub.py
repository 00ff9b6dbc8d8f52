"""Under a real JupyterHub the Hub's user is the identity and our login page steps aside.

The Hub (``jupyterhub`` fixture, conftest.py) signs people in; each user's server runs
jupyter-mlapp, started as the Hub starts any server (``jupyterhub-singleuser``) or as
``jupyter mlapp``. Roles still hold: the owner is an admin, others the Hub lets in get the role
of their account on that server, else viewer.
"""

from __future__ import annotations

import re
import sys

import pytest
import requests

from jupyter_mlapp.auth.identity import HUB_VARIABLES, hub_environment

SPAWNED = {
    "JUPYTERHUB_API_TOKEN": "t0k3n",
    "JUPYTERHUB_API_URL": "http://hub:8081/hub/api",
    "JUPYTERHUB_SERVICE_PREFIX": "/user/ann/",
    "JUPYTERHUB_USER": "ann",
}


def me(hub, session, server="ann") -> requests.Response:
    return session.get(f"{hub.url}/user/{server}/mlapp/api/auth/me", timeout=30)


def test_detects_a_server_spawned_by_the_hub():
    assert hub_environment(SPAWNED)
    assert not hub_environment({})
    for name in HUB_VARIABLES:  # all of them, not just one stray variable
        assert not hub_environment({**SPAWNED, name: ""})


@pytest.mark.parametrize("owner", ["ann", "carl"], ids=["jupyterhub-singleuser", "jupyter-mlapp"])
def test_the_hubs_user_is_the_identity_and_our_login_steps_aside(jupyterhub, owner):
    session = jupyterhub.open_server(owner)  # signed in at the Hub, not on a page of ours
    r = me(jupyterhub, session, owner)
    assert r.status_code == 200, r.text
    assert r.json()["user"] == {"username": owner, "display_name": owner, "role": "admin", "kind": "hub"}
    status = session.get(f"{jupyterhub.url}/user/{owner}/mlapp/api/status", timeout=30).json()
    assert status["user"]["username"] == owner and status["home"] == str(jupyterhub.home_of(owner))

    assert session.get(f"{jupyterhub.url}/user/{owner}/login", timeout=30).status_code == 404
    xsrf = {"X-XSRFToken": session.cookies.get("_xsrf", path=f"/user/{owner}/")}
    r = session.post(
        f"{jupyterhub.url}/user/{owner}/mlapp/api/auth/login",
        headers=xsrf,
        timeout=30,
        json={"username": owner, "password": "anything"},
    )
    assert r.status_code == 400 and "signs in through JupyterHub" in r.json()["error"]

    # XSRF still guards every state-changing request made with the Hub's cookie.
    job = {"command": [sys.executable, "-c", "print('hi')"]}
    r = session.post(f"{jupyterhub.url}/user/{owner}/mlapp/api/jobs", json=job, timeout=30)
    assert r.status_code == 403
    r = session.post(f"{jupyterhub.url}/user/{owner}/mlapp/api/jobs", json=job, headers=xsrf, timeout=30)
    assert r.status_code == 201 and r.json()["user"] == owner


def test_without_signing_in_at_the_hub_nothing_is_served(jupyterhub):
    jupyterhub.open_server("ann")
    anonymous = requests.Session()
    r = anonymous.get(f"{jupyterhub.url}/user/ann/mlapp/api/auth/me", timeout=30)
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("application/json")
    r = anonymous.get(f"{jupyterhub.url}/user/ann/lab", allow_redirects=False, timeout=30)
    assert r.status_code == 302 and "/hub/api/oauth2/authorize" in r.headers["Location"]  # the Hub's login


@pytest.mark.parametrize(
    "user, role, lab",
    [("bob", "viewer", 403), ("dora", "editor", 200), ("gus", "editor", 200)],
    ids=["no-account", "editor-account", "editor-by-hub-group"],
)
def test_others_the_hub_lets_in_get_the_role_of_their_account_or_group(jupyterhub, user, role, lab):
    jupyterhub.open_server("ann")
    session = jupyterhub.login(user)
    r = jupyterhub.authorize(session, session.get(f"{jupyterhub.url}/user/ann/voila/tree", timeout=30))
    assert r.status_code == 200, r.text[:500]
    assert me(jupyterhub, session).json()["user"] == {
        "username": user,
        "display_name": user,
        "role": role,
        "kind": "hub",
    }
    assert session.get(f"{jupyterhub.url}/user/ann/lab", timeout=30).status_code == lab


def test_a_disabled_account_is_refused_though_the_hub_lets_them_in(jupyterhub):
    jupyterhub.open_server("ann")
    session = jupyterhub.login("erin")
    r = jupyterhub.authorize(session, session.get(f"{jupyterhub.url}/user/ann/voila/tree", timeout=30))
    assert (
        r.status_code == 403 and "The jupyter-mlapp account erin is disabled on this server." in r.text
    )  # Voila's page
    r = me(jupyterhub, session)
    assert r.status_code == 403 and r.json()["error"] == "The jupyter-mlapp account erin is disabled on this server."


def test_the_hub_keeps_out_whom_it_does_not_let_in(jupyterhub):
    jupyterhub.open_server("ann")
    session = jupyterhub.login("frank")
    r = session.get(f"{jupyterhub.url}/user/ann/lab", timeout=30)
    assert r.status_code == 403 and "/user/ann/" not in r.url
    assert me(jupyterhub, session).status_code == 403


def test_signing_out_goes_through_the_hub_and_ends_the_app_kernels(jupyterhub):
    session = jupyterhub.open_server("ann")
    app = session.get(f"{jupyterhub.url}/user/ann/voila/render/notebooks/hello.ipynb", timeout=60)
    kernel_id = re.search(r'"kernelId": "([0-9a-f-]+)"', app.text).group(1)
    kernels = lambda s: {k["id"] for k in s.get(f"{jupyterhub.url}/user/ann/api/kernels", timeout=30).json()}  # noqa: E731
    assert kernel_id in kernels(session)

    r = session.get(f"{jupyterhub.url}/user/ann/logout", timeout=30)
    assert r.status_code == 200 and r.url.startswith(f"{jupyterhub.url}/hub/login")
    assert me(jupyterhub, session).status_code == 403
    assert kernel_id not in kernels(jupyterhub.open_server("ann"))


def test_without_jupyterhub_installed_accounts_stay_in_charge(monkeypatch, capfd):
    """The variables alone (say, copied into a container) do not switch logins off."""
    from jupyter_server.serverapp import ServerApp

    from jupyter_mlapp.extension import MLApp

    for name, value in SPAWNED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(sys.modules, "jupyterhub", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "jupyterhub.singleuser.extension", None)
    monkeypatch.delitem(sys.modules, "jupyter_mlapp.integrations.jupyterhub", raising=False)
    serverapp = ServerApp(identity_provider_class="jupyter_mlapp.auth.identity.MLAppIdentityProvider")
    app = MLApp()
    app._link_jupyter_server_extension(serverapp)
    assert "JUPYTERHUB_* variables are set but jupyterhub is not installed" in capfd.readouterr().err
    assert serverapp.identity_provider_class.__name__ == "MLAppIdentityProvider"


async def test_every_route_refuses_whom_the_hub_has_not_let_in(jp_serverapp, jupyterhub):
    """The crawl of test_crawl.py through the Hub's proxy: every route of ann's server, without
    credentials and as frank (signed in to the Hub, not let in to ann's server)."""
    from .test_crawl import METHODS, PUBLIC, PUBLIC_NAMES, all_routes

    jupyterhub.open_server("ann")
    base, wrong = jp_serverapp.base_url, []
    registered = [(path[len(base) :], handler) for _, path, handler in all_routes(jp_serverapp)]
    assert len(registered) > 60
    for who, session in {"anonymous": requests.Session(), "frank": jupyterhub.login("frank")}.items():
        for path, handler in registered:
            if issubclass(handler, PUBLIC) or handler.__name__ in PUBLIC_NAMES:
                continue
            for method in METHODS:
                r = session.request(method, f"{jupyterhub.url}/user/ann/{path}", allow_redirects=False, timeout=30)
                location = r.headers.get("Location", "")
                if r.status_code >= 500 or 200 <= r.status_code < 300:
                    wrong.append(f"{who}: {method} {path} ({handler.__name__}): {r.status_code}")
                elif r.is_redirect and not location.startswith(("/hub/", "/user/ann/")):
                    # to the Hub's login, or to another route of the server (crawled in turn)
                    wrong.append(f"{who}: {method} {path} ({handler.__name__}): redirect to {location}")
    assert not wrong, "\n".join(wrong)


def test_voila_serves_workspace_images_to_signed_in_users_only(jupyterhub):
    (jupyterhub.root / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n confidential")
    owner = jupyterhub.open_server("ann")
    anonymous = requests.get(f"{jupyterhub.url}/user/ann/voila/files/plot.png", allow_redirects=False, timeout=30)
    assert anonymous.status_code in (302, 403) and b"confidential" not in anonymous.content
    assert owner.get(f"{jupyterhub.url}/user/ann/voila/files/plot.png", timeout=30).content.endswith(b"confidential")
