"""Role x route x method, for real requests to Jupyter's, JupyterLab's, Voila's and our routes,
and kernels: whose they are, who may reach them, what a viewer may send them."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import psutil
import pytest
from harness import close_websocket, make_root
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_mlapp.apps.published import Who
from jupyter_mlapp.auth.kernels import MLAppKernelConnection

ROLES = ("owner", "admin", "editor", "viewer")
ALL, STAFF, ADMINS = set(ROLES), {"owner", "admin", "editor"}, {"owner", "admin"}
ACCOUNT = {"admin": "ada", "editor": "eddie", "viewer": "vera"}

# (method, path, body, roles allowed). Anything else must get 403.
MATRIX = [
    ("GET", "lab", None, STAFF),
    ("GET", "lab/tree/notebooks", None, STAFF),
    ("GET", "lab/api/settings", None, STAFF),
    ("PUT", "lab/api/workspaces/mlapp-test", {"data": {}, "metadata": {"id": "mlapp-test"}}, STAFF),
    ("GET", "api/contents", None, STAFF),  # viewers: no contents, no notebook source (apps/enforce.py)
    ("GET", "api/contents/notebooks/hello.ipynb", None, STAFF),
    ("GET", "files/notebooks/hello.ipynb", None, STAFF),
    ("GET", "mlapp/api/files/list", None, STAFF),  # viewers: the file explorer's API only in their own folder
    ("POST", "api/contents/notebooks", {"type": "file", "ext": ".txt"}, STAFF),
    ("PUT", "api/contents/notes-{role}.txt", {"type": "file", "format": "text", "content": "hi"}, STAFF),
    ("PATCH", "api/contents/notes-{role}.txt", {"path": "renamed-{role}.txt"}, STAFF),
    ("DELETE", "api/contents/renamed-{role}.txt", None, STAFF),
    ("GET", "api/kernels", None, STAFF),
    ("GET", "api/kernelspecs", None, ALL),
    ("GET", "api/sessions", None, STAFF),
    ("DELETE", "api/sessions/no-such-session", None, STAFF),
    ("GET", "api/terminals", None, STAFF),
    ("GET", "api/nbconvert", None, STAFF),
    ("GET", "api/config/mlapptest", None, ALL),
    ("PATCH", "api/config/mlapptest", {"answer": 42}, STAFF),
    ("GET", "api/me", None, ALL),
    ("GET", "api/status", None, ALL),
    ("POST", "api/shutdown", None, set()),  # (admins may; not tried: it would stop the server)
    ("GET", "voila/tree", None, ALL),
    ("GET", "voila/tree/notebooks", None, ALL),
    ("GET", "mlapp/api/status", None, ALL),
    ("GET", "mlapp/api/openapi.json", None, ALL),
    ("GET", "mlapp/api/auth/me", None, ALL),
    ("POST", "mlapp/api/models/predict", {"rows": []}, ALL),  # "execute": viewers may predict
    ("POST", "mlapp/api/auth/tokens", {"note": "x"}, ALL),
    ("GET", "mlapp/api/auth/users", None, ADMINS),
    ("POST", "mlapp/api/auth/users", {"username": "newbie", "password": "a fine password"}, ADMINS),
    ("PATCH", "mlapp/api/auth/users/newbie", {"role": "viewer"}, ADMINS),
    ("DELETE", "mlapp/api/auth/users/newbie", None, ADMINS),
]


@pytest.fixture
def as_role(browser_for, accounts, store, jp_auth_header, jp_root_dir, jp_serverapp):
    """{role: Browser} each sending its own credentials: the server token, or an API token."""
    make_root(jp_root_dir)
    # The root got its notebooks after the server started (which publishes the shipped ones): publish hello.
    (mlapp,) = jp_serverapp.extension_manager.extension_apps["jupyter_mlapp"]
    mlapp.managers["apps"].publish("notebooks/hello.ipynb", by=Who("ada", "admin"))
    browsers = {}
    for role in ROLES:
        browser = browser_for()
        if role == "owner":
            browser.headers = dict(jp_auth_header)  # the server's own token
        else:
            browser.headers = {"Authorization": f"token {store.create_token(ACCOUNT[role], 'tests')[1]}"}
        browsers[role] = browser
    return browsers


async def call(browser, method, path, body=None):
    return await browser.fetch(method, path, body, headers=browser.headers)


async def test_role_route_method_matrix(as_role):
    wrong = []
    for method, path, body, allowed in MATRIX:
        for role in ROLES:
            if method == "POST" and path == "api/shutdown" and role in ADMINS:
                continue
            response = await call(
                as_role[role], method, path.format(role=role), json.loads(json.dumps(body).replace("{role}", role))
            )
            ok = response.code not in (401, 403) and response.code < 500
            if ok != (role in allowed) or (role not in allowed and response.code != 403):
                wrong.append(f"{role:6} {method:6} {path}: {response.code}")
    assert not wrong, "\n".join(wrong)


async def test_a_viewer_refused_jupyterlab_gets_a_page_saying_why(as_role):
    response = await call(as_role["viewer"], "GET", "lab")
    assert response.code == 403
    assert "Your role (viewer) does not allow this page" in response.body.decode()


def kernel_env(jp_serverapp, kernel_id) -> dict:
    """The environment of the kernel's process, as the operating system has it."""
    pid = jp_serverapp.kernel_manager.get_kernel(kernel_id).provisioner.process.pid
    return psutil.Process(pid).environ()


async def test_kernels_belong_to_who_started_them(as_role, jp_serverapp):
    started = await call(
        as_role["editor"],
        "POST",
        "api/kernels",
        {"name": "python3", "env": {"MLAPP_USER": "mallory", "MLAPP_ROLE": "admin"}},
    )
    assert started.code == 201
    kernel_id = json.loads(started.body)["id"]
    env = kernel_env(jp_serverapp, kernel_id)
    assert (env["MLAPP_USER"], env["MLAPP_ROLE"]) == ("eddie", "editor")
    assert (await call(as_role["editor"], "GET", f"api/kernels/{kernel_id}")).code == 200
    assert (await call(as_role["admin"], "GET", f"api/kernels/{kernel_id}")).code == 200
    assert (await call(as_role["viewer"], "GET", f"api/kernels/{kernel_id}")).code == 403
    assert (await call(as_role["viewer"], "POST", f"api/kernels/{kernel_id}/interrupt")).code == 403
    assert (await call(as_role["viewer"], "DELETE", f"api/kernels/{kernel_id}")).code == 403
    assert (await call(as_role["editor"], "DELETE", f"api/kernels/{kernel_id}")).code == 204


def ws_message(msg_type: str, content: dict, channel="shell") -> str:
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "session": "test",
        "username": "x",
        "date": "2026-01-01T00:00:00Z",
        "version": "5.3",
    }
    return json.dumps(
        {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": channel, "buffers": []}
    )


async def replies(ws, until: str, seconds: float = 30) -> list[str]:
    """The msg_types the kernel sends back, up to ``until`` (or ``seconds``)."""
    types = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            message = await asyncio.wait_for(ws.read_message(), left)
        except asyncio.TimeoutError:
            break
        if message is None:
            break
        types.append(json.loads(message)["header"]["msg_type"])
        if types[-1] == until:
            break
    return types


async def test_a_voila_app_runs_for_the_viewer_and_only_for_them(
    as_role, jp_serverapp, jp_http_port, jp_base_url, tmp_path, browser_for, accounts, store, monkeypatch
):
    page = await call(as_role["viewer"], "GET", "voila/render/notebooks/hello.ipynb?MLAPP_USER=mallory&user=mallory")
    html = page.body.decode()
    assert page.code == 200 and "Hello, vera" in html and "mallory" not in html.replace("MLAPP_USER=mallory", "")
    kernel_id = re.search(r'"kernelId": "([0-9a-f-]+)"', html).group(1)
    km = jp_serverapp.kernel_manager
    assert km.owner_of(kernel_id) == "vera" and km.kernels_of("vera", apps_only=True) == [kernel_id]
    assert kernel_env(jp_serverapp, kernel_id)["MLAPP_ROLE"] == "viewer"

    assert (await call(as_role["viewer"], "GET", f"api/kernels/{kernel_id}")).code == 200
    assert (await call(as_role["editor"], "GET", f"api/kernels/{kernel_id}")).code == 403  # not theirs

    # The viewer's websocket: widget traffic passes, code to execute never reaches the kernel.
    marker = tmp_path / "executed"
    code = f"open({str(marker)!r}, 'w').close()"

    async def connect(role):
        url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}api/kernels/{kernel_id}/channels?session_id={role}"
        return await websocket_connect(HTTPRequest(url, headers=as_role[role].headers))

    viewer_ws = await connect("viewer")
    viewer_ws.write_message(ws_message("execute_request", {"code": code, "silent": False}))
    viewer_ws.write_message(ws_message("kernel_info_request", {}))
    # The kernel answers shell requests in order: were the execute_request delivered, its reply
    # would come before the kernel_info_reply.
    seen = await replies(viewer_ws, until="kernel_info_reply")
    assert "kernel_info_reply" in seen and "execute_reply" not in seen
    assert not marker.exists()
    await close_websocket(viewer_ws)

    # Signed out elsewhere (or disabled, from the command line): the open websocket ends too.
    monkeypatch.setattr(MLAppKernelConnection, "recheck_seconds", 0)
    signed_in = browser_for()
    await signed_in.login("vera", accounts["vera"])
    url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}api/kernels/{kernel_id}/channels?session_id=cookie"
    cookie_ws = await websocket_connect(
        HTTPRequest(url, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in signed_in.cookies.items())})
    )
    cookie_ws.write_message(ws_message("kernel_info_request", {}))
    assert "kernel_info_reply" in await replies(cookie_ws, until="kernel_info_reply")
    store.end_sessions("vera")
    cookie_ws.write_message(ws_message("kernel_info_request", {}))
    assert "kernel_info_reply" not in await replies(cookie_ws, until="kernel_info_reply")  # closed, unanswered
    assert cookie_ws.close_code == 4001
    await close_websocket(cookie_ws)

    admin_ws = await connect("admin")  # the same message from an admin runs: the test can fail
    admin_ws.write_message(ws_message("execute_request", {"code": code, "silent": False}))
    assert "execute_reply" in await replies(admin_ws, until="execute_reply")
    assert marker.exists()
    await close_websocket(admin_ws)

    # Signing out ends the viewer's app kernels: the next visit starts clean.
    await call(as_role["viewer"], "POST", "mlapp/api/auth/logout")
    assert kernel_id not in km.list_kernel_ids()


async def test_only_admins_rebuild_jupyterlab_or_install_extensions(as_role):
    # (An admin's request would really rebuild or install: not tried.)
    for role in ("editor", "viewer"):
        build = await call(as_role[role], "POST", "lab/api/build")
        install = await call(as_role[role], "POST", "lab/api/extensions", {"cmd": "install", "extension_name": "x"})
        assert build.code == install.code == 403, (role, build.code, install.code)
        assert f"Your role ({role}) does not allow" in build.body.decode()
    assert (await call(as_role["editor"], "GET", "lab/api/build")).code == 200  # the build status stays readable
