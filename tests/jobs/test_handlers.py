"""REST API of jobs: a real server extension, real jobs, per-user isolation."""
from __future__ import annotations

import asyncio
import time


async def wait_state(api, user, job_id, states=("succeeded", "failed", "killed", "lost"), timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        status, job = await api(user, "GET", "jobs", job_id)
        assert status == 200, job
        if job["state"] in states or time.monotonic() > deadline:
            return job
        await asyncio.sleep(0.05)


async def test_start_list_get_and_read_the_log(api):
    status, job = await api("alice", "POST", "jobs", body={"command": ["sh", "-c", "echo hi; echo oops >&2"], "name": "echo"})
    assert status == 201, job
    assert job["user"] == "alice" and job["name"] == "echo"
    done = await wait_state(api, "alice", job["id"])
    assert done["state"] == "succeeded" and done["exit_code"] == 0
    status, listed = await api("alice", "GET", "jobs")
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    status, log = await api("alice", "GET", "jobs", job["id"], "log")
    assert log["text"] == "hi\noops\n" and log["next_offset"] == log["size"] == 8
    status, log = await api("alice", "GET", "jobs", job["id"], "log", offset=3, limit=2)
    assert log["text"] == "oo" and log["next_offset"] == 5
    status, log = await api("alice", "GET", "jobs", job["id"], "log", tail=5)
    assert log["text"] == "oops\n"
