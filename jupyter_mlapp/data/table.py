"""A windowed, sortable view of a DataFrame that never copies or changes the frame it shows.

A grid asks for a window of rows (the visible ones plus a margin); ``TableView`` answers with the
row positions of that window in the current order. Sorting computes a row order once per column
(an int64 array, 8 bytes per row) and serves both directions from it; every later window is a
``take`` of a few hundred positions.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidInput

# Sort orders kept at once (8 bytes per row each): re-sorting a recent column is then free.
SORT_CACHE = 3


@dataclass(frozen=True)
class Column:
    """One column as the grid shows it: a unique string label, its position and dtype."""

    label: str
    position: int
    dtype: str
    numeric: bool


def unique_labels(names, taken: set[str] | None = None) -> list[str]:
    """Column names as distinct strings (frames may have int, tuple or repeated names)."""
    taken = set(taken or ())
    labels = []
    for name in names:
        base = " / ".join(map(str, name)) if isinstance(name, tuple) else str(name)
        label, n = base, 2
        while label in taken:
            label, n = f"{base} ({n})", n + 1
        taken.add(label)
        labels.append(label)
    return labels


def is_numeric(dtype) -> bool:
    """Numbers a chart can plot (booleans are categories, not quantities)."""
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def as_frame(data) -> pd.DataFrame:
    """A DataFrame for ``data`` without copying its values (a Series becomes a one-column frame)."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame(name=data.name if data.name is not None else "value")
    raise InvalidInput(f"can only show a pandas DataFrame or Series, not {type(data).__name__}")


class TableView:
    """Rows of ``data`` in a chosen order, a window at a time.

    ``data`` is held by reference and only read: no column is added, renamed or reordered, the
    index is left alone and the values are never copied as a whole.
    """

    def __init__(self, data, name: str = ""):
        self.frame = as_frame(data)
        self.name = name
        self.index_labels = unique_labels(
            [
                n if n is not None else ("index" if self.frame.index.nlevels == 1 else f"level_{i}")
                for i, n in enumerate(self.frame.index.names)
            ]
        )
        labels = unique_labels(self.frame.columns, taken=set(self.index_labels))
        self.columns = [
            Column(label, i, str(dtype), is_numeric(dtype))
            for i, (label, dtype) in enumerate(zip(labels, self.frame.dtypes, strict=False))
        ]
        self._by_label = {c.label: c for c in self.columns}
        self._orders: OrderedDict[str, np.ndarray] = OrderedDict()
        self._valid: dict[str, int] = {}  # rows of the sorted column that are not missing
        # Per sorted column, keys NumPy orders as its sort did (for stable descending windows): a
        # NumPy column's own values, else each row's dense rank (see _tie_keys).
        self._keys: dict[str, np.ndarray] = {}
        self.sort_column: str | None = None
        self.ascending = True
        self.rows: np.ndarray | None = None  # a subset of rows (a filter), in frame order
        self._order: np.ndarray | None = None
        self._order_valid = len(self.frame)

    def __len__(self) -> int:
        return len(self.frame) if self.rows is None else len(self.rows)

    def column(self, label: str) -> Column:
        try:
            return self._by_label[label]
        except KeyError:
            raise InvalidInput(f"no column named {label!r}") from None

    def series(self, label: str) -> pd.Series:
        """One column of the frame (a view: pandas does not copy a column it hands out)."""
        return self.frame.iloc[:, self.column(label).position]

    # -- order -----------------------------------------------------------------------------
    def has_order(self, label: str) -> bool:
        """Whether sorting by ``label`` is instant (its order is cached)."""
        return label in self._orders

    def sort(self, label: str | None, ascending: bool = True) -> None:
        """Show rows ordered by ``label`` (missing values last), or in frame order for None."""
        if label is not None:
            self.column(label)
            if label not in self._orders:
                self._orders[label] = self._argsort(label)
            self._orders.move_to_end(label)
            while len(self._orders) > SORT_CACHE:
                dropped, _ = self._orders.popitem(last=False)
                self._valid.pop(dropped, None)
                self._keys.pop(dropped, None)
        self.sort_column, self.ascending = label, ascending
        self._arrange()

    def filter(self, rows: np.ndarray | None) -> None:
        """Show only ``rows`` (positions in the frame, ascending), or all rows for None."""
        self.rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        self._arrange()

    def _arrange(self) -> None:
        """The shown order (None: frame order) and how many of its rows are not missing."""
        if self.sort_column is None:
            self._order, self._order_valid = self.rows, len(self)
            return
        order, valid = self._orders[self.sort_column], self._valid[self.sort_column]
        if self.rows is not None:  # keep the sorted order of the rows the filter kept
            keep = np.zeros(len(self.frame), dtype=bool)
            keep[self.rows] = True
            valid = int(np.count_nonzero(keep[order[:valid]]))
            order = order[keep[order]]
        self._order, self._order_valid = order, valid

    def _argsort(self, label: str) -> np.ndarray:
        series = self.series(label)
        values = series.to_numpy() if isinstance(series.dtype, np.dtype) else None
        if (
            values is not None
            and values.dtype.kind in "fiumM"
            and values.dtype.itemsize <= 8
            and values.dtype != np.uint64
        ):
            order, valid = argsort_numbers(values)
        else:  # strings, categories, nullable and mixed columns: pandas knows how to order them
            try:
                order = series.array.argsort(kind="stable", na_position="last")
            except TypeError:  # mixed types that do not compare: order by their text
                series = series.astype(str)
                order = series.array.argsort(kind="stable")
                # ranked now, while the text is at hand
                self._keys[label] = _dense_ranks(series.array, np.asarray(order, dtype=np.int64), len(series))
            valid = len(series) - int(series.isna().sum())
        self._valid[label] = valid
        if values is not None and values.dtype.kind in "biufmM":
            self._keys[label] = values  # NumPy orders these as we did (NaN, NaT last): searchable
        return np.asarray(order, dtype=np.int64)

    def positions(self, start: int, stop: int) -> np.ndarray:
        """Frame row positions of the shown rows ``start`` to ``stop`` (exclusive)."""
        start, stop = max(0, start), min(len(self), stop)
        wanted = np.arange(start, max(start, stop), dtype=np.int64)
        if self._order is None:
            return wanted
        if self.sort_column is None or self.ascending:
            return self._order[wanted]
        # Descending reads the non-missing part of the ascending order backwards (missing values
        # stay last), then puts each run of equal values back in frame order, as a stable sort
        # would: the run's bounds come from a binary search of the column through the order.
        valid = self._order_valid
        rows = self._order[np.where(wanted < valid, valid - 1 - wanted, wanted)]
        keys = self._tie_keys(self.sort_column)
        if len(self._order) == len(keys):
            ranked = wanted < valid
            values = keys[rows[ranked]]
            low = np.searchsorted(keys, values, "left", sorter=self._order)
            high = np.searchsorted(keys, values, "right", sorter=self._order)
            rows[ranked] = self._order[low + wanted[ranked] - (valid - high)]
        return rows

    def _tie_keys(self, label: str) -> np.ndarray:
        """Keys that NumPy orders as the column's sort did, one per frame row: the values of a
        NumPy column, else each row's dense rank in the sorted order (made on the first
        descending window of that column: 4 bytes a row)."""
        keys = self._keys.get(label)
        if keys is None:
            order, valid = self._orders[label], self._valid[label]
            keys = self._keys[label] = _dense_ranks(self.series(label).array, order[:valid], len(order))
        return keys

    # -- windows ---------------------------------------------------------------------------
    def window(self, start: int, stop: int, col_start: int = 0, col_stop: int | None = None) -> dict:
        """The shown rows ``start:stop`` of columns ``col_start:col_stop``: the index values and
        each column's values, as small pandas objects (only these rows are materialised)."""
        rows = self.positions(start, stop)
        # In frame order a window is a slice: pandas answers it with views, not copies.
        picked = slice(start, start + len(rows)) if self.sort_column is None and self.rows is None else rows
        index = _index_at(self.frame.index, picked)
        columns = self.columns[col_start:col_stop]
        values = {c.label: self.frame.iloc[picked, c.position] for c in columns}
        if isinstance(self.frame.index, pd.MultiIndex):
            levels = {label: index.get_level_values(i) for i, label in enumerate(self.index_labels)}
        else:
            levels = {self.index_labels[0]: index}
        return {"rows": rows, "index": levels, "columns": values}


def _index_at(index: pd.Index, picked) -> pd.Index:
    """``index[picked]`` without materialising a RangeIndex: pandas < 3 answers an array of positions
    by building (and caching) the whole range as an int64 array, 8 bytes a row for as long as the frame lives."""
    if isinstance(index, pd.RangeIndex) and not isinstance(picked, slice):
        return pd.Index(index.start + index.step * np.asarray(picked, dtype=np.int64), name=index.name)
    return index[picked]


def _dense_ranks(values, order: np.ndarray, n: int) -> np.ndarray:
    """``ranks[row]``: how many distinct values come before the row's value in ``order`` (the
    sorted rows that are not missing); missing rows rank after all of them."""
    ordered = values.take(order)
    changes = np.ones(len(order), dtype=np.int32)
    if len(order) > 1:
        changes[1:] = np.asarray(ordered[1:] != ordered[:-1], dtype=bool)
    ranks = np.full(n, int(changes.sum()) + 1, dtype=np.int32)
    ranks[order] = np.cumsum(changes, dtype=np.int32)
    return ranks


def argsort_numbers(values: np.ndarray) -> tuple[np.ndarray, int]:
    """A stable ascending argsort of a numeric or datetime array with missing values last, and
    the count of non-missing values.

    NumPy's argsort is ~3x slower than its SIMD ``sort``, so this sorts one int64 per row that
    packs an order-preserving key (shifted left) with the row number (low bits), and reads the
    order from the low bits. Where the key had to be cut to make room (floats, very wide
    integer ranges), rows whose cut keys tie are put in exact order by a ``lexsort`` of just them.
    """
    n = len(values)
    bits = max(1, (n - 1).bit_length())
    kind = values.dtype.kind
    if kind == "f":
        as_float = values.astype(np.float64, copy=False)
        bits_of = as_float.view(np.int64)
        key = bits_of >> 63  # IEEE order as int order: flip all but the sign bit of negatives
        key &= np.int64(0x7FFFFFFFFFFFFFFF)
        key ^= bits_of
        key[key == -1] = 0  # -0.0 == 0.0
        missing = np.isnan(as_float)
        exact = as_float
    else:
        exact = values.view(np.int64) if kind in "mM" else values
        key = exact.astype(np.int64, copy=True)
        missing = key == np.iinfo(np.int64).min if kind in "mM" else None  # NaT
    valid = n
    if missing is not None and missing.any():
        valid = n - int(np.count_nonzero(missing))
        key[missing] = np.iinfo(np.int64).max
        if kind != "f" and valid:  # just above the largest value, to keep the range narrow
            key[missing] = int(key[~missing].max()) + 1
    low, high = (int(key.min()), int(key.max())) if n and kind != "f" else (0, 1 << 63)
    lossless = high - low < 1 << (63 - bits)
    row_bits = np.int64((1 << bits) - 1)
    if lossless:
        key -= low
        key <<= bits
    else:
        key &= ~row_bits  # keep the key's top bits in place: the row number goes below them
    for chunk in range(0, n, 1 << 20):  # row numbers a chunk at a time: no n-sized arange
        key[chunk : chunk + (1 << 20)] |= np.arange(chunk, min(n, chunk + (1 << 20)), dtype=np.int64)
    key.sort()
    prefix = key >> bits if not lossless else None
    order = key
    order &= row_bits
    if not lossless:
        if missing is not None and kind in "mM":  # NaT is the smallest int64: rank it last
            exact = np.where(missing, np.iinfo(np.int64).max, exact)
        _order_ties(order, prefix, exact)
    return order, valid


def _order_ties(order: np.ndarray, prefix: np.ndarray, exact: np.ndarray) -> None:
    """Put in exact order the runs of rows whose cut keys tied but whose values differ."""
    same = prefix[1:] == prefix[:-1]
    if not same.any():
        return
    in_tie = np.zeros(len(order), dtype=bool)
    in_tie[1:] |= same
    in_tie[:-1] |= same
    spots = np.flatnonzero(in_tie)
    runs = np.cumsum(np.r_[True, prefix[spots][1:] != prefix[spots][:-1]])
    values = exact[order[spots]]
    unsorted = (runs[1:] == runs[:-1]) & (values[1:] < values[:-1])  # NaN compares False: stays
    if not unsorted.any():
        return
    fix = np.isin(runs, runs[1:][unsorted])
    members = order[spots[fix]]
    order[spots[fix]] = members[np.lexsort((values[fix], runs[fix]))]
