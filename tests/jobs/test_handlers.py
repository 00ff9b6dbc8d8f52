"""REST API of jobs: a real server extension, real jobs, per-user isolation."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
from tornado.httpclient import HTTPClientError


async def wait_state(api, user, job_id, states=("succeeded", "failed", "killed", "lost"), timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        status, job = await api(user, "GET", "jobs", job_id)
        assert status == 200, job
        if job["state"] in states or time.monotonic() > deadline:
            return job
        await asyncio.sleep(0.05)


async def test_start_list_get_and_read_the_log(api):
    status, job = await api(
        "alice", "POST", "jobs", body={"command": ["sh", "-c", "echo hi; echo oops >&2"], "name": "echo"}
    )
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


async def test_others_cannot_see_read_or_kill_a_job_but_an_admin_can(api):
    status, job = await api("alice", "POST", "jobs", body={"command": ["sleep", "60"]})
    assert status == 201
    assert (await api("bob", "GET", "jobs"))[1] == {"jobs": []}
    for method, path in (("GET", ()), ("GET", ("log",)), ("POST", ("kill",))):
        status, answer = await api("bob", method, "jobs", job["id"], *path)
        assert status == 404 and answer["error"] == f"no job {job['id']}"
    status, answer = await api("bob", "POST", "jobs", "kill-all")
    assert (status, answer["killed"]) == (200, 0)
    status, listed = await api("root", "GET", "jobs")
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    status, result = await api("root", "POST", "jobs", job["id"], "kill")
    assert status == 200 and result["killed"] and result["job"]["user"] == "alice"
    assert (await wait_state(api, "alice", job["id"]))["state"] == "killed"


async def test_kill_and_kill_all(api):
    ids = [(await api("alice", "POST", "jobs", body={"command": ["sleep", "60"]}))[1]["id"] for _ in range(2)]
    for job_id in ids:  # started, so that the kill reaches the command (not just the record)
        await wait_state(api, "alice", job_id, states=("running",))
        while (await api("alice", "GET", "jobs", job_id))[1]["pid"] is None:  # noqa: ASYNC110 - polls the server
            await asyncio.sleep(0.02)
    status, result = await api("alice", "POST", "jobs", "kill-all")
    assert status == 200 and result["killed"] == 2
    for job_id in ids:
        job = await wait_state(api, "alice", job_id)
        assert job["state"] == "killed" and job["signal"] == "SIGTERM"
    status, again = await api("alice", "POST", "jobs", ids[0], "kill")
    assert status == 200 and not again["killed"] and "already ended (killed)" in again["message"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"command": []}, "the command is empty"),
        ({"name": "x"}, "'command' is required"),
        ({"command": ["true"], "user": "bob"}, "unknown field 'user'"),
        ({"command": ["definitely-not-a-command"]}, "not found on the PATH"),
        ({"command": ["true"], "cwd": ".."}, "outside the workspace"),
        ({"command": ["true"], "cwd": "missing"}, "does not exist"),
        ({"command": ["true"], "environment": "nope"}, "unknown environment 'nope'"),
        ({"command": 42}, "a command is a list of strings or a command line"),
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
async def test_bad_input_is_a_400_with_a_clear_message(api, body, message):
    status, answer = await api("alice", "POST", "jobs", body=body)
    assert status == 400 and message in answer["error"], answer
    assert set(answer) == {"message", "reason", "error", "detail"} and answer["message"] == answer["error"]
    assert (await api("alice", "GET", "jobs"))[1] == {"jobs": []}


async def test_bad_log_arguments_and_unknown_jobs(api):
    status, job = await api("alice", "POST", "jobs", body={"command": ["true"]})
    for params in ({"offset": "x"}, {"limit": "-1"}, {"tail": "1.5"}):
        status, answer = await api("alice", "GET", "jobs", job["id"], "log", **params)
        assert status == 400 and answer["error"], params
    assert (await api("alice", "GET", "jobs", "0123456789ab"))[0] == 404


async def test_envs_lists_the_servers_environment(api):
    status, answer = await api("alice", "GET", "envs")
    assert status == 200
    server = next(env for env in answer["environments"] if env["kind"] == "server")
    assert server["path"] == sys.prefix and server["python_version"] and server["has_ipykernel"]
    status, answer = await api("alice", "GET", "envs", refresh="1")
    assert status == 200 and answer["environments"]


async def test_delete_a_finished_job_but_not_a_running_or_unknown_one(api, mlapp_home):
    done = (await api("alice", "POST", "jobs", body={"command": ["echo", "bye"]}))[1]
    await wait_state(api, "alice", done["id"])
    status, sleeper = await api("alice", "POST", "jobs", body={"command": ["sleep", "60"]})
    await wait_state(api, "alice", sleeper["id"], states=("running",))

    status, answer = await api("alice", "DELETE", "jobs", sleeper["id"])
    assert status == 409 and answer["error"] == f"job {sleeper['name']} is running: kill it first", answer
    assert answer["detail"] == {"id": sleeper["id"], "state": "running"}
    status, answer = await api("bob", "DELETE", "jobs", done["id"])
    assert status == 404 and answer["error"] == f"no job {done['id']}"
    assert (await api("alice", "DELETE", "jobs", "0123456789ab"))[0] == 404

    assert await api("alice", "DELETE", "jobs", done["id"]) == (204, None)
    assert not (mlapp_home / "jobs" / done["id"]).exists()
    assert [j["id"] for j in (await api("alice", "GET", "jobs"))[1]["jobs"]] == [sleeper["id"]]
    assert (await api("alice", "DELETE", "jobs", done["id"]))[0] == 404
    assert (await api("alice", "GET", "jobs", sleeper["id"]))[1]["state"] == "running"
    await api("alice", "POST", "jobs", sleeper["id"], "kill")
    await wait_state(api, "alice", sleeper["id"])
    assert await api("root", "DELETE", "jobs", sleeper["id"]) == (204, None)  # an admin: anyone's


async def test_clear_finished_counts_what_it_removed(api):
    for user in ("alice", "alice", "bob"):
        job = (await api(user, "POST", "jobs", body={"command": ["true"]}))[1]
        await wait_state(api, user, job["id"])
    sleeper = (await api("alice", "POST", "jobs", body={"command": ["sleep", "60"]}))[1]
    for body, message in (
        ({"older_than": "old"}, "older_than is a number of seconds"),
        ({"older_than": -5}, "older_than is a number of seconds"),
        ({"before": 1}, "unknown field 'before'"),
        ("[]", "must be a JSON object"),
    ):
        status, answer = await api("alice", "POST", "jobs", "clear-finished", body=body)
        assert status == 400 and message in answer["error"], answer
    assert await api("alice", "POST", "jobs", "clear-finished", body={"older_than": 3600}) == (200, {"removed": 0})
    assert await api("alice", "POST", "jobs", "clear-finished") == (200, {"removed": 2})
    assert [j["id"] for j in (await api("alice", "GET", "jobs"))[1]["jobs"]] == [sleeper["id"]]
    assert len((await api("root", "GET", "jobs"))[1]["jobs"]) == 2  # bob's is his own
    assert await api("root", "POST", "jobs", "clear-finished", body={"older_than": 0}) == (200, {"removed": 1})
    await api("alice", "POST", "jobs", sleeper["id"], "kill")


async def test_removing_needs_authentication(jp_fetch):
    for method, path, body in (("DELETE", ("jobs", "0123456789ab"), None), ("POST", ("jobs", "clear-finished"), "{}")):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("mlapp", "api", *path, method=method, body=body, headers={"Authorization": ""})
        assert err.value.code in (401, 403)
