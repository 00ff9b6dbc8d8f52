"""The red team's chain, at the protocol level: a viewer opens the jobs app and sends widget
messages straight over the kernel websocket to the JobLauncher (a command in its text box, a
click on its button). Nothing runs, and the launcher's message says why."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import requests
from harness import close_websocket
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.jobs.store import JobStore

APP = "voila/render/notebooks/jobs.ipynb"


def message(msg_type: str, content: dict, channel: str = "shell", version: str = "2.1.0") -> str:
    """A Jupyter message as a widget frontend sends it (``version``: of the widget protocol)."""
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "session": uuid.uuid4().hex,
        "username": "vera",
        "date": "2026-01-01T00:00:00Z",
        "version": "5.3",
    }
    return json.dumps(
        {
            "header": header,
            "parent_header": {},
            "metadata": {"version": version},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
    )


async def comm_messages(ws, seconds: float):
    """The comm_msg contents the kernel sends within ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            raw = await asyncio.wait_for(ws.read_message(), left)
        except asyncio.TimeoutError:
            return
        if raw is None:
            return
        if isinstance(raw, str):
            msg = json.loads(raw)
            if msg["header"]["msg_type"] == "comm_msg":
                yield msg["content"]


async def drive_launcher(server, headers, kernel_id: str, command: str) -> list[str]:
    url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
    ws = await websocket_connect(HTTPRequest(url, headers=headers))
    try:
        return await click_start(ws, command)
    finally:
        await close_websocket(ws)


async def click_start(ws, command: str) -> list[str]:
    """The values the widgets show after the JobLauncher's Start button is clicked with ``command``."""
    control = uuid.uuid4().hex
    opening = {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}}
    ws.write_message(message("comm_open", opening, version="1.0.0"))  # the control protocol's version
    ws.write_message(message("comm_msg", {"comm_id": control, "data": {"method": "request_states"}}))
    states = None
    async for content in comm_messages(ws, 60):
        if content["data"].get("method") == "update_states":
            states = content["data"]["states"]
            break
    assert states, "the kernel sent no widget states"

    def model(name: str, description: str) -> str:
        return next(
            model_id
            for model_id, model in states.items()
            if model["model_name"] == name and model["state"].get("description") == description
        )

    text, button = model("TextModel", "Command"), model("ButtonModel", "Start job")
    assert states[button]["state"]["disabled"]  # greyed out in the page: this is a hostile client
    notices = [m["state"]["value"] for m in states.values() if m["model_name"] == "HTMLModel"]
    assert any("Starting commands is for editors: you are signed in as a viewer" in n for n in notices)
    ws.write_message(
        message(
            "comm_msg",
            {"comm_id": text, "data": {"method": "update", "state": {"value": command}, "buffer_paths": []}},
        )
    )
    ws.write_message(
        message("comm_msg", {"comm_id": button, "data": {"method": "custom", "content": {"event": "click"}}})
    )
    shown = []
    async for content in comm_messages(ws, 30):
        value = content["data"].get("state", {}).get("value")
        if isinstance(value, str):
            shown.append(value)
            if "for editors" in value:
                break
    return shown


def test_a_viewer_clicking_the_launcher_over_the_websocket_runs_nothing(start_server, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    users = UserStore(home)
    users.add("vera", "vera-viewer-pw-1", "viewer")
    headers = {"Authorization": f"token {users.create_token('vera', 'tests')[1]}"}
    server = start_server(home=home)
    page = requests.get(f"{server.url}/{APP}", headers=headers, timeout=120)
    assert page.status_code == 200, page.text[:500]
    kernel_id = re.search(r'"kernelId": "([0-9a-f-]+)"', page.text).group(1)

    marker = tmp_path_factory.mktemp("target") / "ran"
    shown = asyncio.run(drive_launcher(server, headers, kernel_id, f"touch {marker}"))
    assert any("starting a command is for editors: you are signed in as a viewer" in value for value in shown), shown
    assert not marker.exists()
    assert JobStore(home / "jobs" / "jobs.sqlite").list() == []
