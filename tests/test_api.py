"""The server-wide API: status behind authentication, the OpenAPI document true to the routes."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlapp import __version__


async def test_status_requires_authentication(jp_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("mlapp", "api", "status", headers={"Authorization": ""})
    assert err.value.code in (401, 403)


async def test_status_reports_version_home_and_user(jp_fetch, mlapp_home):
    response = await jp_fetch("mlapp", "api", "status")
    status = json.loads(response.body)
    assert status["version"] == __version__
    assert status["home"] == str(mlapp_home.resolve())
    assert status["user"]["username"]


async def test_unknown_api_path_is_a_json_404(jp_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("mlapp", "api", "no-such-thing")
    assert err.value.code == 404
    assert "no such endpoint" in json.loads(err.value.response.body)["error"]


async def test_openapi_lists_exactly_the_registered_routes(jp_fetch, jp_serverapp):
    document = json.loads((await jp_fetch("mlapp", "api", "openapi.json")).body)
    app = jp_serverapp.extension_manager.extension_apps["jupyter_mlapp"]
    (mlapp,) = app
    registered = set(mlapp.api_routes())
    assert registered, "no routes registered"
    assert set(document["paths"]) == registered
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("responses"), f"{method.upper()} {path} documents no responses"
