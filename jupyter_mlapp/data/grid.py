"""``WindowedGrid``: ipydatagrid's ``StreamingDataGrid`` with its kernel side replaced, so the
browser asks for the rows it shows and the windows come from a ``TableView``, which reads the
caller's frame without copying or changing it (sorts and filters too)."""

from __future__ import annotations

import contextlib
import json

import ipywidgets as widgets
import numpy as np
import pandas as pd
from bqplot.traits import array_to_json
from ipydatagrid import StreamingDataGrid, TextRenderer, VegaExpr
from traitlets import Tuple, Unicode, observe

from ..errors import MLAppError
from .table import TableView

UUID = "ipydguuid"  # the row id column ipydatagrid's schema expects (never sent: rows are positions)
# A screen never shows more than this: a larger request is cut, not answered with the frame.
MAX_WINDOW_ROWS, MAX_WINDOW_COLUMNS = 500, 100
MAX_UNIQUE_VALUES = 10_000  # the filter-by-value dialog lists at most this many values


def _table_type(dtype) -> str:
    """The Table Schema type ipydatagrid renders and filters by."""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


def column_json(values) -> tuple[dict, memoryview | None]:
    """One window column as ipydatagrid's front end reads it: a binary buffer for numbers, else
    plain JSON values (missing -> null, dates -> ISO text)."""
    array = values.to_numpy() if isinstance(values.dtype, np.dtype) else None
    if array is not None and array.dtype.kind in "iu" and array.dtype.itemsize == 8:
        # JS typed arrays have no 64-bit integers: int32 when the values fit, else float64.
        fits = not array.size or (array.min() >= np.iinfo(np.int32).min and array.max() <= np.iinfo(np.int32).max)
        array = array.astype(np.int32 if fits else np.float64)
    elif array is not None and array.dtype.kind == "f" and array.dtype.itemsize < 4:
        array = array.astype(np.float32)  # no Float16Array in every browser
    if array is not None and array.dtype.kind in "iuf":
        encoded = array_to_json(array)
        buffer, encoded["value"] = encoded["value"], None
        return encoded, buffer
    return {"type": "raw", "value": [_json_value(v) for v in values.astype(object)]}, None


def _json_value(value):
    if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, float) and np.isinf(value):  # JSON has no infinity: ipydatagrid's markers
        return "$Infinity$" if value > 0 else "$NegInfinity$"
    if isinstance(value, (int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


class WindowedGrid(StreamingDataGrid):
    """A ``StreamingDataGrid`` over a ``TableView``: windows, sorts and filters in the kernel,
    without copying or changing the frame (the parent resets its index, adds a column and keeps
    a sorted copy of the whole frame).

    Click a column header to sort it ascending, descending, then back to frame order.
    """

    # The rows (start, stop) the browser last asked for, and what the grid is busy with.
    shown_rows = Tuple((0, 0))
    busy = Unicode("")

    def __init__(self, view: TableView, row_margin: int | None = None, **kwargs):
        self.view = view
        self.row_margin = row_margin
        kwargs.setdefault("header_renderer", self._header_renderer(view))
        kwargs.setdefault("corner_renderer", TextRenderer(font="bold 12px sans-serif"))
        kwargs.setdefault("column_widths", self._column_widths(view))
        kwargs.setdefault("base_row_header_size", self._index_width(view))
        kwargs.setdefault("layout", widgets.Layout(height="360px"))
        # A window costs the kernel a few milliseconds, even of a 10M-row frame: ask sooner than the parent's 160 ms.
        kwargs.setdefault("debounce_delay", 20)
        super().__init__(view.frame, **kwargs)
        # A streamed click carries no primary_key_row (the browser holds no key column), which
        # the parent's handler requires: clicks are answered in _handle_comm_msg instead.
        self.on_msg(self._DataGrid__handle_custom_msg, remove=True)
        self.on_cell_click(self._sort_on_header_click)

    # -- the frame, never copied -----------------------------------------------------------
    @property
    def data(self):
        return self.view.frame

    @data.setter
    def data(self, _frame):  # the parent's constructor hands the frame over: describe the view
        view = self.view
        index_fields = [
            {"name": label, "type": _table_type(view.frame.index.get_level_values(i).dtype)}
            for i, label in enumerate(view.index_labels)
        ]
        body_fields = [{"name": c.label, "type": _table_type(view.frame.dtypes.iloc[c.position])} for c in view.columns]
        fields = [*index_fields, *body_fields, {"name": UUID, "type": "integer"}]
        schema = {"fields": fields, "primaryKey": [*view.index_labels, UUID], "primaryKeyUuid": UUID}
        self._index_fields = index_fields
        self._body_fields = body_fields
        self._row_count = len(view)
        # Empty key columns: the browser looks a clicked row's key up in them (and throws, so
        # sends no click, when they are missing); the rows themselves are windows.
        keys = {name: pd.Series([], dtype=object) for name in schema["primaryKey"]}
        self._data = {"data": keys, "schema": schema, "fields": [{f["name"]: None} for f in fields]}

    @staticmethod
    def _header_renderer(view: TableView) -> TextRenderer:
        # Each header reads "name  dtype" (ipydatagrid adds its sort arrow): a Vega expression
        # that looks the dtype up by column position.
        dtypes = json.dumps([f"  {c.dtype}" for c in view.columns])
        return TextRenderer(text_value=VegaExpr(f"cell.value + {dtypes}[cell.column]"), font="bold 12px sans-serif")

    @staticmethod
    def _column_widths(view: TableView) -> dict:
        return {c.label: int(min(260, max(70, 7.5 * (len(c.label) + len(c.dtype) + 2) + 16))) for c in view.columns}

    @staticmethod
    def _index_width(view: TableView) -> int:
        sample = len(str(view.frame.index[-1])) if len(view.frame) else 0  # e.g. a timestamp
        return int(min(220, max(64, 8 * max(sample, *(len(label) for label in view.index_labels)) + 16)))

    # -- windows ---------------------------------------------------------------------------
    def _handle_comm_msg(self, _, content, _buffers):
        kind = content.get("type", "")
        if kind == "data-request":
            try:
                r1, r2, c1, c2 = (int(content[key]) for key in ("r1", "r2", "c1", "c2"))
            except (KeyError, TypeError, ValueError):
                return  # not a request our front end sends
            self.send_window(r1, min(r2, r1 + MAX_WINDOW_ROWS - 1), c1, min(c2, c1 + MAX_WINDOW_COLUMNS - 1))
        elif kind == "unique-values-request":
            self._send_unique_values(content.get("column"))
        elif content.get("event_type") == "cell-click":
            self._on_click(content)

    def _on_click(self, content: dict) -> None:
        """Tell the ``on_cell_click`` callbacks about a click; for a row, ``primary_key_row`` is
        the frame's row position and ``cell_value`` the frame's value (the browser may hold only
        a placeholder)."""
        region, row, column = content.get("region"), content.get("row"), content.get("column")
        cell = {
            "region": region,
            "column": column,
            "column_index": content.get("column_index"),
            "row": row,
            "primary_key_row": row,  # a header's, as the parent reports it
            "cell_value": content.get("cell_value"),
        }
        if region in ("body", "row-header"):
            if not isinstance(row, int) or not 0 <= row < len(self.view):
                return
            window = self.view.window(row, row + 1)
            values = {**window["index"], **window["columns"]}.get(column)
            cell["primary_key_row"] = int(window["rows"][0])
            cell["cell_value"] = _json_value(next(iter(values[:1]))) if values is not None else None
        self._cell_click_handlers(cell)

    def window_message(self, r1: int, r2: int, c1: int, c2: int) -> tuple[dict, list]:
        """The reply to a request for rows ``r1..r2`` and columns ``c1..c2`` (inclusive), with a
        margin of rows around them so that short scrolls find their rows already there."""
        self.shown_rows = (max(0, r1), min(len(self.view), r2 + 1))
        margin = self.row_margin if self.row_margin is not None else r2 - r1 + 1
        r1, r2 = max(0, r1 - margin), min(len(self.view) - 1, r2 + margin)
        c1, c2 = max(0, c1), min(len(self.view.columns) - 1, c2)
        window = self.view.window(r1, r2 + 1, c1, c2 + 1)
        data, buffers = {}, []
        for label, values in [*window["index"].items(), *window["columns"].items()]:
            encoded, buffer = column_json(values)
            if buffer is not None:
                encoded["value"] = len(buffers)
                buffers.append(buffer)
            data[label] = encoded
        fields = [*self._index_fields, *self._body_fields[c1 : c2 + 1]]
        value = {"data": data, "schema": self._window_schema(fields), "fields": [{f["name"]: None} for f in fields]}
        return {"event_type": "data-reply", "value": value, "r1": r1, "r2": r2, "c1": c1, "c2": c2}, buffers

    def _window_schema(self, fields: list[dict]) -> dict:
        # The front end maps the primary key onto the fields it is sent: it must be there.
        return {"fields": fields, "primaryKey": [*self.view.index_labels, UUID], "primaryKeyUuid": UUID}

    def send_window(self, r1: int, r2: int, c1: int, c2: int) -> None:
        if r2 < r1 or len(self.view) == 0:
            return
        message, buffers = self.window_message(r1, r2, c1, c2)
        self.send(message, buffers)

    def _send_unique_values(self, label) -> None:
        try:
            series = self.view.series(label)
        except MLAppError:
            return
        unique = pd.Series(series.unique()[:MAX_UNIQUE_VALUES]).dropna()
        with contextlib.suppress(TypeError):  # mixed types: keep first-seen order
            unique = unique.sort_values()
        encoded, buffer = column_json(unique)
        if buffer is not None:
            encoded["value"] = 0
        value = {
            "data": {label: encoded},
            "schema": self._window_schema([self._field(label)]),
            "fields": [{label: None}],
        }
        self.send(
            {"event_type": "unique-values-reply", "column": label, "value": value},
            [buffer] if buffer is not None else [],
        )

    def _field(self, label: str) -> dict:
        return self._body_fields[self.view.column(label).position]

    # -- sort and filter -------------------------------------------------------------------
    def _sort_on_header_click(self, cell: dict) -> None:
        if cell.get("region") != "column-header" or cell.get("column") is None:
            return
        label = cell["column"]
        current = next((t for t in self._transforms if t.get("type") == "sort"), None)
        others = [t for t in self._transforms if t.get("type") != "sort"]
        if current is None or current.get("column") != label:
            sort = [{"type": "sort", "column": label, "desc": False}]
        elif not current.get("desc"):
            sort = [{"type": "sort", "column": label, "desc": True}]
        else:
            sort = []  # third click: back to frame order
        self._transforms = [*others, *sort]

    @observe("_transforms")
    def _on_transforms_changed(self, change):
        transforms = change["new"]
        filters = [t for t in transforms if t.get("type") == "filter"]
        sort = next((t for t in reversed(transforms) if t.get("type") == "sort"), None)
        try:
            if sort is not None and not self.view.has_order(sort["column"]):
                self.busy = f"Sorting {len(self.view):,} rows by {sort['column']}…"
            self.view.filter(self._filtered_rows(filters) if filters else None)
            self.view.sort(sort["column"] if sort else None, not sort.get("desc", False) if sort else True)
        finally:
            self.busy = ""
        self._row_count = len(self.view)
        self.tick()

    def _filtered_rows(self, filters: list[dict]) -> np.ndarray:
        """Row positions that pass every filter, using ipydatagrid's own operators on one column
        at a time (a frame that shares the column's values, indexed by row position)."""
        keep = None
        for transform in filters:
            series = self.view.series(transform["column"])
            column = pd.DataFrame({transform["column"]: series.array}, index=pd.RangeIndex(len(series)), copy=False)
            rows = self._apply_frontend_transforms([transform], column).index.to_numpy()
            keep = rows if keep is None else np.intersect1d(keep, rows, assume_unique=True)
        return keep
