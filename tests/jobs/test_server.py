"""A real `jupyter mlapp`: jobs outlive it, and it offers each environment with ipykernel as a kernel."""

from __future__ import annotations

import sys
import time

import psutil
from harness import make_root

from .conftest import make_venv

PY = sys.executable


def poll(server, job_id, until, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        response = server.api("GET", f"jobs/{job_id}")
        assert response.status_code == 200, response.text
        job = response.json()
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_a_job_finishes_across_a_server_restart_and_its_exit_is_recorded(start_server, tmp_path):
    home = tmp_path / "home"
    flag = tmp_path / "go"
    server = start_server(home=home)
    script = (
        f"import os, time; print('started', flush=True)\n"
        f"while not os.path.exists({str(flag)!r}): time.sleep(0.05)\n"
        f"print('finished'); raise SystemExit(7)"
    )
    response = server.api("POST", "jobs", json={"command": [PY, "-c", script], "name": "outlives"})
    assert response.status_code == 201, response.text
    job = poll(server, response.json()["id"], lambda j: j["state"] == "running" and j["pid"])
    assert job["state"] == "running"

    server.stop()
    assert psutil.pid_exists(job["pid"])  # the job is not the server's child: it runs on
    stopped_at = time.time()
    flag.touch()  # it ends while no server runs; its supervisor records the exit
    deadline = time.monotonic() + 30
    while psutil.pid_exists(job["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)

    again = start_server(home=home, root=server.root)
    done = poll(again, job["id"], lambda j: j["state"] != "running")
    assert (done["state"], done["exit_code"]) == ("failed", 7)
    assert stopped_at <= done["ended_at"] <= time.time()
    log = again.api("GET", f"jobs/{job['id']}/log").json()
    assert log["text"] == "started\nfinished\n"


def test_the_server_offers_a_workspace_environment_as_a_kernel(start_server, tmp_path):
    root = make_root(tmp_path / "root")
    venv = make_venv(root / "churn" / ".venv", with_ipykernel=True)
    server = start_server(root=root)
    deadline = time.monotonic() + 60
    while True:  # discovery runs in the background: the kernel appears without blocking the server
        specs = server.session().get(f"{server.url}/api/kernelspecs", timeout=30).json()["kernelspecs"]
        if "mlapp-venv-churn" in specs or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    spec = specs["mlapp-venv-churn"]["spec"]
    assert spec["argv"][0] == str(venv / "bin" / "python") and spec["env"]["VIRTUAL_ENV"] == str(venv)
    response = server.session().post(f"{server.url}/api/kernels", json={"name": "mlapp-venv-churn"}, timeout=60)
    assert response.status_code == 201, response.text
    kernel = response.json()
    try:
        python = str(venv / "bin" / "python")
        assert any(
            p.info["cmdline"] and p.info["cmdline"][0] == python and "ipykernel_launcher" in p.info["cmdline"]
            for p in psutil.process_iter(["cmdline"])
        )
        envs = server.api("GET", "envs").json()["environments"]
        assert {"name": "churn", "kind": "venv", "kernel_name": "mlapp-venv-churn"}.items() <= next(
            e for e in envs if e["path"] == str(venv)
        ).items()
    finally:
        server.session().delete(f"{server.url}/api/kernels/{kernel['id']}", timeout=30)
