"""Charts: ``ChartPanel``, the data viewer's chart of a frame's columns (lines, scatter, bars,
histograms, box plots; long series downsampled, and drawn again at full detail for the range a user
zooms to); and what the rooms' bqplot charts share: a legend beside the chart (never over its
lines), and pan and zoom that take the mouse wheel only once asked (else the wheel scrolls the page)."""

from __future__ import annotations

import functools
import html
import threading
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import pandas as pd
from bqplot import Axis, Bars, Boxplot, DateScale, Figure, LinearScale, Lines, OrdinalScale, Scatter
from bqplot.interacts import PanZoom
from bqplot.traits import Date, date_serialization

from ..errors import MLAppError
from .downsample import MAX_POINTS, downsample, visible_rows
from .table import TableView

BAR_CATEGORIES = 30
DRAWING = "Drawing…"
HISTOGRAM_BINS = 50
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def legend_html(items: list[tuple[str, str, bool]]) -> str:
    """A legend row for ``(label, color, dashed)`` items, drawn above a chart: bqplot's own is
    inside the plot area, over the lines."""
    dash = " stroke-dasharray='4 3'"
    entries = "".join(
        f"<span class='mlapp-legend-item' role='listitem' data-label='{html.escape(label)}' "
        "style='display:inline-flex;align-items:center;gap:4px;margin-right:12px'>"
        f"<svg width='18' height='8' aria-hidden='true'><line x1='0' y1='4' x2='18' y2='4' stroke='{color}' "
        f"stroke-width='2'{dash if dashed else ''}/></svg>{html.escape(label)}</span>"
        for label, color, dashed in items
    )
    return f"<div class='mlapp-chart-legend' role='list' style='font-size:12px;padding:2px 0 0 60px'>{entries}</div>"


class ZoomToggle(widgets.ToggleButton):
    """Pan and zoom ``figure`` with ``interaction`` while pressed; released, the mouse wheel
    over the chart scrolls the page as everywhere else."""

    def __init__(self, **kwargs):
        kwargs.setdefault("description", "Zoom")
        kwargs.setdefault("icon", "search-plus")
        kwargs.setdefault(
            "tooltip", "Drag and the mouse wheel pan and zoom the chart (off: the wheel scrolls the page)"
        )
        kwargs.setdefault("layout", widgets.Layout(width="90px"))
        super().__init__(value=False, **kwargs)
        self._figure = self._interaction = None
        self.observe(self._apply, "value")

    def attach(self, figure, interaction) -> None:
        """The chart to control (a new one each redraw), starting released."""
        self._figure, self._interaction = figure, interaction
        self._apply()

    def _apply(self, _change=None) -> None:
        if self._figure is not None:
            self._figure.interaction = self._interaction if self.value else None


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


def _one_at_a_time(method):
    """Run a ``ChartPanel`` draw holding its lock: the first draw may be in a thread while the
    user picks another chart."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._drawing:
            return method(self, *args, **kwargs)

    return locked


class ChartPanel(widgets.VBox):
    """A chart of a ``TableView``'s numeric columns: line (default), scatter, bar, histogram, box.

    Lines are downsampled to ``MAX_POINTS`` per series; zooming or panning re-downsamples the
    visible range from the full data. A frame of more rows than ``max_points`` is charted off the
    kernel's main thread: the panel says "Drawing…" until the chart is there (``wait`` waits for
    it), and neither the cell that made the panel nor the grid's first rows wait for it. Only the
    points are computed there: every widget of the chart is made with the panel, on the kernel's
    main thread (see ``__init__``).
    """

    KINDS = ("line", "scatter", "bar", "histogram", "box")

    def __init__(self, view: TableView, max_points: int = MAX_POINTS, **kwargs):
        self.view = view
        self.max_points = max_points
        self._drawing = threading.RLock()  # see _one_at_a_time
        self._drawn = threading.Event()
        self.x_axis = XAxis(None)  # the frame's own, found by the first draw (the index is read)
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
        if len(view.frame) > max_points:
            # A widget made in a thread can reach a page that is connecting to the kernel before
            # the widgets it refers to, made by the cell (ipywidgets' manager then stalls 2 s per
            # such widget, and every message behind it, and drops it: a 9 s blank page at times,
            # measured). A new value of a widget the page will load is safe at any moment, so the
            # thread only sets the lines' points.
            self._first_draw(points=False)
            self.note.value = DRAWING
            threading.Thread(target=self._draw_in_background, name="mlapp-chart", daemon=True).start()
        else:
            self._first_draw()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the first chart is drawn; False if ``timeout`` seconds passed first."""
        return self._drawn.wait(timeout)

    # -- drawing ---------------------------------------------------------------------------
    def _first_draw(self, points: bool = True) -> None:
        with self._drawing:
            self.x_axis = XAxis.of(self.view.frame)
            self._draw(points=points)
        if points:
            self._drawn.set()

    def _draw_in_background(self) -> None:
        try:
            with self._drawing:
                if self.lines:  # still the line chart the panel was made with (else redrawn already)
                    self.redraw_lines()
        except Exception as err:  # no caller to raise to: the panel says it
            self._show_message(f"Cannot draw this chart: {err}")
        finally:
            self._drawn.set()

    @_one_at_a_time
    def _draw(self, _change=None, *, points: bool = True) -> None:
        """Draw the chart the pickers ask for; a line chart's points only with ``points``."""
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
            if points:
                self.redraw_lines()
        else:
            self.figure_box.children = [figure]

    def _show_message(self, text: str) -> None:
        message = widgets.HTML(
            "<div class='mlapp-data-no-chart' style='padding:24px;color:var(--jp-ui-font-color2, #555)'>"
            f"{html.escape(text)}</div>"
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
        x_scale.observe(self._on_zoom, ["min", "max"])
        axes = [
            Axis(scale=x_scale, label=self.x_axis.label, grid_lines="none"),
            Axis(scale=y_scale, side="left", grid_lines="dashed"),
        ]
        # Pan and zoom along x only (once the Zoom button is on): y fits the lines of the
        # visible range as they are redrawn.
        self._panzoom = PanZoom(scales={"x": [x_scale]})
        return Figure(marks=self.lines, axes=axes, animation_duration=0)

    @_one_at_a_time
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

    @_one_at_a_time
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
