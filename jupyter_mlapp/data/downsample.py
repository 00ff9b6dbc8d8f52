"""Shape-preserving downsampling of long series for charts (tsdownsample).

A browser draws a few thousand points per line smoothly; a series of any length is reduced to
at most ``MAX_POINTS`` rows that keep its visual shape. MinMaxLTTB picks most of them (the
points that keep the line's area); LTTB may still drop a lone spike, so a quarter of the budget
goes to the minimum and maximum of equal buckets (MinMax): no bucket's extremes are ever lost.
"""

from __future__ import annotations

import numpy as np
from tsdownsample import MinMaxDownsampler, MinMaxLTTBDownsampler, NaNMinMaxDownsampler, NaNMinMaxLTTBDownsampler

MAX_POINTS = 4000
# (shape, extremes) samplers; the NaN-aware ones keep a NaN of each bucket so gaps stay visible.
_PLAIN = (MinMaxLTTBDownsampler(), MinMaxDownsampler())
_WITH_GAPS = (NaNMinMaxLTTBDownsampler(), NaNMinMaxDownsampler())


def downsample(
    y: np.ndarray, start: int = 0, stop: int | None = None, n_out: int = MAX_POINTS, x: np.ndarray | None = None
) -> np.ndarray:
    """Row positions (ascending, within ``start:stop``) of at most ``n_out`` points of ``y``
    that keep its shape. ``x``, when given, must be ascending; without it rows are equidistant."""
    stop = len(y) if stop is None else min(stop, len(y))
    start = max(0, min(start, stop))
    if stop - start <= n_out:
        return np.arange(start, stop, dtype=np.int64)
    part = y[start:stop]  # a view
    if part.dtype.kind not in "fiu" or part.dtype.itemsize > 8:
        part = part.astype(np.float64)
    extremes = max(2, (n_out // 4) & ~1)  # both samplers want even counts
    shape = max(4, (n_out - extremes) & ~1)
    gaps = part.dtype.kind == "f" and np.isnan(part.min())  # min is NaN iff any value is: no mask
    lttb, minmax = _WITH_GAPS if gaps else _PLAIN
    args = (part,) if x is None else (_as_numbers(x[start:stop]), part)
    # One thread: the passes are memory-bound, and on a shared machine worker threads mostly wait.
    picked = np.union1d(lttb.downsample(*args, n_out=shape), minmax.downsample(*args, n_out=extremes))
    return picked.astype(np.int64) + start


def _as_numbers(x: np.ndarray) -> np.ndarray:
    return x.view(np.int64) if x.dtype.kind in "mM" else x


def visible_rows(n: int, low, high, x: np.ndarray | None = None, x0: float = 0, dx: float = 1) -> tuple[int, int]:
    """The rows ``start:stop`` whose x lies in ``[low, high]``: x is ``x`` (ascending) or, without
    it, ``x0 + dx * row``. One more row on each side, so lines run off the edges."""
    if x is None:
        start = 0 if low is None else int(np.floor((low - x0) / dx))
        stop = n if high is None else int(np.ceil((high - x0) / dx)) + 1
    else:
        start = 0 if low is None else int(np.searchsorted(x, low, side="left"))
        stop = n if high is None else int(np.searchsorted(x, high, side="right"))
    start, stop = max(0, start - 1), min(n, stop + 1)
    return start, max(start, stop)
