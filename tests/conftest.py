"""Fixtures shared by every room's tests: a real server, a real browser, isolated folders."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest
from harness import RAY, REPO, RESULTS, JupyterHub, MLAppServer, RayHead, make_root, screenshot  # noqa: F401 (re-exported)

pytest_plugins = ["pytest_jupyter.jupyter_server"]

# Test servers keep no warm app kernels (each imports pandas, bqplot, ...: seconds of CPU per server
# on a shared machine); the app kernel tests ask for a pool themselves.
os.environ.setdefault("MLAPP_APP_KERNEL_POOL", "0")

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


# -- a real Ray cluster ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A local Ray cluster of one CPU for the module (`ray start --head`), stopped after it."""
    if not RAY.exists():
        pytest.skip("Ray is not installed: pip install -e '.[ray]' to run these tests")
    head = RayHead(tmp_path_factory.mktemp("ray"))
    try:
        head.start()
    except RuntimeError as exc:
        # Only Ray's own start-up, never our backend: a raylet on an overloaded machine gives up on
        # its agent after a fixed 15 s (ray-project/ray#65983), twice in a row.
        reasons = re.findall(r"(?m)^\w*(?:Exception|Error): (.+)$", str(exc))
        pytest.skip(f"the local Ray head did not start on this machine: {(reasons or [str(exc)])[-1][:300]}")
    yield head
    head.stop()


# -- a real JupyterHub whose users' servers run jupyter-mlapp ---------------------------------
HUB_ACCOUNTS = {"dora": "editor", "erin": "editor"}  # accounts on ann's server; erin's is disabled


@pytest.fixture(scope="session")
def jupyterhub(tmp_path_factory):
    """One Hub for the session. ann's server starts with `jupyterhub-singleuser` (the Hub's
    default), carl's with `jupyter mlapp`; the Hub lets bob, dora, erin, gus and vic use ann's
    server, not frank. On ann's server dora has an editor account, erin a disabled one, bob, gus
    and vic none; gus is in the Hub group ml-team, to which ann's server gives the editor role.
    (The Hub asks a user once whether ann's server may know them: vic is kept for the browser.)"""
    from jupyter_mlapp.auth.store import UserStore

    folder = tmp_path_factory.mktemp("hub")
    hub = JupyterHub(
        folder,
        make_root(tmp_path_factory.mktemp("hub-root")),
        mlapp_users=("carl",),
        roles=[
            {
                "name": "ann-app-users",
                "users": ["bob", "dora", "erin", "gus", "vic"],
                "scopes": ["access:servers!server=ann/"],
            }
        ],
        groups={"ml-team": {"users": ["gus"]}},
    )
    hub.server_config("ann", {"MLAppHubIdentityProvider": {"group_roles": {"ml-team": "editor"}}})
    store = UserStore(hub.home_of("ann"))
    for name, role in HUB_ACCOUNTS.items():
        store.add(name, None, role, no_password=True)  # the Hub signs them in; the account gives the role
    store.set_disabled("erin", True)
    yield hub.start()
    hub.stop()


# -- a real browser ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        new_context = b.new_context

        def watched_context(**kwargs):
            context = new_context(**kwargs)
            watch_csp(context)
            return context

        b.new_context = watched_context  # every context a test opens, the `page` fixture's and its own
        yield b
        b.close()


# What the browser refused under the server's Content-Security-Policy, in the current test.
CSP_VIOLATIONS: list[str] = []
REPORT_CSP = """document.addEventListener("securitypolicyviolation", (e) => window.__mlappReportCSP(
  `${e.effectiveDirective} refused ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`));"""


def watch_csp(context) -> None:
    """Collect every CSP violation of the context's pages and frames (the DOM event, and Chromium's
    console message for what the event does not reach, such as workers)."""
    context.expose_binding(
        "__mlappReportCSP", lambda source, text: CSP_VIOLATIONS.append(f"{source['frame'].url}: {text}")
    )
    context.add_init_script(REPORT_CSP)
    context.on(
        "console",
        lambda msg: CSP_VIOLATIONS.append(f"console: {msg.text}") if "Content Security Policy" in msg.text else None,
    )


@pytest.fixture(autouse=True)
def no_csp_violations(request):
    """Every browser test also asserts that no page it opened broke the server's CSP."""
    CSP_VIOLATIONS.clear()
    yield
    if is_browser_test(request.node):
        assert not CSP_VIOLATIONS, "CSP violations:\n" + "\n".join(dict.fromkeys(CSP_VIOLATIONS))


def is_browser_test(item) -> bool:
    return "/browser/" in str(item.fspath)


def pytest_collection_modifyitems(items):
    """Browser tests last: the session's browser (and Playwright's event loop) then lives only
    while they run, and the fast tests report first."""
    items.sort(key=is_browser_test)
    for item in items:
        if is_browser_test(item):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def jp_asyncio_loop(request):
    """pytest-jupyter's loop, except in browser tests: there Playwright's sync API runs its own
    loop in this thread, which pytest-jupyter would try to close. Browser tests talk to real
    server processes and need no in-process loop."""
    if is_browser_test(request.node):
        yield None
        return
    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop(prefer_selector_loop=True)
    yield loop
    loop.close()


@pytest.fixture(autouse=True)
def jp_server_cleanup(request, jp_asyncio_loop):
    """pytest-jupyter's clean-up of the in-process server; browser tests have none to clean."""
    yield
    if jp_asyncio_loop is None:
        return
    from jupyter_server.serverapp import ServerApp

    app = ServerApp.instance()
    with contextlib.suppress(RuntimeError, SystemExit):
        jp_asyncio_loop.run_until_complete(app._cleanup())
    if hasattr(app, "kernel_manager"):
        app.kernel_manager.context.destroy()


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
