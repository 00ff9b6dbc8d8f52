"""Durations and sizes in the words the sidebar uses (``labextension/src/format.ts``): a job's
runtime reads the same in a notebook's job table, an app's training monitor and the sidebar."""

from __future__ import annotations

import math

UNKNOWN = "—"
SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")


def format_duration(seconds: float | None) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``, ``3 d 4 h``; ``—`` when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return UNKNOWN
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} min {s % 60:02d} s"
    h = m // 60
    if h < 48:
        return f"{h} h {m % 60:02d} min"
    return f"{h // 24} d {h % 24} h"


def format_size(size: float | None) -> str:
    """``512 B``, ``1.5 KB``, ``12 MB``, ``3.1 GB`` (powers of 1024, one decimal under 10); ``—`` when unknown."""
    if size is None or not math.isfinite(size) or size < 0:
        return UNKNOWN
    value, unit = float(size), 0
    while value >= 1024 and unit < len(SIZE_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:.{0 if unit == 0 or value >= 10 else 1}f} {SIZE_UNITS[unit]}"
