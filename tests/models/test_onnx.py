"""Models brought as ONNX, served by the real onnxruntime: scikit-learn models converted with
skl2onnx answer as the originals do, for rows and for images."""

from __future__ import annotations

import numpy as np
import pytest
from skl2onnx import to_onnx

from jupyter_mlapp.models.service import ModelService

from .conftest import DIGITS_IMAGE, digit_png


@pytest.fixture
def service(registry):
    svc = ModelService(registry)
    yield svc
    svc.close()


@pytest.mark.parametrize("zipmap", [True, False], ids=["class-probability-maps", "probability-array"])
def test_an_onnx_table_model_answers_as_the_original(registry, service, iris, zipmap):
    X, _y, clf = iris
    onnx = to_onnx(clf, X.to_numpy(np.float32)[:1], options={id(clf): {"zipmap": zipmap}}).SerializeToString()
    registry.save(onnx, "iris-onnx", format="onnx", classes=list(clf.classes_), X=X, user="alice")
    service.load_all()
    (listed,) = service.models("alice")
    assert listed["available"], listed
    rows = X.iloc[[0, 60, 120, 75]]
    answer = service.predict_now("alice", {"algorithm": "iris-onnx", "rows": rows.to_dict(orient="records")})
    results = [r[0]["results"] for r in answer["Responses"]]
    assert [r["class_name"][0] for r in results] == list(clf.predict(rows))
    assert [r["scores"][0] for r in results] == pytest.approx(clf.predict_proba(rows).max(axis=1), abs=1e-5)


def test_an_onnx_image_model_classifies_images(registry, service, digits):
    d, model = digits
    onnx = to_onnx(model, (d.data[:1] / 16).astype(np.float32)).SerializeToString()
    registry.save(
        onnx, "digits-onnx", format="onnx", image=DIGITS_IMAGE, user="alice", classes=[f"digit {i}" for i in range(10)]
    )
    service.load_all()
    indices = [0, 1, 2, 3, 17]
    answer = service.predict_now("alice", {"algorithm": "digits-onnx", "images": [digit_png(d, i) for i in indices]})
    predicted = [r[0]["results"]["class_name"][0] for r in answer["Responses"]]
    assert predicted == [f"digit {i}" for i in model.predict(d.data[indices] / 16)]


def test_bytes_that_are_no_onnx_graph_are_listed_unavailable_with_the_reason(registry, service):
    registry.save(
        b"\x08\x07 not a real graph",
        "net",
        format="onnx",
        classes=["cat", "dog"],
        input_schema={"type": "image", "height": 8, "width": 8},
        user="alice",
    )
    service.load_all()
    (listed,) = service.models("alice")
    assert listed["available"] is False
    assert listed["versions"][0]["reason"].startswith("the weights are not an ONNX model onnxruntime can load")
