"""App kernels in Chromium: a closed tab frees its page's kernel within the grace period, a reload
swaps it for a fresh one, each viewer's page (from the warm pool) greets them by name, and at the
cap a page says the server is busy."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
import requests
from argon2 import PasswordHasher
from harness import MLAppServer, make_root, screenshot
from playwright.sync_api import expect

from jupyter_mlapp.auth.store import UserStore

pytestmark = pytest.mark.browser

HASHER = PasswordHasher(time_cost=1, memory_cost=8192)
GRACE = 3.0
HELLO = "/voila/render/notebooks/hello.ipynb"
VIEWERS = {"vera": "vera viewer pw 1", "walt": "walt viewer pw 1"}


@pytest.fixture(scope="module", autouse=True)
def patient_expectations():
    """Each step waits for a kernel: allow for a loaded machine."""
    expect.set_options(timeout=60_000)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the other modules


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    store = UserStore(home, hasher=HASHER)
    for name, password in VIEWERS.items():
        store.add(name, password, "viewer", display_name=name.title())
    server = MLAppServer(
        home,
        make_root(tmp_path_factory.mktemp("root")),
        args=[
            f"--MLAppIdentityProvider.hash_time_cost={HASHER.time_cost}",
            f"--MLAppIdentityProvider.hash_memory_kib={HASHER.memory_cost}",
            f"--MLApp.app_kernel_grace={GRACE}",
            "--MLApp.app_kernel_pool_size=1",
            "--MLApp.app_kernels_per_user=1",
        ],
    ).start()
    yield server
    server.stop()


def app_kernels(server) -> dict[str, dict]:
    return {k["id"]: k for k in server.api("GET", "appkernels").json()["kernels"]}


def running(server) -> set[str]:
    return {k["id"] for k in server.session().get(f"{server.url}/api/kernels", timeout=30).json()}


def wait_for(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


def open_hello(page, server, user):
    page.goto(f"{server.url}/login?next={quote(HELLO)}")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(VIEWERS[user])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".mlapp-hello")).to_have_text(f"Hello, {user}")
    expect(page.get_by_role("button", name="Click me")).to_be_visible()
    return re.search(r'"kernelId": "([0-9a-f-]+)"', page.content()).group(1)


def test_a_closed_tab_frees_its_kernel_and_a_reload_swaps_it(server, browser):
    context = browser.new_context()
    page = context.new_page()
    try:
        first = open_hello(page, server, "vera")
        page.get_by_role("button", name="Click me").click()  # the kernel serves the page
        expect(page.get_by_label("Clicks")).to_have_value("1")
        assert app_kernels(server)[first]["state"] == "open"

        page.reload()  # at her cap of one page: the leaving page's kernel makes room
        expect(page.locator(".mlapp-hello")).to_have_text("Hello, vera")
        second = re.search(r'"kernelId": "([0-9a-f-]+)"', page.content()).group(1)
        assert second != first
        assert wait_for(lambda: first not in running(server), GRACE + 15)

        page.close(run_before_unload=False)  # a tab closed (or crashed) without a word to the server
        closed = time.monotonic()
        assert wait_for(lambda: second not in running(server), GRACE + 15)
        assert time.monotonic() - closed < GRACE + 15
    finally:
        context.close()


def test_each_viewer_gets_a_warm_kernel_of_their_own(server, browser):
    seen = {}
    for user in VIEWERS:  # one after the other
        assert wait_for(lambda: any(k["state"] == "pooled" for k in app_kernels(server).values()), 120)
        pooled = next(k for k, v in app_kernels(server).items() if v["state"] == "pooled")
        context = browser.new_context()
        page = context.new_page()
        try:
            seen[user] = open_hello(page, server, user)
            assert seen[user] == pooled
            screenshot(page, f"app-kernels-pooled-{user}")
        finally:
            context.close()
    assert seen["vera"] != seen["walt"]


def test_at_the_cap_the_page_says_try_again(server, browser):
    context = browser.new_context()
    page, other = context.new_page(), context.new_page()
    try:
        open_hello(page, server, "walt")
        response = other.goto(f"{server.url}{HELLO}")  # a second tab, same viewer, cap of one
        assert response.status == 503 and response.headers["retry-after"] == "60"
        expect(other.locator(".mlapp-error-reason")).to_contain_text("The server is busy, try again in a minute.")
        screenshot(other, "app-kernels-busy")
    finally:
        context.close()
    assert requests.get(f"{server.url}/api", timeout=30).status_code == 200


def test_an_admin_sees_app_kernels_in_the_sidebar_and_stops_one(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    viewer, lab = context.new_page(), context.new_page()
    try:
        kernel_id = open_hello(viewer, server, "vera")
        lab.goto(f"{server.url}/lab?reset&token={server.token}")  # the server's owner: an admin
        tab = lab.locator(".jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']")
        expect(tab).to_be_visible()
        tab.click()
        listed = lab.locator("#jupyter-mlapp-panel [data-section='appkernels']")
        row = listed.locator(f"[data-kernel-id='{kernel_id}']")
        expect(row).to_contain_text("notebooks/hello.ipynb")
        expect(row).to_contain_text("vera · page open")
        expect(row.locator(".jp-MLApp-itemMeta")).to_contain_text("MB")
        expect(listed.locator(".jp-MLApp-appKernel")).not_to_have_count(0)
        row.scroll_into_view_if_needed()
        screenshot(lab, "app-kernels-sidebar")
        row.get_by_role("button", name=f"Stop app kernel {kernel_id}").click()
        lab.locator(".jp-Dialog").get_by_role("button", name="Stop").click()
        expect(row).to_have_count(0)
        assert kernel_id not in running(server)
    finally:
        context.close()
