"""Jobs outlive the server: a real `jupyter mlapp` is stopped while a job runs and started again."""
from __future__ import annotations

import sys
import time

import psutil

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
    script = (f"import os, time; print('started', flush=True)\n"
              f"while not os.path.exists({str(flag)!r}): time.sleep(0.05)\n"
              f"print('finished'); raise SystemExit(7)")
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
