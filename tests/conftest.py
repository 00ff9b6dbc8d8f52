"""Fixtures shared by every room's tests: a real server, a real browser, isolated folders."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import REPO, MLAppServer, make_root

pytest_plugins = ["pytest_jupyter.jupyter_server"]

RESULTS = REPO / "test-results"
CHROMIUM = os.environ.get("MLAPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(autouse=True)
def mlapp_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own home folder, also for the kernels and processes it starts."""
    home = tmp_path / "mlapp-home"
    home.mkdir()
    monkeypatch.setenv("MLAPP_HOME", str(home))
    return home


# -- in-process server (pytest-jupyter), for handler tests ------------------------------------
@pytest.fixture
def jp_server_config(mlapp_home):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_mlapp": True}},
        "MLApp": {"home": str(mlapp_home)},
    }


# -- a real `jupyter mlapp` process ------------------------------------------------------------
@pytest.fixture
def start_server(tmp_path_factory):
    """Start `jupyter mlapp` processes with their own folders; all are stopped after the test."""
    servers: list[MLAppServer] = []

    def start(home: Path | None = None, root: Path | None = None, args=None, env=None, **kw) -> MLAppServer:
        home = home or tmp_path_factory.mktemp("home")
        root = root or make_root(tmp_path_factory.mktemp("root"))
        server = MLAppServer(home, root, args=args, env=env, **kw)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def mlapp_server(tmp_path_factory):
    """One server for the read-mostly tests of a session (starting one takes seconds)."""
    home = tmp_path_factory.mktemp("session-home")
    root = make_root(tmp_path_factory.mktemp("session-root"))
    server = MLAppServer(home, root).start()
    yield server
    server.stop()


# -- a real browser ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page; a screenshot of it is kept when the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        RESULTS.mkdir(exist_ok=True)
        name = request.node.nodeid.replace("/", "_").replace("::", "__")
        try:
            page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"screenshot failed: {exc}")
    context.close()


def screenshot(page, name: str) -> Path:
    """Keep a screenshot as a test artifact (for pages a person should look at)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
