"""Images that claim to be huge or do not fit the model: a clear 413 or 400 from /predict, never a 500."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import pytest

from .conftest import png_base64
from .test_handlers import api, jp_server_config  # noqa: F401 (the models API fixtures)


def header_only_png(width: int, height: int) -> str:
    """A valid PNG header claiming ``width`` x ``height`` grey pixels, with a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    )
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "algorithm, image, status_code, message",
    [
        ("digits", header_only_png(100_000, 100_000), 413, "images[0] claims more pixels than the 40,000,000 allowed"),
        ("blobs", header_only_png(100_000, 100_000), 413, "claims more pixels"),
        ("blobs", header_only_png(8_000, 6_000), 413, "images[0] has 8000x6000 pixels, more than the 40,000,000"),
        ("digits", png_base64(np.zeros((9, 9))), 400, "images[0] is 9x9 pixels; this model takes 8x8"),
        ("digits", png_base64(np.zeros((8, 9))), 400, "images[0] is 9x8 pixels; this model takes 8x8"),
        ("blobs", header_only_png(64, 64), 400, "images[0] is a damaged image"),
    ],
)
async def test_huge_or_misfit_images_are_a_4xx_through_predict(api, algorithm, image, status_code, message):  # noqa: F811
    status, answer = await api("predict", "POST", json_body={"algorithm": algorithm, "images": [image]})
    assert status == status_code and message in answer["error"], (status, answer)
