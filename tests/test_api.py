"""The server-wide API: status behind authentication, the OpenAPI document true to the routes and
its shared pieces named once."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlapp import __version__, api, rooms
from jupyter_mlapp.web import json_content


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


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_names_each_shared_schema_once_and_every_ref_resolves():
    document = api.document(rooms.resolve(rooms.KNOWN), "/")
    job = document["paths"]["/jobs/{job_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert job == {"$ref": "#/components/schemas/Job"}
    assert "created_at" in document["components"]["schemas"]["Job"]["required"]
    refs = set(_refs(document))
    for ref in refs:
        section, name = ref.removeprefix("#/components/").split("/")
        assert name in document["components"][section], ref
    # Nothing listed that no operation uses.
    named = {f"#/components/{s}/{n}" for s in ("schemas", "responses") for n in document["components"][s]}
    assert named == refs


def test_two_different_openapi_schemas_cannot_share_a_name():
    other_job = api.Schema("Job", {"type": "string"})
    room = rooms.Room(
        "other",
        build=lambda app: None,
        routes=(),
        openapi={"/other": {"get": {"responses": {"200": {"description": "", "content": json_content(other_job)}}}}},
    )
    with pytest.raises(ValueError, match="two different OpenAPI schemas are named Job"):
        api.document([*rooms.resolve(["jobs"]), room], "/")
