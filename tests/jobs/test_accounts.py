"""The jobs API behind jupyter-mlapp's own login: accounts with roles and API tokens, and the
server owner (the holder of the server's token)."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_mlapp.auth.store import UserStore

from .conftest import api_caller, keep_job_settings

OWNER = "root"


@pytest.fixture
def jp_server_config(mlapp_home, monkeypatch):
    keep_job_settings(monkeypatch)
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_mlapp": True},
            "identity_provider_class": "jupyter_mlapp.auth.identity.MLAppIdentityProvider",
            "authorizer_class": "jupyter_mlapp.auth.authorizer.MLAppAuthorizer",
        },
        "MLAppIdentityProvider": {"owner_name": OWNER},
        "MLApp": {"home": str(mlapp_home)},
    }


@pytest.fixture
def call(jp_fetch, jp_auth_header, mlapp_home):
    store = UserStore(mlapp_home)
    headers = {OWNER: dict(jp_auth_header)}
    for name, role in {"alice": "editor", "bob": "editor", "carol": "viewer"}.items():
        store.add(name, "correct horse battery staple", role=role)
        headers[name] = {"Authorization": f"token {store.create_token(name, 'tests')[1]}"}
    return api_caller(jp_fetch, headers)


async def test_accounts_own_their_jobs_and_the_owner_sees_all(call):
    status, job = await call("alice", "POST", "jobs", body={"command": ["sleep", "30"], "name": "alice's"})
    assert status == 201 and job["user"] == "alice"
    assert (await call("bob", "GET", "jobs"))[1]["jobs"] == []
    assert (await call("bob", "GET", "jobs", job["id"]))[0] == 404
    assert (await call("bob", "POST", "jobs", job["id"], "kill"))[0] == 404
    # A viewer reads (their own, none here) but cannot start or kill jobs over the API.
    assert (await call("carol", "GET", "jobs")) == (200, {"jobs": []})
    status, answer = await call("carol", "POST", "jobs", body={"command": ["true"]})
    assert status == 403 and answer["error"]
    status, listed = await call(OWNER, "GET", "jobs")
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    status, result = await call(OWNER, "POST", "jobs", job["id"], "kill")
    assert status == 200 and result["killed"]


async def test_a_viewer_cannot_remove_jobs_and_others_cannot_remove_yours(call):
    _status, job = await call("alice", "POST", "jobs", body={"command": ["true"]})
    while (await call("alice", "GET", "jobs", job["id"]))[1]["state"] != "succeeded":  # noqa: ASYNC110 - polls the server
        await asyncio.sleep(0.05)
    assert (await call("carol", "DELETE", "jobs", job["id"]))[0] == 403
    assert (await call("carol", "POST", "jobs", "clear-finished"))[0] == 403
    assert (await call("bob", "DELETE", "jobs", job["id"]))[0] == 404
    assert await call("bob", "POST", "jobs", "clear-finished") == (200, {"removed": 0})
    assert await call("alice", "DELETE", "jobs", job["id"]) == (204, None)
