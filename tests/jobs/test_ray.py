"""Jobs on a real local Ray cluster: one head started for this module (`ray start --head
--num-cpus=1`, its own ports and folder: the ray_head fixture of tests/conftest.py), stopped after.

A Ray job lives in the same table as a local one: it starts, its log is read incrementally, it is
killed (also one that ignores SIGTERM), a failing one shows its exit code, it runs in a venv made
here, it is found again by a process that did not start it (the Jupyter server restarted), an
unreachable cluster is a clear message that leaves local jobs alone, and a cluster stopped
mid-job leaves the job lost with the reason.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from harness import free_port

pytest.importorskip("ray.job_submission", reason="Ray is not installed: pip install -e '.[ray]' to run these tests")

from jupyter_mlapp.jobs.backend import CLAIM_TIMEOUT
from jupyter_mlapp.jobs.dispatcher import JobBackends
from jupyter_mlapp.jobs.job_manager import JobManager
from jupyter_mlapp.jobs.ray_backend import LIST_FRESH, RayUnavailable

# Starting a head takes seconds on a quiet machine, minutes on a loaded one.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def jobs(ray_head, mlapp_home, tmp_path) -> JobManager:
    """A user's job manager whose jobs go to the module's Ray head when asked (backend="ray")."""
    manager = JobManager(home=mlapp_home, user="alice", role="editor", workspace=tmp_path, grace=2)
    manager.backend = JobBackends(manager.store, ray_address=ray_head.address)
    return manager


def wait_for(jobs: JobManager, job_id: str, states: tuple[str, ...], timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        if job.state in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} is {job.state}, not {states}; log: {jobs.read_log(job_id).text[-2000:]}")


def wait_for_log(jobs: JobManager, job_id: str, text: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    log = ""
    while time.monotonic() < deadline:
        log = jobs.read_log(job_id).text
        if text in log:
            return log
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in the log of {job_id}: {log[-2000:]!r}")


def test_a_ray_job_runs_beside_a_local_one_with_its_log_read_incrementally(jobs, tmp_path):
    (tmp_path / "train.py").write_text(
        textwrap.dedent("""
            import os, sys, time
            epochs = int(sys.stdin.readline())
            print("cwd", os.getcwd(), "seed", os.environ["SEED"], "user", os.environ["MLAPP_USER"], flush=True)
            for epoch in range(epochs):
                print(f"epoch={epoch} loss={1 / (epoch + 1):.3f}", flush=True)
                while not os.path.exists("go"):  # till the test has read the log once
                    time.sleep(0.1)
                time.sleep(0.5)
        """)
    )
    local = jobs.start(["python", "-c", "print('here')"], name="local")
    job = jobs.start("train.py", name="on ray", env={"SEED": "7"}, stdin="4\n", backend="ray", resources={"cpus": 1})
    assert job.backend == "ray" and job.resources == {"cpus": 1} and job.state == "running"
    assert [j.name for j in jobs.list()] == ["local", "on ray"]  # one table

    first = wait_for_log(jobs, job.id, "epoch=0")
    assert f"cwd {tmp_path} seed 7 user alice" in first
    chunk = jobs.read_log(job.id)
    (tmp_path / "go").touch()
    done = wait_for(jobs, job.id, ("succeeded", "failed"))
    assert done.state == "succeeded" and done.exit_code == 0 and done.started_at and done.runtime > 1.5
    rest = jobs.read_log(job.id, offset=chunk.next_offset)  # only what came after
    assert "epoch=3 loss=0.250" in rest.text and "cwd" not in rest.text
    assert jobs.read_log(job.id, tail=20).text.endswith("epoch=3 loss=0.250\n")
    assert wait_for(jobs, local.id, ("succeeded",)).backend is None


def test_a_failing_ray_job_shows_its_exit_code_and_reason(jobs):
    job = jobs.start(["python", "-c", "import sys; print('bad input'); sys.exit(3)"], backend="ray")
    done = wait_for(jobs, job.id, ("succeeded", "failed"))
    assert done.state == "failed" and done.exit_code == 3 and done.reason
    assert "bad input" in jobs.read_log(job.id).text


def test_a_ray_job_that_ignores_sigterm_is_killed(jobs):
    job = jobs.start(
        [
            "python",
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
            "time.sleep(600)",
        ],
        backend="ray",
    )
    wait_for_log(jobs, job.id, "ready")
    result = jobs.kill(job.id)
    assert result.killed
    killed = wait_for(jobs, job.id, ("killed", "failed", "succeeded"), timeout=60)
    assert killed.state == "killed"
    assert [r.job.state for r in jobs.kill_all()] == []  # nothing left to kill


def test_a_crowd_of_listings_asks_the_cluster_once_and_a_kill_shows_at_once(jobs, monkeypatch):
    """Every user's sidebar lists the jobs about every second; Ray's list holds every job the
    cluster ran. Listings within a second share one answer, and a kill is not hidden by it."""
    job = jobs.start(["python", "-c", "import time; print('up', flush=True); time.sleep(600)"], backend="ray")
    wait_for_log(jobs, job.id, "up")
    client = jobs.backend.ray.client()
    asked = []
    list_jobs = client.list_jobs
    monkeypatch.setattr(client, "list_jobs", lambda: asked.append(time.monotonic()) or list_jobs())
    time.sleep(LIST_FRESH)  # the list the wait above left is stale now
    viewers = [jobs.as_user("alice")] + [jobs.as_user(f"admin{i}", admin=True) for i in range(9)]
    with ThreadPoolExecutor(len(viewers)) as pool:  # as the server's handlers list: from threads
        listings = list(pool.map(lambda view: view.list(), viewers * 4))
    assert all([j.state for j in listing if j.id == job.id] == ["running"] for listing in listings)
    assert len(asked) == 1, f"{len(asked)} lists asked of the cluster for {len(listings)} listings"
    time.sleep(LIST_FRESH)
    assert jobs.get(job.id).state == "running" and len(asked) == 2  # a second later: asked again

    assert jobs.kill(job.id).killed
    assert len(asked) == 2  # the kill dropped the list: the next listing asks
    killed = wait_for(jobs, job.id, ("killed",), timeout=60)
    assert killed.state == "killed" and len(asked) >= 3


def test_a_running_jobs_log_is_followed_into_its_file_and_fetched_whole_only_at_its_end(
    jobs, ray_head, mlapp_home, monkeypatch
):
    """The training monitor reads the job's log file: a look at the job (what its poll does) is
    enough for the file to follow Ray's log, line by line, without fetching the log again and
    again; a second process following the same job (a kernel beside the server) adds nothing twice."""
    script = textwrap.dedent("""
        import time
        for i in range(30):
            print(f"epoch={i} loss={1 / (i + 1):.3f}", flush=True)
            time.sleep(0.2)
    """)
    job = jobs.start(["python", "-c", script], backend="ray")
    fetched = []
    client = jobs.backend.ray.client()
    get_job_logs = client.get_job_logs
    monkeypatch.setattr(client, "get_job_logs", lambda sid: fetched.append(sid) or get_job_logs(sid))
    kernel = JobManager(home=mlapp_home, user="alice", role="editor", workspace=jobs.workspace)
    kernel.backend = JobBackends(kernel.store, ray_address=ray_head.address)
    grew = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (view := jobs.get(job.id)).state == "running":
        kernel.get(job.id)
        text = Path(view.log_path).read_text()
        if "epoch=" in text:
            grew.append(text.count("epoch="))
        time.sleep(0.3)
    assert len(set(grew)) >= 3, f"the file grew in {len(set(grew))} steps while the job ran"
    assert fetched == [] or (len(fetched) == 1 and jobs.get(job.id).finished)  # whole, only as it ended
    done = wait_for(jobs, job.id, ("succeeded",))
    kernel.get(job.id)
    epochs = [line for line in Path(done.log_path).read_text().splitlines() if line.startswith("epoch=")]
    assert epochs == [f"epoch={i} loss={1 / (i + 1):.3f}" for i in range(30)]  # each once, in order


def test_a_ray_job_runs_in_a_venv_made_here(jobs, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    job = jobs.start(["python", "-c", "import sys; print('prefix', sys.prefix)"], environment=str(venv), backend="ray")
    assert wait_for(jobs, job.id, ("succeeded", "failed")).state == "succeeded"
    assert f"prefix {venv}" in jobs.read_log(job.id).text


def test_a_ray_job_finishes_across_a_restart_of_the_jupyter_server(start_server, tmp_path, ray_head):
    """The server's jobs go to Ray (c.MLApp.job_backend, c.MLApp.ray_address); the record keeps
    Ray's submission id, so a new server finds the job again."""
    home, flag = tmp_path / "home", tmp_path / "go"
    args = ["--MLApp.job_backend=ray", f"--MLApp.ray_address={ray_head.address}"]
    server = start_server(home=home, args=args)
    script = f"import os, time\nprint('started', flush=True)\nwhile not os.path.exists({str(flag)!r}): time.sleep(0.1)"
    response = server.api("POST", "jobs", json={"command": ["python", "-c", script + "\nprint('finished')"]})
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["backend"] == "ray"
    deadline = time.monotonic() + 120
    while "started" not in server.api("GET", f"jobs/{job['id']}/log").json()["text"]:
        assert time.monotonic() < deadline, server.api("GET", f"jobs/{job['id']}").json()
        time.sleep(0.3)

    server.stop()
    flag.touch()  # it ends while no server runs
    again = start_server(home=home, root=server.root, args=args)
    deadline = time.monotonic() + 120
    while (done := again.api("GET", f"jobs/{job['id']}").json())["state"] == "running":
        assert time.monotonic() < deadline, done
        time.sleep(0.3)
    assert (done["state"], done["exit_code"]) == ("succeeded", 0)
    log = again.api("GET", f"jobs/{job['id']}/log").json()["text"]  # Ray's driver log, its own lines first
    assert f"Running entrypoint for job mlapp-{job['id']}" in log and log.endswith("started\nfinished\n")
    unknown = again.api("POST", "jobs", json={"command": ["true"], "backend": "dask"})
    assert unknown.status_code == 400 and "unknown job backend 'dask'" in unknown.json()["message"]


def test_the_start_form_offers_the_cluster_and_its_resources(jobs):
    from jupyter_mlapp.jobs.widgets import JobLauncher, JobTable

    table = JobTable(manager=jobs, autorefresh=False)
    form = JobLauncher(manager=jobs, table=table)
    assert form.backend.layout.display is None and form.resources.layout.display == "none"
    form.backend.value = "ray"
    assert form.resources.layout.display is None
    form.command.value = "python -c \"print('from the form')\""
    form.cpus.value, form.memory_gb.value = 1, 0.25
    job = form.start()
    assert job is not None and job.backend == "ray", form.message.value
    assert job.resources == {"cpus": 1, "memory": 1 << 28}
    table.refresh()
    assert table._rows[job.id].cells[2].value == "(server) on Ray (1 CPU, 256 MB)"  # the environment column
    assert wait_for(jobs, job.id, ("succeeded", "failed")).state == "succeeded"


def test_an_unreachable_cluster_is_a_clear_message_and_local_jobs_run_on(mlapp_home, tmp_path):
    jobs = JobManager(home=mlapp_home, user="alice", role="editor", workspace=tmp_path)
    address = f"http://127.0.0.1:{free_port()}"
    jobs.backend = JobBackends(jobs.store, ray_address=address)
    with pytest.raises(RayUnavailable, match=f"the Ray cluster at {address} does not answer") as refused:
        jobs.start(["python", "-c", "print(1)"], backend="ray")
    assert refused.value.status == 503 and jobs.list() == []  # nothing recorded
    local = jobs.start(["python", "-c", "print('local')"])
    assert wait_for(jobs, local.id, ("succeeded",)).state == "succeeded"
    with pytest.raises(RayUnavailable, match="no Ray cluster is configured"):
        JobManager(home=mlapp_home, user="alice", workspace=tmp_path).start(["true"], backend="ray")

    from jupyter_mlapp.jobs.widgets import JobLauncher

    form = JobLauncher(manager=jobs)
    form.backend.value, form.command.value = "ray", "python -c pass"
    assert form.start() is None
    assert f"the Ray cluster at {address} does not answer" in form.message.value  # said in the form


def test_a_ray_job_being_submitted_is_not_lost_to_a_list_taken_meanwhile(jobs):
    """The sidebar lists the jobs every second: a list between the job's claim and its submission
    reaching the cluster lacks it, which is no reason to call it lost; after the claim timeout it is."""
    recorded = jobs.start(["python", "-c", "pass"], backend="ray")
    submitting = dataclasses.replace(recorded, id="f" * 12, state="running", claimed_at=time.time())
    jobs.store.insert(submitting)  # claimed, its submission not sent yet
    assert jobs.get(submitting.id).state == "running"
    jobs.store.update(submitting.id, claimed_at=time.time() - CLAIM_TIMEOUT - 1)
    lost = jobs.get(submitting.id)
    assert lost.state == "lost" and "no longer knows this job" in lost.reason


def test_a_cluster_stopped_mid_job_leaves_the_job_lost_with_the_reason(jobs, ray_head):
    """Last in this module: it stops the head."""
    job = jobs.start(["python", "-c", "import time; print('up', flush=True); time.sleep(600)"], backend="ray")
    wait_for_log(jobs, job.id, "up")
    ray_head.stop()
    lost = wait_for(jobs, job.id, ("lost",), timeout=60)
    assert f"the Ray cluster at {ray_head.address} does not answer" in lost.reason
    assert "up" in jobs.read_log(job.id).text  # what was copied stays readable
    shutil.rmtree(ray_head.folder, ignore_errors=True)
