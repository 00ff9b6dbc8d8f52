"""Zips of images as the base64 list a prediction takes; unsafe zips refused."""

from __future__ import annotations

import base64
import io
import zipfile

import numpy as np
import pytest

from jupyter_mlapp.errors import InvalidInput, TooLarge
from jupyter_mlapp.models.images import MAX_ZIP_ENTRIES, zip_to_base64

from .conftest import blobs_png, make_zip, png_base64


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
