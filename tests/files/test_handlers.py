"""/mlapp/api/files/...: the same confined operations over REST, errors as JSON."""

from __future__ import annotations

import json
import os

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from tornado.httpclient import HTTPClientError

from jupyter_mlapp import settings


@pytest.fixture(autouse=True)
def restore_kernel_environment(monkeypatch):
    """The in-process server exports these for its kernels: put them back after each test, or
    servers started later by this pytest process would inherit them."""
    for setting in (settings.WORKSPACE, settings.FILES_PER_USER, settings.BASE_URL):
        monkeypatch.delenv(setting.name, raising=False)


async def call(jp_fetch, op, method="GET", body=None, **params):
    kwargs = {"method": method, "params": params}
    if body is not None:
        kwargs["body"] = body if isinstance(body, bytes) else json.dumps(body)
    response = await jp_fetch("mlapp", "api", "files", op, **kwargs)
    return response.body if op == "content" and method == "GET" else json.loads(response.body)


async def error(jp_fetch, op, method="GET", body=None, **params):
    with pytest.raises(HTTPClientError) as err:
        await call(jp_fetch, op, method, body, **params)
    return err.value.code, json.loads(err.value.response.body)


async def test_every_operation_over_rest(jp_fetch, jp_root_dir):
    (jp_root_dir / "data").mkdir()
    (jp_root_dir / "data" / "iris.csv").write_text("a\n1\n")
    listing = await call(jp_fetch, "list")
    assert [e["name"] for e in listing["entries"]] == ["data"]
    assert (await call(jp_fetch, "stat", path="data/iris.csv"))["size"] == 4
    tree = await call(jp_fetch, "tree", depth="2")
    assert tree["children"][0]["children"][0]["path"] == "data/iris.csv"

    assert (await call(jp_fetch, "mkdir", "POST", {"path": "data/out"}))["type"] == "folder"
    assert (await call(jp_fetch, "create", "POST", {"path": "data/out/a.txt", "content": "hé"}))["size"] == 3
    assert (await call(jp_fetch, "content", "PUT", bytes(range(256)), path="data/out/b.bin"))["size"] == 256
    assert await call(jp_fetch, "content", path="data/out/b.bin") == bytes(range(256))
    assert (await call(jp_fetch, "rename", "POST", {"path": "data/out", "new_path": "moved"}))["path"] == "moved"

    code, body = await error(jp_fetch, "delete", "POST", {"path": "moved"})
    assert code == 409 and "not empty (2 entries)" in body["error"]
    assert await call(jp_fetch, "delete", "POST", {"path": "moved", "recursive": True}) == {"deleted": "moved"}
    assert not (jp_root_dir / "moved").exists()


async def test_large_download_streams_intact(jp_fetch, jp_root_dir):
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks and a remainder
    (jp_root_dir / "big.bin").write_bytes(data)
    assert await call(jp_fetch, "content", path="big.bin") == data
    code, body = await error(jp_fetch, "content", path="")
    assert code == 400 and "is a folder" in body["error"]


async def test_download_names_the_file_safely(jp_fetch, jp_root_dir):
    (jp_root_dir / 'quo"te;\r.txt'.replace("\r", "")).write_text("x")
    response = await jp_fetch("mlapp", "api", "files", "content", params={"path": 'quo"te;.txt'})
    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''quo%22te%3B.txt"
    assert response.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    "op, method, body, params, status, message",
    [
        ("list", "GET", None, {"path": "../"}, 403, "'..' is not allowed"),
        ("stat", "GET", None, {"path": "/etc/passwd"}, 403, "absolute paths are not allowed"),
        ("content", "GET", None, {"path": "nope.txt"}, 404, "no such file or folder: nope.txt"),
        ("mkdir", "POST", {"path": "a\u202eb"}, {}, 400, "control character U+202E"),
        ("mkdir", "POST", {"path": 3}, {}, 400, "'path' must be a string"),
        ("mkdir", "POST", b"[1]", {}, 400, "must be a JSON object"),
        ("create", "POST", {"path": "a.txt", "content": 1}, {}, 400, "'content' must be a string"),
        ("delete", "POST", {"path": "", "recursive": True}, {}, 403, "root folder cannot be deleted"),
        ("delete", "POST", {"path": "x", "recursive": "yes"}, {}, 400, "'recursive' must be true or false"),
        ("tree", "GET", None, {"depth": "99"}, 400, "'depth' must be between 0 and 8"),
        ("content", "PUT", b"x", {"path": "../../escape.txt"}, 403, "'..' is not allowed"),
    ],
)
async def test_bad_requests_are_json_errors(jp_fetch, op, method, body, params, status, message):
    code, payload = await error(jp_fetch, op, method, body, **params)
    assert code == status and message in payload["error"]


async def test_links_out_of_the_workspace_are_refused(jp_fetch, jp_root_dir, tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("k")
    os.symlink(secret, jp_root_dir / "escape")
    assert (await call(jp_fetch, "list"))["entries"] == []
    code, payload = await error(jp_fetch, "content", path="escape/key")
    assert code == 403 and "points outside the root" in payload["error"]


async def test_requires_authentication(jp_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("mlapp", "api", "files", "list", headers={"Authorization": ""})
    assert err.value.code in (401, 403)


async def test_kernels_are_told_the_workspace(jp_fetch, jp_root_dir):
    await call(jp_fetch, "list")
    assert os.environ[settings.WORKSPACE.name] == str(jp_root_dir)
    assert os.environ[settings.FILES_PER_USER.name] == "0"


class AnnProvider(IdentityProvider):
    """Every request is Ann's (a user without the admin role), as a login would decide."""

    def get_user(self, handler):
        return User("ann")

    def is_token_authenticated(self, handler):
        return True  # as a script calling with Ann's token: no XSRF cookie to check


class TestPerUser:
    @pytest.fixture
    def jp_server_config(self, mlapp_home):
        return {
            "ServerApp": {"jpserver_extensions": {"jupyter_mlapp": True}, "identity_provider_class": AnnProvider},
            "MLApp": {"home": str(mlapp_home), "files_per_user": True},
        }

    async def test_each_user_gets_a_folder_of_their_own(self, jp_fetch, jp_root_dir):
        (jp_root_dir / "shared.txt").write_text("x")
        created = await call(jp_fetch, "mkdir", "POST", {"path": "mine"})
        assert created["path"] == "mine"
        assert (jp_root_dir / "users" / "ann" / "mine").is_dir()
        assert [e["name"] for e in (await call(jp_fetch, "list"))["entries"]] == ["mine"]
        code, _ = await error(jp_fetch, "stat", path="../shared.txt")
        assert code == 403
