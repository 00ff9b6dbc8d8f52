"""The launcher forks supervisors for the jobs of a home folder: faster starts, same behaviour."""

from __future__ import annotations

import os
import time

import psutil
import pytest

from jupyter_mlapp.jobs import JobManager, launcher, supervisor


def until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return value


@pytest.fixture
def jobs(mlapp_home, tmp_path):
    return JobManager(home=mlapp_home, user="alice", grace=1.0, workspace=tmp_path)


def test_jobs_after_the_first_are_forked_by_the_launcher_with_the_askers_environment(jobs, monkeypatch):
    first = jobs.start(["true"])
    assert jobs.wait(first.id, timeout=30).state == "succeeded"
    path = jobs.backend.local.launcher_path
    until(path.exists)  # the launcher listens
    monkeypatch.setenv("ASKED_WITH", "this value")
    job = jobs.start(["sh", "-c", 'echo "$ASKED_WITH"; sleep 30'])
    running = until(lambda: (j := jobs.get(job.id)).pid and j)
    supervisor_process = psutil.Process(running.supervisor_pid)
    assert supervisor_process.ppid() != os.getpid()  # detached: not our child
    assert os.getsid(running.supervisor_pid) not in (os.getsid(0), os.getsid(supervisor_process.ppid()))
    until(lambda: jobs.read_log(job.id).text == "this value\n")
    jobs.kill(job.id)
    assert jobs.wait(job.id, timeout=30).state == "killed"


def test_a_job_is_never_supervised_twice(jobs):
    job = jobs.start(["sh", "-c", "echo ran"])
    assert jobs.wait(job.id, timeout=30).state == "succeeded"
    # A second supervisor for the same job (a retried start) finds it taken and does nothing.
    jobs.store.update(job.id, only_if_state=("succeeded",), state="running")
    assert supervisor.main([str(jobs.store.path), job.id, "1"]) == 0
    assert jobs.read_log(job.id).text == "ran\n"


def test_only_our_user_reaches_the_launcher(jobs):
    jobs.wait(jobs.start(["true"]).id, timeout=30)
    path = until(lambda: (p := jobs.backend.local.launcher_path).exists() and p)
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700" and oct(path.stat().st_mode & 0o777) == "0o600"
    if os.geteuid() != 0:
        pytest.skip("needs root to try as another user")
    child = os.fork()
    if child == 0:  # as nobody: the socket's folder and the socket are closed to other users
        try:
            os.setgid(65534)
            os.setuid(65534)
            os._exit(3 if launcher.request(path, "db", "job", 1, timeout=5) else 0)
        finally:
            os._exit(4)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
