"""Durations and sizes read as in the sidebar (the cases of labextension's format tests)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from jupyter_mlapp.formatting import format_duration, format_size

FORMAT_TS = Path(__file__).parents[1] / "labextension" / "src" / "format.ts"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (42.9, "42 s"),
        (59, "59 s"),
        (60, "1 min 00 s"),
        (185, "3 min 05 s"),
        (3599, "59 min 59 s"),
        (3600, "1 h 00 min"),
        (2 * 3600 + 7 * 60 + 59, "2 h 07 min"),
        (47 * 3600 + 59 * 60, "47 h 59 min"),
        (48 * 3600, "2 d 0 h"),
        (3 * 86400 + 4 * 3600 + 5, "3 d 4 h"),
        (None, "—"),
        (-1, "—"),
        (math.inf, "—"),
        (math.nan, "—"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (1536, "1.5 KB"),
        (12 * 1024**2, "12 MB"),
        (int(3.1 * 1024**3), "3.1 GB"),
        (5 * 1024**3, "5.0 GB"),
        (2048 * 1024**4, "2048 TB"),
        (None, "—"),
        (-1, "—"),
        (math.nan, "—"),
    ],
)
def test_format_size(size, text):
    assert format_size(size) == text


def test_the_sidebar_documents_the_same_words():
    """The examples in format.ts's comments are what these functions return."""
    source = FORMAT_TS.read_text()
    duration_doc = re.search(r"/\*\* (`42 s`.*?) \*/\s*export function formatDuration", source)
    size_doc = re.search(r"/\*\* (`512 B`.*?) \(powers", source)
    assert duration_doc and size_doc, "format.ts no longer documents formatDuration and formatBytes as expected"
    assert re.findall(r"`([^`]+)`", duration_doc.group(1)) == ["42 s", "3 min 05 s", "2 h 07 min", "—"]
    assert re.findall(r"`([^`]+)`", size_doc.group(1)) == ["512 B", "1.5 KB", "12 MB", "3.1 GB"]
    assert [format_duration(s) for s in (42, 185, 2 * 3600 + 7 * 60, None)] == ["42 s", "3 min 05 s", "2 h 07 min", "—"]
    assert [format_size(n) for n in (512, 1536, 12 * 1024**2, 3.1 * 1024**3)] == ["512 B", "1.5 KB", "12 MB", "3.1 GB"]
