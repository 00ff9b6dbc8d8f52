"""The server keeps the job history for ``c.MLApp.job_history_days``: older finished jobs go at
start (and hourly), with their logs; queued and running jobs stay whatever their age."""

from __future__ import annotations

import asyncio
import time

import pytest

from jupyter_mlapp.extension import MLApp
from jupyter_mlapp.jobs import JobManager

from .conftest import TokenUsers, keep_job_settings
from .test_job_manager import ended_days_ago, finished, running


@pytest.fixture
def history(mlapp_home, tmp_path):
    """Before the server starts: alice's and bob's jobs, some ended long ago, one running."""
    jobs = JobManager(home=mlapp_home, user="alice", grace=1.0, workspace=tmp_path)
    old, recent = finished(jobs, "old", "recent")
    ended_days_ago(jobs, old, 10)
    (bobs_old,) = finished(jobs.as_user("bob"), "bobs-old")
    ended_days_ago(jobs, bobs_old, 8)
    active = running(jobs)
    yield {"old": old, "recent": recent, "bobs_old": bobs_old, "active": active.id}
    jobs.kill(active.id)


@pytest.fixture
def jp_server_config(mlapp_home, monkeypatch, history):
    keep_job_settings(monkeypatch)
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_mlapp": True},
            "identity_provider_class": TokenUsers,
            "token": "unused-server-token",
        },
        "IdentityProvider": {"token": "unused-server-token"},
        "MLApp": {"home": str(mlapp_home), "job_history_days": 7},
    }


async def test_the_server_prunes_old_finished_jobs_at_start(api, history, mlapp_home):
    deadline = time.monotonic() + 15
    while True:
        listed = {j["id"]: j for j in (await api("root", "GET", "jobs"))[1]["jobs"]}
        if set(listed) == {history["recent"], history["active"]} or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert set(listed) == {history["recent"], history["active"]}
    assert listed[history["active"]]["state"] == "running"
    assert (
        not (mlapp_home / "jobs" / history["old"]).exists() and not (mlapp_home / "jobs" / history["bobs_old"]).exists()
    )
    assert (mlapp_home / "jobs" / history["recent"] / "output.log").read_text() == "recent\n"


def test_the_history_setting_reads_the_environment(monkeypatch):
    monkeypatch.setenv("MLAPP_JOB_HISTORY_DAYS", "30")
    assert MLApp().job_history_days == 30
    monkeypatch.delenv("MLAPP_JOB_HISTORY_DAYS")
    assert MLApp().job_history_days == 0
