"""Pooled app kernels forked from a warm template (c.MLApp.app_kernel_fork) on a real server: they
work for whoever they are handed to, go with their page, survive their template's death (which
is started again, the kernels meanwhile started the plain way), and nothing outlives the server."""

from __future__ import annotations

import re
import signal

import nbformat
import psutil
import pytest
from harness import MLAppServer, make_root

from jupyter_mlapp.apps.forkserver import supported
from jupyter_mlapp.auth.store import UserStore

from .test_kernels import GRACE, app_kernels, connect, get, kernel_of, wait_for, wait_for_pool

PIDS = "/voila/render/notebooks/pids/pids.ipynb"
pytestmark = pytest.mark.skipif(not supported(), reason="forking kernels needs Linux pidfds")
USERS = {"vera": "editor", "walt": "editor"}  # editors: they open an unpublished notebook


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("fork-home")
    root = make_root(tmp_path_factory.mktemp("fork-root"))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import os, jupyter_mlapp, ipywidgets as widgets\n"
            "widgets.HTML(f\"<p class='who'>{jupyter_mlapp.current_user()} pid={os.getpid()} "
            'ppid={os.getppid()}</p>")'
        )
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / "notebooks" / "pids").mkdir()
    nbformat.write(notebook, root / "notebooks" / "pids" / "pids.ipynb")
    store, tokens = UserStore(home), {}
    for name, role in USERS.items():
        store.add(name, f"{name} password 1", role)
        tokens[name] = store.create_token(name, "tests")[1]
    config = {"fork": True, "grace": GRACE, "pool_size": 1}
    server = MLAppServer(home, root, args=[f"--MLApp.app_kernel_{k}={v}" for k, v in config.items()]).start()
    server.tokens = tokens
    yield server
    server.stop()


def templates(server) -> list[psutil.Process]:
    """The server's live kernel templates (its children running the template script)."""
    found = []
    for child in psutil.Process(server.proc.pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "Kernel template" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:  # gone meanwhile
            pass
    return found


def open_page(server, user) -> tuple[str, int, int]:
    """A page of ``user``, from the pool: its kernel's id, pid and parent's pid."""
    pooled = wait_for_pool(server)
    page = get(server, user, PIDS)
    assert page.status_code == 200
    assert kernel_of(page) == pooled
    pid, ppid = re.search(rf"{user} pid=(\d+) ppid=(\d+)", page.text).groups()
    return pooled, int(pid), int(ppid)


def stop(server, kernel_id) -> None:
    assert server.api("DELETE", f"appkernels/{kernel_id}").status_code == 204


def test_forked_kernels_work_for_whoever_they_are_handed_to(server):
    seen = set()
    for user in ("vera", "walt"):
        kernel_id, pid, ppid = open_page(server, user)
        assert ppid in [t.pid for t in templates(server)]  # forked, not started by the server
        assert app_kernels(server)[kernel_id]["user"] == user
        seen.add(pid)
        stop(server, kernel_id)
        assert wait_for(lambda pid=pid: not psutil.pid_exists(pid), 10)  # stopped like any kernel
    assert len(seen) == 2


def test_a_closed_pages_forked_kernel_is_gone_within_the_grace_period(server):
    kernel_id, pid, _ = open_page(server, "vera")
    ws = connect(server, "vera", kernel_id)
    ws.close()
    assert wait_for(lambda: not psutil.pid_exists(pid), GRACE + 20)


def test_a_killed_template_comes_back_and_pages_still_open(server):
    wait_for_pool(server)
    (template,) = templates(server)
    template.send_signal(signal.SIGKILL)
    assert wait_for(lambda: not templates(server), 10)
    # The pooled kernel forked before lives on (its parent gone); the next one starts the plain way.
    for started_by_the_server in (False, True):
        kernel_id, _, ppid = open_page(server, "walt")
        assert (ppid == server.proc.pid) == started_by_the_server
        stop(server, kernel_id)
    assert server.wait_for_output("started again as", 30)
    (replacement,) = templates(server)
    assert replacement.pid != template.pid
    _, _, ppid = open_page(server, "vera")  # forked again, from the new template
    assert ppid == replacement.pid


def test_nothing_forked_outlives_the_server(server):
    """Runs last: it stops the module's server."""
    kernel_id, pid, _ = open_page(server, "vera")
    ws = connect(server, "vera", kernel_id)
    wait_for_pool(server)
    processes = templates(server)
    processes += [child for template in processes for child in template.children()]
    assert len(processes) >= 3  # the template, the page's kernel and the pooled one
    server.stop()
    ws.close()
    assert wait_for(lambda: not any(p.is_running() for p in processes), 20), [p for p in processes if p.is_running()]
    assert not psutil.pid_exists(pid)
