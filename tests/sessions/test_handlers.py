"""REST API of sessions on a real in-process server, with state written by a real AppState."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.sessions import AppState, Cache


@pytest.fixture
def jp_server_config(mlapp_home):
    """The server with jupyter-mlapp's identities: the token holder is the owner, accounts with
    API tokens are other users."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_mlapp": True},
            "identity_provider_class": "jupyter_mlapp.auth.identity.MLAppIdentityProvider",
            "authorizer_class": "jupyter_mlapp.auth.authorizer.MLAppAuthorizer",
        },
        "MLApp": {"home": str(mlapp_home)},
    }


@pytest.fixture
def api(http_server_client, jp_base_url, jp_auth_header):
    """Call ``/mlapp/api/sessions/<parts>`` with each part URL-quoted (names may hold anything)."""

    async def call(method, *parts, body=None, expect=200, token=None):
        headers = {"Authorization": f"token {token}"} if token else dict(jp_auth_header)
        if body is not None:
            body = body if isinstance(body, bytes) else json.dumps(body).encode()
        elif method in ("POST", "PATCH", "PUT"):
            body = b""
        *parts, last = parts
        last, _, query = last.partition("?")  # a query string on the last part stays as it is
        url = jp_base_url.rstrip("/") + "/mlapp/api/sessions/" + "/".join(quote(p, safe="") for p in [*parts, last])
        url += f"?{query}" if query else ""
        if expect >= 400:
            with pytest.raises(HTTPClientError) as err:
                await http_server_client.fetch(url, method=method, body=body, headers=headers)
            assert err.value.code == expect, err.value.response.body
            payload = json.loads(err.value.response.body)
            assert set(payload) == {"message", "reason", "error", "detail"} and payload["message"]
            return payload
        response = await http_server_client.fetch(url, method=method, body=body, headers=headers)
        assert response.code == expect
        return json.loads(response.body)

    return call


async def whoami(jp_fetch) -> str:
    """The user the server authenticated for our requests."""
    status = json.loads((await jp_fetch("mlapp", "api", "status")).body)
    return status["user"]["username"]


def make_state(user, app="churn", **values):
    state = AppState(app, user=user)
    state.update(values)
    state.close()


async def test_each_user_sees_and_controls_only_their_own_sessions(jp_fetch, api, mlapp_home):
    me = await whoami(jp_fetch)
    store = UserStore(mlapp_home)
    store.add("bob", "a long enough password", role="viewer")
    _, bob_token = store.create_token("bob")
    make_state(me, lr=0.1, page="Train")
    make_state("bob", app="secret", token="s3cr3t")
    apps = (await api("GET", "apps"))["apps"]
    assert [a["app"] for a in apps] == ["churn"] and apps[0]["keys"] == 2
    state = await api("GET", "apps", "churn")
    assert {v["key"]: v["value"] for v in state["values"]} == {"lr": 0.1, "page": "Train"}
    await api("GET", "apps", "secret", expect=404)
    # bob (a viewer with an API token) sees his app only, and may snapshot it.
    assert [a["app"] for a in (await api("GET", "apps", token=bob_token))["apps"]] == ["secret"]
    await api("GET", "apps", "churn", token=bob_token, expect=404)
    await api("DELETE", "apps", "churn", token=bob_token, expect=404)
    await api("POST", "apps", "secret", "snapshots", body={"name": "b"}, token=bob_token, expect=201)
    await api("GET", "apps", "secret", "snapshots", "b", expect=404)
    assert AppState("churn", user=me)["lr"] == 0.1
    # An admin (the owner) may look at bob's; bob may not look at anyone else's.
    assert [a["app"] for a in (await api("GET", "apps?user=bob"))["apps"]] == ["secret"]
    assert (await api("GET", "apps", "secret", "snapshots?user=bob"))["snapshots"][0]["name"] == "b"
    error = await api("GET", f"apps?user={me}", token=bob_token, expect=403)
    assert "only admins" in error["error"]
    await api("GET", "cache?user=..", expect=400)


async def test_snapshot_lifecycle_over_rest(jp_fetch, api):
    me = await whoami(jp_fetch)
    make_state(me, lr=0.1)
    saved = await api("POST", "apps", "churn", "snapshots", body={"name": "base line"}, expect=201)
    assert saved["name"] == "base line" and saved["summary"] == "1 value: lr=0.1"
    await api("POST", "apps", "churn", "snapshots", body={"name": "base line"}, expect=409)
    make_state(me, lr=0.9)
    listed = (await api("GET", "apps", "churn", "snapshots"))["snapshots"]
    assert [s["name"] for s in listed] == ["base line"]
    assert (await api("GET", "apps", "churn", "snapshots", "base line"))["keys"] == 1
    state = await api("POST", "apps", "churn", "snapshots", "base line", "load")
    assert state["values"][0]["value"] == 0.1
    assert AppState("churn", user=me)["lr"] == 0.1  # what the app loads next
    renamed = await api("PATCH", "apps", "churn", "snapshots", "base line", body={"name": "v1"})
    assert renamed["name"] == "v1"
    await api("DELETE", "apps", "churn", "snapshots", "v1")
    await api("GET", "apps", "churn", "snapshots", "v1", expect=404)
    await api("POST", "apps", "churn", "snapshots", "v1", "load", expect=404)
    await api("DELETE", "apps", "churn")
    assert (await api("GET", "apps", "churn"))["keys"] == 0


@pytest.mark.parametrize("name", ["..", "a..b", "x" * 200, "tab\tname", " "])
async def test_bad_names_are_400_with_a_json_error(jp_fetch, api, name):
    me = await whoami(jp_fetch)
    make_state(me, lr=0.1)
    error = await api("POST", "apps", "churn", "snapshots", body={"name": name}, expect=400)
    assert "snapshot name" in error["error"]
    await api("GET", "apps", name, expect=400)


async def test_a_slash_in_a_name_never_reaches_the_file_system(jp_fetch, api):
    me = await whoami(jp_fetch)
    make_state(me, lr=0.1)
    error = await api("POST", "apps", "churn", "snapshots", body={"name": "../../etc"}, expect=400)
    assert "must not contain" in error["error"]
    await api("GET", "apps", "../someone-else", expect=400)


async def test_bad_bodies_are_400(jp_fetch, api):
    me = await whoami(jp_fetch)
    make_state(me, lr=0.1)
    await api("POST", "apps", "churn", "snapshots", body=b"{not json", expect=400)
    await api("POST", "apps", "churn", "snapshots", body={"name": 3}, expect=400)
    await api("POST", "apps", "churn", "snapshots", body={"name": "a", "overwrite": "yes"}, expect=400)
    await api("PATCH", "apps", "churn", "snapshots", "a", body={}, expect=400)


async def test_cache_info_and_clear_over_rest(jp_fetch, api):
    me = await whoami(jp_fetch)
    cache = Cache(user=me)
    cache.get_or_compute("model", lambda: [1, 2, 3], expires="daily")
    cache.get_or_compute("other", lambda: 1)
    cache.close()
    entries = (await api("GET", "cache"))["entries"]
    assert {e["key"]: e["expires"] for e in entries} == {"model": "daily", "other": "never"}
    model_id = next(e["id"] for e in entries if e["key"] == "model")
    assert (await api("DELETE", "cache", model_id))["removed"] == 1
    await api("DELETE", "cache", model_id, expect=404)
    assert (await api("DELETE", "cache"))["removed"] == 1
    assert (await api("GET", "cache"))["entries"] == []


async def test_a_cache_shared_by_an_apps_users_is_listed_for_editors_and_cleared_by_them(jp_fetch, api, mlapp_home):
    store = UserStore(mlapp_home)
    store.add("vera", "a long enough password", role="viewer")
    _, vera_token = store.create_token("vera")
    shared = Cache(user="vera", shared="dashboard")
    shared.get_or_compute("prepared", lambda: [1, 2], namespace="app.prepare")
    shared.close()
    listed = await api("GET", "cache")
    assert [(e["key"], e["namespace"], e["writer"], e["shared"]) for e in listed["shared"]] == [
        ("prepared", "app.prepare", "vera", "dashboard")
    ]
    assert (await api("GET", "cache", token=vera_token))["shared"] == []  # a viewer sees only their own
    entry_id = listed["shared"][0]["id"]
    await api("DELETE", "cache", "shared", "dashboard", entry_id, token=vera_token, expect=403)
    await api("DELETE", "cache", "shared", "elsewhere", entry_id, expect=404)
    assert (await api("DELETE", "cache", "shared", "dashboard", entry_id))["removed"] == 1
    assert (await api("GET", "cache"))["shared"] == []


async def test_every_route_needs_authentication(jp_fetch):
    for method, parts in (
        ("GET", ["apps"]),
        ("GET", ["apps", "churn"]),
        ("DELETE", ["apps", "churn"]),
        ("GET", ["cache"]),
        ("DELETE", ["cache"]),
    ):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("mlapp", "api", "sessions", *parts, method=method, headers={"Authorization": ""})
        assert err.value.code in (401, 403)
