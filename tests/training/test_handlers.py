"""GET /mlapp/api/jobs/<id>/metrics and /log/download on a real server with a real training job."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from jobs.test_handlers import wait_state
from tornado.httpclient import HTTPClientError

from jupyter_mlapp.training.examples import train_sgd_command


async def follow_metrics(api, user, job_id, timeout=90):
    """Poll as the sidebar does: since=next with the carry, until the job ended and all is read."""
    series, calls, since, carry = {}, 0, 0, {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, answer = await api(
            user, "GET", "jobs", job_id, "metrics", since=since, **{k: v for k, v in carry.items() if v is not None}
        )
        assert status == 200, answer
        calls += 1
        for name, part in answer["series"].items():
            for key, values in part.items():
                if key != "family":
                    series.setdefault(name, {}).setdefault(key, []).extend(values)
        since, carry = answer["next"], answer["carry"]
        if answer["finished"] and not answer["more"] and answer["lines"] == 0:
            return series, calls, answer
        await asyncio.sleep(0.2)
    raise AssertionError("the job did not finish in time")


async def test_metrics_arrive_incrementally_while_the_job_runs(api, tmp_path):
    command = train_sgd_command(epochs=5, delay=0.3, fmt="keras")
    status, job = await api("alice", "POST", "jobs", body={"command": command, "name": "sgd"})
    assert status == 201, job
    series, calls, last = await follow_metrics(api, "alice", job["id"])
    assert calls > 1 and last["state"] == "succeeded"
    assert series["loss"]["epoch"] == [1, 2, 3, 4, 5]
    assert len(series["val_accuracy"]["value"]) == 5
    assert all(0 <= v <= 1 for v in series["val_accuracy"]["value"])
    assert last["next"] == last["size"] == Path(job["log_path"]).stat().st_size  # noqa: ASYNC240 - a test's check


async def test_metrics_say_how_far_a_keras_training_is_and_when_it_ends(api):
    command = train_sgd_command(epochs=6, delay=0.4, fmt="keras")
    status, job = await api("alice", "POST", "jobs", body={"command": command, "name": "sgd"})
    assert status == 201, job
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status, answer = await api("alice", "GET", "jobs", job["id"], "metrics", since=0)
        if answer["progress"]:
            seen.append((answer["state"], answer["progress"]))
        if answer["finished"]:
            break
        await asyncio.sleep(0.3)
    running = [p for state, p in seen if state == "running"]
    assert len({p["fraction"] for p in running}) > 1, seen  # it moved while the job ran
    assert all(p["label"].startswith("epoch ") and p["eta"] is not None and p["eta"] >= 0 for p in running)
    assert seen[-1] == ("succeeded", {"fraction": 1.0, "label": "epoch 6/6", "eta": None})


async def test_bad_offsets_are_400s(api):
    status, job = await api("alice", "POST", "jobs", body={"command": ["sh", "-c", "echo loss=1"]})
    for params in ({"since": "-1"}, {"since": "abc"}, {"step": "nan"}, {"epoch": "x"}):
        status, answer = await api("alice", "GET", "jobs", job["id"], "metrics", **params)
        assert status == 400 and answer["error"], (params, answer)


async def test_only_the_owner_or_an_admin_reads_a_jobs_metrics_and_log(api, jp_fetch):
    status, job = await api("alice", "POST", "jobs", body={"command": ["sh", "-c", "echo step=1 loss=0.5"]})
    done = await wait_state(api, "alice", job["id"], timeout=90)
    assert done["state"] == "succeeded", done
    status, answer = await api("bob", "GET", "jobs", job["id"], "metrics")
    assert status == 404 and "no job" in answer["error"]
    status, answer = await api("root", "GET", "jobs", job["id"], "metrics")
    assert status == 200 and answer["series"]["loss"]["value"] == [0.5]
    status, answer = await api("alice", "GET", "jobs", "0123456789ab", "metrics")
    assert status == 404

    response = await jp_fetch(
        "mlapp", "api", "jobs", job["id"], "log", "download", headers={"Authorization": "token alice-token"}
    )
    assert response.body == b"step=1 loss=0.5\n"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{job["id"]}.log"'
    for token in ("bob-token", ""):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch(
                "mlapp",
                "api",
                "jobs",
                job["id"],
                "log",
                "download",
                headers={"Authorization": f"token {token}" if token else ""},
            )
        assert err.value.code in (401, 403, 404)
