"""App kernels on a real server: a page's kernel goes when its page does, the caps refuse with a
clear page, a pooled kernel works for whoever it is handed to, viewers open only the widget comms
a page needs, admins list and stop app kernels.

Pages are opened as Voila's frontend does, without a browser: the page request, then the kernel
websocket (tests/browser/test_app_kernels.py does the same in Chromium)."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid

import nbformat
import pytest
import requests
import websocket
from harness import MLAppServer, make_root

from jupyter_mlapp.apps.kernels import FIRST_CONNECT, SETTLE_MAX
from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.sessions.store import StateIndex

GRACE = 3.0
HELLO = "/voila/render/notebooks/hello.ipynb"
WHOAMI = "/voila/render/notebooks/whoami/whoami.ipynb"
USERS = {"vera": "viewer", "walt": "viewer", "xena": "viewer", "eddie": "editor", "ada": "admin"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("kernels-home")
    root = make_root(tmp_path_factory.mktemp("kernels-root"))
    folder = root / "notebooks" / "whoami"
    folder.mkdir()
    (folder / "whoami_helper.py").write_text("WHERE = 'beside the notebook'\n")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import jupyter_mlapp, ipywidgets as widgets\n"
            "from whoami_helper import WHERE\n"
            "who = f'{jupyter_mlapp.current_user()} {jupyter_mlapp.current_role()} {WHERE}'\n"
            "widgets.HTML(f\"<p class='who'>{who}</p>\")"
        )
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "whoami.ipynb")
    store = UserStore(home)
    for name, role in USERS.items():
        store.add(name, f"{name} password 1", role)
    server = MLAppServer(
        home,
        root,
        args=[
            f"--MLApp.app_kernel_grace={GRACE}",
            "--MLApp.app_kernel_pool_size=1",
            "--MLApp.app_kernels_per_user=2",
            "--MLApp.app_kernels_total=3",
        ],
    ).start()
    server.tokens = {name: store.create_token(name, "tests")[1] for name in USERS}
    server.home_path = home
    yield server
    server.stop()


def get(server, user, path, **kwargs):
    headers = {"Authorization": f"token {server.tokens[user]}"}
    return requests.get(f"{server.url}{path}", headers=headers, timeout=120, allow_redirects=False, **kwargs)


def kernel_of(page: requests.Response) -> str:
    return re.search(r'"kernelId": "([0-9a-f-]+)"', page.text).group(1)


def app_kernels(server) -> dict[str, dict]:
    """The app kernels as an admin sees them, by id."""
    response = server.api("GET", "appkernels")
    assert response.status_code == 200, response.text
    return {k["id"]: k for k in response.json()["kernels"]}


def running(server) -> set[str]:
    return {k["id"] for k in server.session().get(f"{server.url}/api/kernels", timeout=30).json()}


def connect(server, user, kernel_id) -> websocket.WebSocket:
    """The kernel websocket of a page, as Voila's frontend opens it."""
    url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
    return websocket.create_connection(url, header=[f"Authorization: token {server.tokens[user]}"], timeout=60)


def wait_for(condition, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


def wait_for_pool(server) -> str:
    """The id of a warm pooled kernel, once there is one."""
    pooled = wait_for(lambda: [k for k, v in app_kernels(server).items() if v["state"] == "pooled"], 120)
    assert pooled, "the pool never filled"
    return pooled[0]


def close_all(*sockets) -> None:
    for ws in sockets:
        ws.close()


def test_a_closed_page_frees_its_kernel_after_the_grace_period(server):
    page = get(server, "vera", HELLO)
    assert page.status_code == 200
    kernel_id = kernel_of(page)
    ws = connect(server, "vera", kernel_id)
    time.sleep(GRACE * 2)  # an open page keeps its kernel, however long
    assert app_kernels(server)[kernel_id]["state"] == "open"
    assert kernel_id in running(server)
    ws.close()
    closed = time.monotonic()
    assert wait_for(lambda: kernel_id not in running(server), GRACE + 20)
    assert time.monotonic() - closed >= GRACE - 0.5  # a reconnect within the grace period finds it
    assert kernel_id not in app_kernels(server)


def test_a_page_that_never_connects_frees_its_kernel_too(server):
    """A browser may take a while to load Voila's JavaScript: a page gets a minute to connect."""
    kernel_id = kernel_of(get(server, "walt", HELLO))
    time.sleep(GRACE * 2)
    assert kernel_id in running(server)
    assert wait_for(lambda: kernel_id not in running(server), FIRST_CONNECT + 20)


def test_pooled_kernels_work_for_whoever_they_are_handed_to(server):
    seen = {}
    for user in ("vera", "walt"):  # one after the other, each from the pool
        pooled = wait_for_pool(server)
        # Nobody's until handed over: a viewer cannot reach it.
        assert get(server, "vera", f"/api/kernels/{pooled}").status_code == 403
        page = get(server, user, HELLO)
        assert page.status_code == 200
        seen[user] = kernel_of(page)
        assert seen[user] == pooled
        assert f"Hello, {user}" in page.text
        assert app_kernels(server)[pooled]["user"] == user
        assert get(server, user, f"/api/kernels/{pooled}").status_code == 200  # now theirs
        # A page that never connects keeps its kernel for a minute: stop it, the test goes on.
        assert server.api("DELETE", f"appkernels/{pooled}").status_code == 204
    assert seen["vera"] != seen["walt"]  # never handed to a second page
    # The role, and the notebook's folder (its own modules import), as in a kernel started for it.
    pooled = wait_for_pool(server)
    page = get(server, "eddie", WHOAMI)
    assert kernel_of(page) == pooled
    assert "eddie editor beside the notebook" in page.text
    assert server.api("DELETE", f"appkernels/{pooled}").status_code == 204


def test_the_pool_is_refilled_once_the_page_that_took_its_kernel_has_connected(server):
    """Warming the replacement (Python, the preload imports) would take the cores the opening
    page's notebook and browser need: it waits for the page's websocket."""
    pooled = wait_for_pool(server)
    before = running(server)
    page = get(server, "vera", HELLO)
    assert kernel_of(page) == pooled
    time.sleep(SETTLE_MAX / 3)  # the page's JavaScript is still loading: no kernel is started
    assert running(server) == before
    ws = connect(server, "vera", pooled)
    try:
        refill = wait_for_pool(server)
        assert refill != pooled
    finally:
        ws.close()


def test_the_caps_refuse_with_a_page_saying_try_again(server):
    sockets = []
    try:
        for _ in range(2):
            page = get(server, "vera", HELLO)
            assert page.status_code == 200
            sockets.append(connect(server, "vera", kernel_of(page)))
        refused = get(server, "vera", HELLO)  # a third page of her own
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "60"
        assert "The server is busy, try again in a minute." in refused.text
        assert "You have 2 app pages open" in refused.text

        page = get(server, "walt", HELLO)  # the third of the server
        assert page.status_code == 200
        sockets.append(connect(server, "walt", kernel_of(page)))
        refused = get(server, "xena", HELLO)
        assert refused.status_code == 503 and "The server is busy, try again in a minute." in refused.text

        # A page that closes makes room (after its grace period, or at once for the next page).
        sockets.pop().close()
        time.sleep(0.5)
        assert get(server, "xena", HELLO).status_code == 200
    finally:
        close_all(*sockets)


def comm_open(target: str, data: dict, metadata: dict) -> tuple[str, str]:
    comm_id = uuid.uuid4().hex
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": "comm_open",
        "session": "t",
        "username": "t",
        "date": "2026-01-01T00:00:00Z",
        "version": "5.3",
    }
    content = {"comm_id": comm_id, "target_name": target, "data": data}
    message = {"header": header, "parent_header": {}, "metadata": metadata, "content": content, "channel": "shell"}
    return comm_id, json.dumps(message)


def open_comms(ws) -> dict:
    """The kernel's open comms, from a comm_info_request."""
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "comm_info_request", "session": "t", "username": "t", "version": "5.3"}
    ws.send(json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell"}))
    while True:
        message = json.loads(ws.recv())
        if message["parent_header"].get("msg_id") == msg_id and message["msg_type"] == "comm_info_reply":
            return message["content"]["comms"]


@pytest.mark.parametrize("user, allowed", [("vera", False), ("eddie", True)])
def test_a_viewer_opens_only_the_comms_widget_pages_open(server, user, allowed):
    """The frontend's "jupyter.widget.control" comm passes; a "jupyter.widget" comm_open, which
    would build a widget of the browser's choosing in the kernel, does not (for editors it does)."""
    page = get(server, user, HELLO)
    ws = connect(server, user, kernel_of(page))
    try:
        control, message = comm_open("jupyter.widget.control", {}, {"version": "1.0.0"})
        ws.send(message)
        widget, message = comm_open(
            "jupyter.widget",
            {
                "state": {
                    "_model_name": "ButtonModel",
                    "_model_module": "@jupyter-widgets/controls",
                    "_model_module_version": "2.0.0",
                    "_view_name": "ButtonView",
                    "_view_module": "@jupyter-widgets/controls",
                    "_view_module_version": "2.0.0",
                    "description": "planted",
                },
                "buffer_paths": [],
            },
            {"version": "2.1.0"},
        )
        ws.send(message)
        comms = open_comms(ws)
        assert control in comms
        assert (widget in comms) == allowed
    finally:
        ws.close()


def test_admins_list_app_kernels_and_stop_one(server):
    page = get(server, "walt", HELLO)
    kernel_id = kernel_of(page)
    ws = connect(server, "walt", kernel_id)
    try:
        row = app_kernels(server)[kernel_id]
        assert row["app"] == "notebooks/hello.ipynb" and row["user"] == "walt" and row["state"] == "open"
        assert row["memory"] > 20 * 2**20 and 0 <= row["age"] < 120
        for user in ("walt", "eddie"):
            headers = {"Authorization": f"token {server.tokens[user]}"}
            assert requests.get(f"{server.url}/mlapp/api/appkernels", headers=headers, timeout=30).status_code == 403
            stop = requests.delete(f"{server.url}/mlapp/api/appkernels/{kernel_id}", headers=headers, timeout=30)
            assert stop.status_code == 403
        assert server.api("DELETE", f"appkernels/{kernel_id}").status_code == 204
        assert kernel_id not in running(server)
        missing = server.api("DELETE", f"appkernels/{kernel_id}")
        assert missing.status_code == 404 and "no app kernel" in missing.json()["error"]
    finally:
        ws.close()


def test_a_locked_state_file_stalls_nobody_else(server):
    """A kernel holding the write lock of vera's state: her writes answer 503 "try again" after a
    short wait, her reads are served (read-only, WAL), and nobody else waits at all."""
    for user in ("vera", "walt"):
        StateIndex(user, "demo", server.home_path).close()
    path = StateIndex("vera", "demo", server.home_path).path
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as an autosave in one of vera's kernels would
    writes, timings = [], []

    def write():
        start = time.monotonic()
        writes.append((server_call(server, "vera", "DELETE", "sessions/apps/demo"), time.monotonic() - start))

    try:
        threads = [threading.Thread(target=write) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        for _ in range(20):
            for user, path_ in (("walt", "sessions/apps/demo"), ("walt", "sessions/apps"), ("vera", "sessions/apps")):
                start = time.monotonic()
                assert server_call(server, user, "GET", path_).status_code == 200
                timings.append(time.monotonic() - start)
            start = time.monotonic()
            assert requests.get(f"{server.url}/login", timeout=30).status_code == 200
            timings.append(time.monotonic() - start)
        for thread in threads:
            thread.join()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert max(timings) < 1.0, sorted(timings)[-5:]  # generous for a loaded machine; the benchmark has the p99
    for response, seconds in writes:
        assert response.status_code == 503 and response.headers["Retry-After"] == "2"
        assert "try again in a moment" in response.json()["error"]
        assert seconds < 15
    assert server_call(server, "vera", "DELETE", "sessions/apps/demo").status_code == 200  # once released


def server_call(server, user, method, path):
    headers = {"Authorization": f"token {server.tokens[user]}"}
    return requests.request(method, f"{server.url}/mlapp/api/{path}", headers=headers, timeout=60)


def test_the_server_gives_back_the_memory_a_crowd_of_pages_left_freed():
    """What the last page's leaving runs: freed heap goes back to the system (glibc keeps it
    otherwise), in a process of its own so this test's heap is not the one measured."""
    import subprocess
    import sys

    code = """
import psutil
from jupyter_mlapp.apps.kernels import _libc, return_freed_memory
if _libc() is None:
    print("skip")
    raise SystemExit
me = psutil.Process()
buffers = [bytes(2048) + bytes([i % 256]) for i in range(100_000)]  # ~200 MB in malloc'd blocks
keep = [bytes(64) for _ in range(1000)]  # live objects after them, so the heap's top is in use
del buffers
freed = me.memory_info().rss
return_freed_memory()
print(freed >> 20, me.memory_info().rss >> 20)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    if out.strip() == "skip":
        pytest.skip("not glibc: nothing to give back")
    freed, trimmed = map(int, out.split())
    assert trimmed < freed - 100, f"RSS {freed} MB after the free, {trimmed} MB after giving it back"


def test_the_default_preload_leaves_no_module_of_ours_to_the_flagships_pages(tmp_path):
    """A pooled kernel has imported what the shipped flagship's pages need: running its cells and
    building each of its pages after the preload imports no further module of jupyter_mlapp (its
    packages import the widgets' modules only when a widget is asked for, so the packages alone
    left those to the page; a reload that restored the Monitor page imported the job manager)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    code = (
        "import importlib, json, sys\n"
        "from jupyter_mlapp.apps.kernels import DEFAULT_PRELOAD, preload_code\n"
        "exec(preload_code(list(DEFAULT_PRELOAD)))\n"
        "before = set(sys.modules)\n"
        "notebook = json.load(open('ml_app.ipynb'))\n"
        "namespace = {}\n"
        "for cell in notebook['cells']:\n"
        "    if cell['cell_type'] == 'code':\n"
        "        exec(''.join(cell['source']), namespace)\n"
        "app = namespace['app']\n"
        "app.state['job_id'] = '0123456789ab'  # the Monitor page watches a job (here one not found)\n"
        "for page in app.pages.values():\n"
        "    page(app.state)\n"
        "print(json.dumps(sorted(m for m in set(sys.modules) - before if m.startswith('jupyter_mlapp'))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=notebooks,
        env={**os.environ, "MLAPP_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []
