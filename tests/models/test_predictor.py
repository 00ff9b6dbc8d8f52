"""Predictions: checked inputs, micro-batching, images and zips, models that fail to load."""

from __future__ import annotations

import asyncio
import base64
import io
import threading
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from jupyter_mlapp.errors import Forbidden, InvalidInput, TooLarge
from jupyter_mlapp.models.images import MAX_ZIP_ENTRIES, zip_to_base64
from jupyter_mlapp.models.predictor import ROIS, MicroBatcher, ModelService, ModelUnavailable, check_rows, csv_rows

from .conftest import IRIS_COLUMNS, blobs_png, digit_png, make_zip, png_base64

SCHEMA = {
    "type": "table",
    "columns": [
        {"name": "a", "type": "number"},
        {"name": "b", "type": "integer"},
        {"name": "c", "type": "string"},
        {"name": "d", "type": "boolean"},
    ],
}


@pytest.fixture
def service(saved):
    svc = ModelService(saved)
    svc.load_all()
    yield svc
    svc.close()


def test_rows_are_checked_column_by_column():
    assert check_rows([{"a": 1.5, "b": 2, "c": "x", "d": True}], SCHEMA) == [[1.5, 2, "x", True]]
    cases = [
        ([{"a": 1, "b": 2, "c": "x"}], "rows\\[0\\]: missing column\\(s\\) 'd'"),
        ([{"a": 1, "b": 2, "c": "x", "d": True, "e": 0}], "unknown column\\(s\\) 'e'"),
        ([{"a": "1", "b": 2, "c": "x", "d": True}], "rows\\[0\\]\\['a'\\] must be a number, not str"),
        ([{"a": True, "b": 2, "c": "x", "d": True}], "must be a number, not bool"),
        ([{"a": float("nan"), "b": 2, "c": "x", "d": True}], "finite"),
        ([{"a": 1, "b": 2.5, "c": "x", "d": True}], "whole number"),
        ([{"a": 1, "b": 2, "c": 3, "d": True}], "must be a string"),
        ([{"a": 1, "b": 2, "c": "x", "d": "yes"}], "true or false"),
        ([], "non-empty list"),
        ({"a": 1}, "non-empty list"),
        ([[1, 2, 3, 4]], "rows\\[0\\] must be a record"),
    ]
    for rows, message in cases:
        with pytest.raises(InvalidInput, match=message):
            check_rows(rows, SCHEMA)
    with pytest.raises(TooLarge):
        check_rows([{"a": 1, "b": 2, "c": "x", "d": True}] * 1001, SCHEMA)


def test_csv_rows_convert_by_column_type():
    assert csv_rows("a,b,c,d\n1.5,2,x,true\n", SCHEMA) == [{"a": 1.5, "b": 2, "c": "x", "d": True}]
    with pytest.raises(InvalidInput, match="CSV line 2, column 'a': 'abc' is not a number"):
        csv_rows("a,b,c,d\nabc,2,x,true\n", SCHEMA)
    with pytest.raises(InvalidInput, match="CSV line 2 has 2 values for 4 columns"):
        csv_rows("a,b,c,d\n1,2\n", SCHEMA)
    with pytest.raises(InvalidInput, match="empty"):
        csv_rows("", SCHEMA)


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

    saved.save(dummy, "iris", model_path="pydataset", X=X, user=current_user())
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
    name, model_path, config = service.effective_config("alice")
    assert (name, model_path, config["TOP_K"]) == ("iris", "pydataset", 3)
    with pytest.raises(InvalidInput, match="which model"):
        service.effective_config("bob")


# -- micro-batching ---------------------------------------------------------------------------
def test_concurrent_requests_share_model_calls():
    calls = []

    def model(inputs):
        calls.append(len(inputs))
        time.sleep(0.02)  # a heavy model: requests pile up meanwhile
        return [x * 2 for x in inputs]

    async def run():
        batcher = MicroBatcher(model, max_batch_size=16, max_wait=0.001)
        results = await asyncio.gather(*[batcher.submit([i]) for i in range(40)])
        return batcher, results

    batcher, results = asyncio.run(run())
    assert results == [[i * 2] for i in range(40)]
    assert max(calls) <= 16 and len(calls) <= 6  # 40 requests in few calls
    assert batcher.inputs == 40


def test_a_lone_request_does_not_wait():
    async def run():
        batcher = MicroBatcher(lambda xs: xs, max_batch_size=8, max_wait=0.5)
        start = time.perf_counter()
        await batcher.submit([1])
        await batcher.submit([2])
        return time.perf_counter() - start

    assert asyncio.run(run()) < 0.4


def test_concurrent_requests_to_a_fast_model_wait_no_longer_than_a_model_call():
    async def run():
        batcher = MicroBatcher(lambda xs: xs, max_batch_size=4, max_wait=0.5)
        start = time.perf_counter()
        # 12 at once: three batches of 4, concurrent load, yet the model answers in microseconds:
        # waiting the full 0.5 s for more before each batch would only add latency.
        results = await asyncio.gather(*[batcher.submit([i]) for i in range(12)])
        return time.perf_counter() - start, results, batcher.batches

    took, results, batches = asyncio.run(run())
    assert results == [[i] for i in range(12)] and batches >= 3
    assert took < 0.4


def test_one_bad_input_fails_only_its_own_request():
    def model(inputs):
        if "bad" in inputs:
            raise ValueError("bad input")
        return inputs

    async def run():
        batcher = MicroBatcher(model, max_batch_size=8, max_wait=0.01)
        return await asyncio.gather(
            batcher.submit(["a"]), batcher.submit(["bad"]), batcher.submit(["c"]), return_exceptions=True
        )

    a, bad, c = asyncio.run(run())
    assert a == ["a"] and c == ["c"] and isinstance(bad, ValueError)


def test_model_calls_run_off_the_event_loop():
    loop_thread = []

    def model(inputs):
        loop_thread.append(threading.current_thread() is threading.main_thread())
        return inputs

    async def run():
        await MicroBatcher(model).submit([1])

    asyncio.run(run())
    assert loop_thread == [False]


# -- zips ---------------------------------------------------------------------------------------
def test_zip_of_images_to_base64_in_order():
    pngs = [base64.b64decode(blobs_png()), base64.b64decode(png_base64(np.ones((8, 8))))]
    encoded, names = zip_to_base64(
        make_zip({"imgs/b.png": pngs[0], "imgs/a.png": pngs[1], "README.txt": b"hi", "__MACOSX/imgs/._a.png": b"junk"})
    )
    assert names == ["imgs/b.png", "imgs/a.png"]
    assert [base64.b64decode(e) for e in encoded] == pngs


@pytest.mark.parametrize(
    "entries, message",
    [
        ({"../escape.png": b"x"}, "points outside"),
        ({"/etc/passwd.png": b"x"}, "points outside"),
        ({"a/../../x.png": b"x"}, "points outside"),
        ({"C:\\evil.png": b"x"}, "points outside"),
        ({"notes.txt": b"x"}, "holds no images"),
    ],
)
def test_unsafe_or_empty_zips_are_refused(entries, message):
    with pytest.raises(InvalidInput, match=message):
        zip_to_base64(make_zip(entries))


def test_zip_bombs_and_non_zips_are_refused():
    with pytest.raises(TooLarge, match="zip bomb"):
        zip_to_base64(make_zip({"bomb.png": b"\0" * (20 << 20)}))
    with pytest.raises(TooLarge, match="entries"):
        zip_to_base64(make_zip({f"{i}.png": b"x" for i in range(MAX_ZIP_ENTRIES + 1)}, zipfile.ZIP_STORED))
    with pytest.raises(InvalidInput, match="not a zip"):
        zip_to_base64(b"PK\x03\x04 definitely not")


def test_symlink_entries_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("link.png")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(InvalidInput, match="symbolic link"):
        zip_to_base64(buffer.getvalue())


def test_iris_columns_are_the_pydataset_ones(saved):
    assert [c["name"] for c in saved.get("iris").latest.input_schema["columns"]] == IRIS_COLUMNS
