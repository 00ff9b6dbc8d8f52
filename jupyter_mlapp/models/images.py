"""Images in and out of the API: base64 strings, zips of images, boxes drawn on results."""

from __future__ import annotations

import base64
import binascii
import io
import stat
import warnings
import zipfile
from pathlib import PurePosixPath

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from ..errors import InvalidInput, TooLarge

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
MAX_PIXELS = 40_000_000  # per image and per request: a decompression bomb is refused before it is decoded
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_TOTAL = 200 * 1024 * 1024  # uncompressed bytes of all images of one zip
MAX_ZIP_RATIO = 200  # uncompressed / compressed, per entry: more is a zip bomb


def decode_base64(text, where: str) -> bytes:
    if not isinstance(text, str) or not text:
        raise InvalidInput(f"{where} must be a non-empty base64 string")
    if text.startswith("data:") and "," in text:  # a data: URL as browsers produce
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{where} is not valid base64 ({exc})") from exc


def open_image(data: bytes, where: str) -> Image.Image:
    """The image, its header read (no pixels decoded yet); one whose header claims more pixels than
    we take is ``TooLarge``, whatever Pillow's own limit says."""
    try:
        with warnings.catch_warnings():  # Pillow warns past its limit: we refuse past ours below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # past twice Pillow's limit (a 100000x100000 header)
        raise TooLarge(f"{where} claims more pixels than the {MAX_PIXELS:,} allowed ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInput(f"{where} is not an image in a format we read (PNG, JPEG, BMP, GIF, TIFF, WebP)") from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise TooLarge(f"{where} has {width}x{height} pixels, more than the {MAX_PIXELS:,} allowed")
    return image


def image_array(image: Image.Image, schema: dict, where: str) -> np.ndarray:
    """The image as the model reads it: the schema's mode, size and value range, as float32."""
    height, width = schema.get("height"), schema.get("width")
    if (height and image.height != height) or (width and image.width != width):
        raise InvalidInput(
            f"{where} is {image.width}x{image.height} pixels; this model takes {width or 'any'}x{height or 'any'}"
        )
    try:
        pixels = np.asarray(image.convert(schema["mode"]), dtype=np.float32)
    except (OSError, ValueError) as exc:  # truncated data shows up when the pixels are decoded
        raise InvalidInput(f"{where} is a damaged image ({exc})") from exc
    low, high = schema["value_range"]
    return low + pixels * ((high - low) / 255.0)


def encode_png(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def draw_result(image: Image.Image, result: dict) -> str:
    """The input image with its boxes (detections) or its top class (classifiers), as base64 PNG."""
    canvas = image.convert("RGB")
    if max(canvas.size) < 256:  # tiny inputs such as 8x8 digits: enlarge so a person can see them
        factor = max(1, 256 // max(canvas.size))
        canvas = canvas.resize((canvas.width * factor, canvas.height * factor), Image.NEAREST)
    else:
        factor = 1
    draw = ImageDraw.Draw(canvas)
    names, scores = result["class_name"], result["scores"]
    rois = result.get("rois [y_min, x_min, y_max, x_max]")
    if rois is not None:
        for (y0, x0, y1, x1), name, score in zip(rois, names, scores, strict=False):
            box = [x0 * factor, y0 * factor, x1 * factor - 1, y1 * factor - 1]
            draw.rectangle(box, outline=(255, 64, 64), width=2)
            draw.text((box[0] + 2, box[1] + 2), f"{name} {score:.2f}", fill=(255, 255, 0))
    elif names:
        draw.text((4, 4), f"{names[0]} {scores[0]:.2f}", fill=(255, 64, 64))
    return encode_png(canvas)


def zip_to_base64(data: bytes) -> tuple[list[str], list[str]]:
    """The images of a zip, in the zip's order, as base64 strings (and their names).

    Refused with a clear message: not a zip, an entry that would leave its folder (``..``, an
    absolute path, a symlink), a zip bomb (too many entries, too large, or too compressed).
    Other files (READMEs, ``__MACOSX`` metadata) are skipped.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise InvalidInput(f"the upload is not a zip file ({exc})") from exc
    if len(entries) > MAX_ZIP_ENTRIES:
        raise TooLarge(f"the zip has {len(entries)} entries, more than the {MAX_ZIP_ENTRIES} allowed")
    for entry in entries:
        path = PurePosixPath(entry.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or (entry.filename[1:2] == ":"):
            raise InvalidInput(f"zip entry {entry.filename!r} points outside the zip's folder")
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise InvalidInput(f"zip entry {entry.filename!r} is a symbolic link")
    images = [
        e
        for e in entries
        if not e.is_dir()
        and PurePosixPath(e.filename).suffix.lower() in IMAGE_SUFFIXES
        and not e.filename.startswith("__MACOSX/")
    ]
    total = sum(e.file_size for e in images)
    if total > MAX_ZIP_TOTAL:
        raise TooLarge(f"the zip's images unpack to {total:,} bytes, more than the {MAX_ZIP_TOTAL:,} allowed")
    encoded = []
    budget = MAX_ZIP_TOTAL
    for entry in images:
        if entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1) + 4096:
            raise TooLarge(
                f"zip entry {entry.filename!r} expands {entry.file_size // max(entry.compress_size, 1)}x: "
                "refused as a zip bomb"
            )
        try:
            with archive.open(entry) as fh:  # read no more than declared: the header may lie
                content = fh.read(min(entry.file_size, budget) + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, ValueError) as exc:
            raise InvalidInput(f"zip entry {entry.filename!r} cannot be read ({exc})") from exc
        if len(content) > entry.file_size or len(content) > budget:
            raise TooLarge(f"zip entry {entry.filename!r} unpacks to more than it declares: refused as a zip bomb")
        budget -= len(content)
        encoded.append(base64.b64encode(content).decode("ascii"))
    if not encoded:
        raise InvalidInput(f"the zip holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return encoded, [e.filename for e in images]
