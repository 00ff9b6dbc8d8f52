"""The jobs Voila app: a user starts a job, sees it running in the live table, kills it, removes it."""

from __future__ import annotations

import re
import sys
import uuid

import pytest
from conftest import screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_job_table_shows_a_job_running_then_killed(mlapp_server, page):
    page.goto(f"{mlapp_server.url}/voila/render/notebooks/jobs.ipynb?token={mlapp_server.token}")
    launcher = page.locator(".mlapp-jobs-launcher")
    expect(launcher).to_be_visible(timeout=90_000)
    name = f"sleeper-{uuid.uuid4().hex[:6]}"
    launcher.get_by_role("textbox", name="Command").fill("sleep 300")
    launcher.get_by_role("textbox", name="Name").fill(name)
    launcher.get_by_role("button", name="Start job").click()

    row = page.locator(".mlapp-jobs-row", has_text=name)
    # The table refreshes on its own: the job shows as running, with its memory measured.
    expect(row.locator(".mlapp-state")).to_have_text("running", timeout=30_000)
    expect(row).to_contain_text(re.compile(r"\d+\.\d (KB|MB)"), timeout=15_000)
    screenshot(page, "jobs-running")

    row.get_by_role("button", name="Kill").click()
    expect(row.locator(".mlapp-state")).to_have_text("killed", timeout=30_000)
    expect(row).to_contain_text("SIGTERM")
    expect(row.get_by_role("button", name="Kill")).to_be_disabled()

    row.get_by_role("button", name="Log").click()
    expect(page.locator(".mlapp-jobs-log")).to_contain_text("ended by SIGTERM")
    screenshot(page, "jobs-killed")

    # A finished job can be removed, after a confirmation; its row goes.
    row.get_by_role("button", name="Remove").click()
    confirmation = page.locator(".mlapp-jobs-confirm")
    expect(confirmation).to_contain_text(f"Remove job {name} and its log?")
    confirmation.get_by_role("button", name="Yes, remove").click()
    expect(row).to_have_count(0, timeout=15_000)
    expect(page.locator(".mlapp-jobs .mlapp-jobs-message")).to_contain_text(f"Removed job {name}.")


HASH_ARGS = ["--MLAppIdentityProvider.hash_time_cost=1", "--MLAppIdentityProvider.hash_memory_kib=8192"]
VIEWER, VIEWER_PASSWORD = "vera", "vera viewer pw 1"


@pytest.fixture(scope="module")
def viewer_server(tmp_path_factory):
    """A server with one viewer account (the login page is the way in)."""
    from argon2 import PasswordHasher
    from harness import MLAppServer, make_root

    from jupyter_mlapp.auth.store import UserStore

    home = tmp_path_factory.mktemp("viewer-home")
    UserStore(home, hasher=PasswordHasher(time_cost=1, memory_cost=8192)).add(VIEWER, VIEWER_PASSWORD, "viewer")
    server = MLAppServer(home, make_root(tmp_path_factory.mktemp("viewer-root")), args=HASH_ARGS).start()
    yield server
    server.stop()


def sign_in_to(page, server, app: str):
    page.goto(f"{server.url}/login?next=/voila/render/notebooks/{app}")
    page.locator("#username").fill(VIEWER)
    page.locator("#password").fill(VIEWER_PASSWORD)
    page.locator("#password").press("Enter")


def test_a_viewer_types_a_command_and_nothing_runs(viewer_server, page, tmp_path):
    sign_in_to(page, viewer_server, "jobs.ipynb")
    launcher = page.locator(".mlapp-jobs-launcher")
    expect(launcher).to_contain_text("Starting commands is for editors: you are signed in as a viewer", timeout=120_000)
    command = launcher.get_by_role("textbox", name="Command")
    start = launcher.get_by_role("button", name="Start job")
    expect(command).to_be_disabled()
    expect(start).to_be_disabled()
    screenshot(page, "jobs-viewer-launcher")

    # A viewer who un-greys the form (the browser is theirs) and starts a command anyway.
    marker = tmp_path / "ran"
    page.evaluate("document.querySelectorAll('.mlapp-jobs-launcher [disabled]').forEach(e => e.disabled = false)")
    command.fill(f"touch {marker}")
    command.press("Tab")
    start.click()
    expect(launcher).to_contain_text("starting a command is for editors: you are signed in as a viewer")
    expect(page.locator(".mlapp-jobs-empty")).to_have_text("No jobs yet.")
    assert not marker.exists()
    screenshot(page, "jobs-viewer-refused")


def test_a_viewer_trains_from_the_flagship_template_without_saving_a_model(viewer_server, page):
    sign_in_to(page, viewer_server, "ml_app.ipynb?page=Train")
    content = page.locator(".mlapp-app-content")
    expect(content).to_contain_text("saving models is for editors", timeout=120_000)
    expect(page.get_by_role("textbox", name="Save as")).to_be_disabled()
    # The flagship embeds JupyterLab for editors; a viewer's menu has no such page.
    expect(page.locator(".mlapp-app-nav").get_by_role("button", name="Jupyter", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Start training").click()
    expect(page.locator(".mlapp-nav-current")).to_have_text("Monitor", timeout=30_000)
    monitor = page.locator(".mlapp-training-monitor")
    expect(monitor).to_contain_text("succeeded", timeout=120_000)
    expect(monitor).to_contain_text("val_accuracy")
    screenshot(page, "apps-viewer-trained")


def open_start_form(server, page):
    page.goto(f"{server.url}/lab?reset&token={server.token}")
    tab = page.locator(".jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']")
    expect(tab).to_be_visible(timeout=60_000)
    tab.click()
    jobs = page.locator("#jupyter-mlapp-panel [data-section='jobs']")
    jobs.get_by_role("button", name="Start a job").click()
    return jobs, jobs.get_by_role("form", name="Start a job")


def test_the_sidebar_start_form_names_the_job_and_runs_python_of_the_server(mlapp_server, page):
    """Two runs get their own titles; `python` from the form ("The server's own") has pandas."""
    jobs, form = open_start_form(mlapp_server, page)
    expect(form.get_by_role("combobox", name="Run on")).to_have_count(0)  # no Ray cluster: nothing to choose
    name = f"pandas-check-{uuid.uuid4().hex[:6]}"
    form.locator("input[name='command']").fill("python -c 'import pandas, sys; print(sys.executable)'")
    form.locator("input[name='name']").fill(name)
    form.get_by_role("button", name="Start").click()
    item = jobs.locator(".jp-MLApp-job", has_text=name)
    expect(item).to_have_attribute("data-state", "succeeded", timeout=60_000)
    expect(page.locator(".lm-TabBar-tab", has_text=name).first).to_be_visible()
    job = next(j for j in mlapp_server.api("GET", "jobs").json()["jobs"] if j["name"] == name)
    log = mlapp_server.api("GET", f"jobs/{job['id']}/log").json()["text"]
    assert job["argv"][0] == sys.executable and log.strip() == sys.executable  # the server's, not /usr/bin's


def server_on_ray(tmp_path_factory, address: str):
    """A server whose jobs may run on the Ray cluster at ``address`` (c.MLApp.ray_address)."""
    from harness import MLAppServer, make_root

    home, root = tmp_path_factory.mktemp("ray-home"), make_root(tmp_path_factory.mktemp("ray-root"))
    return MLAppServer(home, root, args=[f"--MLApp.ray_address={address}"]).start()


@pytest.fixture(scope="module")
def ray_server(ray_head, tmp_path_factory):
    server = server_on_ray(tmp_path_factory, ray_head.address)
    yield server
    server.stop()


def test_the_sidebar_start_form_says_when_the_ray_cluster_does_not_answer(tmp_path_factory, page):
    from harness import free_port

    address = f"http://127.0.0.1:{free_port()}"
    server = server_on_ray(tmp_path_factory, address)
    try:
        _, form = open_start_form(server, page)
        run_on = form.get_by_role("combobox", name="Run on")
        expect(run_on.locator("option[value='ray']")).to_have_text(f"Ray cluster ({address}): not answering")
        expect(form.get_by_role("status")).to_contain_text(f"the Ray cluster at {address}", timeout=60_000)
        run_on.select_option("ray")  # chosen anyway: the server's refusal is the form's alert
        form.locator("input[name='command']").fill("python -c pass")
        form.get_by_role("button", name="Start").click()
        expect(form.get_by_role("alert")).to_contain_text(f"the Ray cluster at {address} does not answer")
    finally:
        server.stop()


@pytest.mark.timeout(900)  # the Ray head takes seconds to start on a quiet machine, minutes on a loaded one
def test_the_sidebar_start_form_runs_a_job_on_ray_with_the_resources_asked(ray_server, ray_head, page):
    jobs, form = open_start_form(ray_server, page)
    run_on = form.get_by_role("combobox", name="Run on")
    expect(run_on).to_have_value("local")  # the server's default
    # The server asks the cluster in the background (its first probe imports Ray); the form asks again.
    expect(run_on.locator("option[value='ray']")).to_have_text(f"Ray cluster ({ray_head.address})", timeout=60_000)
    expect(form.get_by_role("spinbutton", name="CPUs")).to_have_count(0)  # asked of a cluster only

    run_on.select_option("ray")
    form.get_by_role("spinbutton", name="CPUs").fill("1")
    name = f"ray-hi-{uuid.uuid4().hex[:6]}"
    form.locator("input[name='command']").fill("python -c \"print('hi')\"")
    form.locator("input[name='name']").fill(name)
    screenshot(page, "sidebar-start-form-ray")
    form.get_by_role("button", name="Start").click()

    item = jobs.locator(".jp-MLApp-job", has_text=name)
    expect(item.locator(".jp-MLApp-backend")).to_have_text("on Ray (1 CPU)", timeout=30_000)
    expect(item).to_have_attribute("data-state", re.compile("succeeded|failed|killed|lost"), timeout=180_000)
    job = next(j for j in ray_server.api("GET", "jobs").json()["jobs"] if j["name"] == name)
    assert (job["state"], job["backend"], job["resources"]) == ("succeeded", "ray", {"cpus": 1}), job["reason"]
    expect(item).to_have_attribute("data-state", "succeeded")
    assert ray_server.api("GET", f"jobs/{job['id']}/log").json()["text"].endswith("hi\n")
