"""Metric series: every value parsed from a log, its x (step, epoch, log line), and the points to show.

The store keeps the whole history (a float per value and per x, in growing NumPy buffers); a
chart asks for at most ``max_points`` per line, downsampled so that the shape, the extremes and
the latest value are never hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..data.downsample import downsample as downsample_rows
from .parsers import Columns, MetricParser, make_parsers, parse_lines
from .tail import LogTail, MiB

_PREFIXES = (
    "validation_",
    "valid_",
    "val_",
    "training_",
    "train_",
    "test_",
    "eval_",
    "validation/",
    "valid/",
    "val/",
    "train/",
    "test/",
    "eval/",
)
_SUFFIXES = ("_validation", "_val", "_train", "_test", "/validation", "/val", "/train", "/test", "/eval")


def family(name: str) -> str:
    """The chart a metric goes on: ``val_loss`` and ``loss`` -> ``loss``; ``acc/val`` -> ``acc``."""
    lower = name.lower()
    for prefix in _PREFIXES:
        if lower.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    for suffix in _SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


class _Buffer:
    """A float64 array that grows by doubling (amortized O(1) append of whole arrays)."""

    __slots__ = ("data", "size")

    def __init__(self):
        self.data = np.empty(64)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.empty(max(end, 2 * len(self.data)))
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = values
        self.size = end

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class Series:
    """One metric: its values, and for each the step, epoch and log line it was logged at."""

    def __init__(self, name: str):
        self.name = name
        self.family = family(name)
        self._values, self._step, self._epoch, self._line = _Buffer(), _Buffer(), _Buffer(), _Buffer()
        self.version = 0  # bumped on every change, so a chart redraws only what changed

    def __len__(self) -> int:
        return self._values.size

    def extend(self, values, step, epoch, line) -> None:
        self._values.extend(values)
        self._step.extend(step)
        self._epoch.extend(epoch)
        self._line.extend(line)
        self.version += 1

    @property
    def values(self) -> np.ndarray:
        return self._values.view()

    def x(self, axis: str) -> np.ndarray:
        return {"step": self._step, "epoch": self._epoch, "line": self._line}[axis].view()

    def covers(self, axis: str) -> bool:
        """Every value has an x on this axis."""
        return axis == "line" or not np.isnan(self.x(axis)).any()

    @property
    def nonfinite(self) -> int:
        return int(len(self) - np.isfinite(self.values).sum())

    def last(self) -> float | None:
        return float(self.values[-1]) if len(self) else None

    def points(self, axis: str, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) to draw: finite values only, at most ``max_points`` (even, >= 4) of them."""
        x, y = self.x(axis), self.values
        keep = np.isfinite(y) & np.isfinite(x)
        if not keep.all():
            x, y = x[keep], y[keep]
        return downsample(x, y, max_points)


def downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of (x, y) that keep the line's shape, its extremes, its
    first and its last point (the data room's sampler; x may repeat or go back on a resumed run,
    so rows are taken as equidistant)."""
    n = len(y)
    if n <= max_points:
        return x, y
    index = downsample_rows(np.ascontiguousarray(y), n_out=max_points - 1)
    if index[-1] != n - 1:  # LTTB keeps the last point; the latest value must show whatever happens
        index = np.append(index, n - 1)
    return x[index], y[index]


class MetricStore:
    """Every series of one log, fed chunk by chunk of lines."""

    def __init__(self, parsers: Sequence[MetricParser]):
        self.parsers = list(parsers)
        self.series: dict[str, Series] = {}
        self.lines = 0  # log lines seen so far
        self.last_step = self.last_epoch = np.nan  # the x of the latest line, carried to the next ones

    def carry(self, step: float | None, epoch: float | None) -> None:
        """Start from the x a previous read ended with (lines without their own step or epoch)."""
        self.last_step = np.nan if step is None else float(step)
        self.last_epoch = np.nan if epoch is None else float(epoch)

    def clear(self) -> None:
        """The log restarted: forget its history (the parsers' state too)."""
        self.series.clear()
        self.lines = 0
        self.last_step = self.last_epoch = np.nan
        for parser in self.parsers:
            parser.reset()

    def add_lines(self, lines: Sequence[str]) -> list[str]:
        """Parse and store ``lines``; the names of the metrics seen for the first time."""
        return self.add_columns(parse_lines(lines, self.parsers), len(lines))

    def _carry(self, columns: Columns, key: str, n: int, last: float) -> np.ndarray:
        """Per line, the latest ``key`` (step or epoch) logged on it or before it, else NaN."""
        out = np.full(n, np.nan)
        if key in columns:
            rows, values = columns[key]
            out[rows] = values
        known = ~np.isnan(out)
        if known.all():
            return out
        source = np.where(known, np.arange(n), -1)
        np.maximum.accumulate(source, out=source)
        carried = np.where(source >= 0, out[np.maximum(source, 0)], last)
        return carried

    def add_columns(self, columns: Columns, n: int) -> list[str]:
        step = self._carry(columns, "step", n, self.last_step)
        epoch = self._carry(columns, "epoch", n, self.last_epoch)
        if n:
            self.last_step, self.last_epoch = step[-1], epoch[-1]
        new = []
        for name, (rows, values) in columns.items():
            if name in ("step", "epoch"):
                continue
            series = self.series.get(name)
            if series is None:
                series = self.series[name] = Series(name)
                new.append(name)
            series.extend(values, step[rows], epoch[rows], (rows + self.lines + 1).astype(np.float64))
        self.lines += n
        return new

    def families(self) -> dict[str, list[Series]]:
        """Series by chart, in the order they first appeared."""
        out: dict[str, list[Series]] = {}
        for series in self.series.values():
            out.setdefault(series.family, []).append(series)
        return out

    @staticmethod
    def axis(series: Iterable[Series]) -> str:
        """The x of a chart: step if every point has one, else epoch if every point has one, else line."""
        series = list(series)
        for axis in ("step", "epoch"):
            if series and all(s.covers(axis) for s in series):
                return axis
        return "line"


def _json_numbers(values: np.ndarray, nonfinite_as_text: bool) -> list:
    out = values.tolist()
    if np.isfinite(values).all():
        return out
    if not nonfinite_as_text:
        return [v if v == v else None for v in out]
    return [v if np.isfinite(v) else ("NaN" if v != v else "Infinity" if v > 0 else "-Infinity") for v in out]


def _json_number(value: float) -> float | None:
    return None if value != value else value


def read_metrics(
    path, since: int = 0, step: float | None = None, epoch: float | None = None, parsers=None, max_read: int = 4 * MiB
) -> dict:
    """The metrics of a log from byte ``since``, as JSON (for the REST API).

    At most ``max_read`` bytes are parsed: ``next`` is where to continue, ``more`` says more is
    waiting. ``step``/``epoch`` are the ``carry`` of the previous answer: the x of lines that do
    not log their own (e.g. a Keras progress line after an ``Epoch 3/10`` line of the previous read).
    """
    read = LogTail(path, offset=since, max_read=max_read).read()
    store = MetricStore(make_parsers(parsers))
    if not read.reset:
        store.carry(step, epoch)
    store.add_lines(read.lines)
    return {
        "since": since,
        "start": read.start,
        "next": read.end,
        "size": read.size,
        "more": read.more,
        "reset": read.reset,
        "missing": read.missing,
        "lines": len(read.lines),
        "notes": read.notes,
        "carry": {"step": _json_number(store.last_step), "epoch": _json_number(store.last_epoch)},
        "series": {
            name: {
                "family": s.family,
                "value": _json_numbers(s.values, True),
                "step": _json_numbers(s.x("step"), False),
                "epoch": _json_numbers(s.x("epoch"), False),
            }
            for name, s in store.series.items()
        },
    }
