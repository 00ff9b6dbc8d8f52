"""REST API of sessions on a real in-process server, with state written by a real AppState."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlapp.sessions import AppState, Cache


async def call(jp_fetch, method, *parts, body=None, expect=200):
    kwargs = {"method": method}
    if body is not None:
        kwargs["body"] = json.dumps(body) if not isinstance(body, bytes) else body
    elif method in ("POST", "PATCH", "PUT"):
        kwargs["body"] = b""
    path = ["mlapp", "api", "sessions", *(quote(p, safe="") for p in parts)]
    if expect >= 400:
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch(*path, **kwargs)
        assert err.value.code == expect, err.value.response.body
        payload = json.loads(err.value.response.body)
        assert set(payload) == {"error", "detail"} and payload["error"]
        return payload
    response = await jp_fetch(*path, **kwargs)
    assert response.code == expect
    return json.loads(response.body)


@pytest.fixture
async def me(jp_fetch):
    """The user the server authenticated for our requests."""
    status = json.loads((await jp_fetch("mlapp", "api", "status")).body)
    return status["user"]["username"]


def make_state(user, app="churn", **values):
    state = AppState(app, user=user)
    state.update(values)
    state.close()


async def test_apps_and_state_of_the_authenticated_user_only(jp_fetch, me):
    make_state(me, lr=0.1, page="Train")
    make_state("someone-else", app="secret", token="s3cr3t")
    apps = (await call(jp_fetch, "GET", "apps"))["apps"]
    assert [a["app"] for a in apps] == ["churn"] and apps[0]["keys"] == 2
    state = await call(jp_fetch, "GET", "apps", "churn")
    assert {v["key"]: v["value"] for v in state["values"]} == {"lr": 0.1, "page": "Train"}
    await call(jp_fetch, "GET", "apps", "secret", expect=404)


async def test_snapshot_lifecycle_over_rest(jp_fetch, me):
    make_state(me, lr=0.1)
    saved = await call(jp_fetch, "POST", "apps", "churn", "snapshots", body={"name": "base line"}, expect=201)
    assert saved["name"] == "base line" and saved["summary"] == "1 value: lr=0.1"
    await call(jp_fetch, "POST", "apps", "churn", "snapshots", body={"name": "base line"}, expect=409)
    make_state(me, lr=0.9)
    listed = (await call(jp_fetch, "GET", "apps", "churn", "snapshots"))["snapshots"]
    assert [s["name"] for s in listed] == ["base line"]
    assert (await call(jp_fetch, "GET", "apps", "churn", "snapshots", "base line"))["keys"] == 1
    state = await call(jp_fetch, "POST", "apps", "churn", "snapshots", "base line", "load")
    assert state["values"][0]["value"] == 0.1
    assert AppState("churn", user=me)["lr"] == 0.1  # what the app loads next
    renamed = await call(jp_fetch, "PATCH", "apps", "churn", "snapshots", "base line", body={"name": "v1"})
    assert renamed["name"] == "v1"
    await call(jp_fetch, "DELETE", "apps", "churn", "snapshots", "v1")
    await call(jp_fetch, "GET", "apps", "churn", "snapshots", "v1", expect=404)
    await call(jp_fetch, "POST", "apps", "churn", "snapshots", "v1", "load", expect=404)
    await call(jp_fetch, "DELETE", "apps", "churn")
    assert (await call(jp_fetch, "GET", "apps", "churn"))["keys"] == 0


@pytest.mark.parametrize("name", ["..", "a..b", "x" * 200, "tab\tname", " "])
async def test_bad_names_are_400_with_a_json_error(jp_fetch, me, name):
    make_state(me, lr=0.1)
    error = await call(jp_fetch, "POST", "apps", "churn", "snapshots", body={"name": name}, expect=400)
    assert "snapshot name" in error["error"]
    await call(jp_fetch, "GET", "apps", name, expect=400 if name.strip() else 400)


async def test_a_slash_in_a_name_never_reaches_the_file_system(jp_fetch, me):
    make_state(me, lr=0.1)
    error = await call(jp_fetch, "POST", "apps", "churn", "snapshots", body={"name": "../../etc"}, expect=400)
    assert "must not contain" in error["error"]
    await call(jp_fetch, "GET", "apps", "../someone-else", expect=400)


async def test_bad_bodies_are_400(jp_fetch, me):
    make_state(me, lr=0.1)
    await call(jp_fetch, "POST", "apps", "churn", "snapshots", body=b"{not json", expect=400)
    await call(jp_fetch, "POST", "apps", "churn", "snapshots", body={"name": 3}, expect=400)
    await call(jp_fetch, "POST", "apps", "churn", "snapshots", body={"name": "a", "overwrite": "yes"}, expect=400)
    await call(jp_fetch, "PATCH", "apps", "churn", "snapshots", "a", body={}, expect=400)


async def test_cache_info_and_clear_over_rest(jp_fetch, me):
    cache = Cache(user=me)
    cache.get_or_compute("model", lambda: [1, 2, 3], expires="daily")
    cache.get_or_compute("other", lambda: 1)
    cache.close()
    entries = (await call(jp_fetch, "GET", "cache"))["entries"]
    assert {e["key"]: e["expires"] for e in entries} == {"model": "daily", "other": "never"}
    model_id = next(e["id"] for e in entries if e["key"] == "model")
    assert (await call(jp_fetch, "DELETE", "cache", model_id))["removed"] == 1
    await call(jp_fetch, "DELETE", "cache", model_id, expect=404)
    assert (await call(jp_fetch, "DELETE", "cache"))["removed"] == 1
    assert (await call(jp_fetch, "GET", "cache"))["entries"] == []


async def test_every_route_needs_authentication(jp_fetch):
    for method, parts in (("GET", ["apps"]), ("GET", ["apps", "churn"]), ("DELETE", ["apps", "churn"]),
                          ("GET", ["cache"]), ("DELETE", ["cache"])):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("mlapp", "api", "sessions", *parts, method=method, headers={"Authorization": ""})
        assert err.value.code in (401, 403)
