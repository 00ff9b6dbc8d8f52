"""``TrainingMonitor``: live charts of a training log, its raw tail, the job's state.

    from jupyter_mlapp.training import TrainingMonitor
    TrainingMonitor(job)            # a Job, a job id, or the path of any log file

It reads the log from its start (so it rebuilds the whole history of a job started from another
kernel or before a page reload), then follows it at the chosen refresh interval from a
background thread, so the charts move while the notebook runs other cells.
"""

from __future__ import annotations

import html
import math
import os
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import quote

import bqplot as bq
import ipywidgets as widgets
import numpy as np
from traitlets import Unicode

from ..data.charts import legend_html
from ..errors import InvalidInput, MLAppError
from ..files.urls import base_url, files_url
from ..formatting import format_duration, format_size
from .metrics import MetricStore, Series
from .parsers import FunctionParser, make_parsers
from .progress import parse_progress
from .tail import LogTail

INTERVALS = (("off", 0), ("1 s", 1), ("2 s", 2), ("5 s", 5), ("10 s", 10), ("30 s", 30))
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
STATE_COLORS = {
    "queued": "#888",
    "running": "#1f77b4",
    "succeeded": "#2ca02c",
    "failed": "#d62728",
    "killed": "#d62728",
    "lost": "#d62728",
}
CATCH_UP_BUDGET = 0.5  # seconds of reading per refresh before the charts are drawn again
JOB_POLL = 5.0


def _format(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


class TrainingMonitor(widgets.VBox):
    """Live metrics of a training job (a ``Job``, a job id) or of any log file (a path).

    ``job_state`` follows the job (``running``, ``succeeded``, ...): observe it to act when the
    training ends (it changes from the monitor's thread).

    ``parsers``: metric parsers tried in order (default ``default_parsers()``; regexes with named
    groups and functions ``line -> dict | None`` are accepted too). ``interval``: seconds between
    refreshes (0: off). ``max_points``: points drawn per line at most (history is downsampled,
    never cut). ``tail_lines``: raw log lines shown.
    """

    job_state = Unicode("", help="the state of the job watched ('' for a log file)")

    def __init__(
        self,
        source,
        parsers=None,
        interval: float = 1,
        max_points: int = 2000,
        tail_lines: int = 200,
        jobs=None,
        **kwargs,
    ):
        self._wake = threading.Event()
        self._stop = threading.Event()  # first: close() (called on garbage collection too) needs it
        if max_points < 10 or tail_lines < 1 or interval not in dict(INTERVALS).values():
            raise InvalidInput(
                f"interval is one of {', '.join(str(v) for _, v in INTERVALS)} seconds, "
                "max_points at least 10 and tail_lines at least 1"
            )
        super().__init__(**kwargs)
        self.add_class("mlapp-training-monitor")
        self.max_points = max_points
        self.store = MetricStore(make_parsers(parsers))
        self.job = None
        self._jobs = jobs
        self._tail: LogTail | None = None
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._log = deque(maxlen=tail_lines)
        self._notes: dict[str, str] = {}
        self._charts: dict[str, tuple[bq.Figure, dict[str, bq.Lines]]] = {}
        self._legends: dict[str, widgets.HTML] = {}
        self._drawn: dict[str, tuple[int, str]] = {}
        self.done = False  # the job has ended and its log is read to the end
        self._log_grew = False
        self._job_read = 0.0

        self.title = widgets.HTML(layout=widgets.Layout(flex="1 1 auto"))
        self.state = widgets.HTML().add_class("mlapp-training-state")
        self.interval = widgets.Dropdown(
            options=INTERVALS, value=interval, description="Refresh", layout=widgets.Layout(width="160px")
        )
        self.interval.style.description_width = "56px"
        self.refresh_button = widgets.Button(icon="refresh", tooltip="Refresh now", layout=widgets.Layout(width="40px"))
        self.download = widgets.HTML().add_class("mlapp-training-download")
        self.message = widgets.HTML().add_class("mlapp-training-message")
        self.notes = widgets.HTML().add_class("mlapp-training-notes")
        self.summary = widgets.HTML().add_class("mlapp-training-summary")
        self.charts = widgets.Box(layout=widgets.Layout(display="flex", flex_flow="row wrap"))
        self.charts.add_class("mlapp-training-charts")
        self.log_view = widgets.HTML().add_class("mlapp-training-log")
        # Shown once the log says where the training is (Epoch 3/10, a tqdm bar, step 30/100).
        self.progress = widgets.FloatProgress(value=0, min=0, max=1, layout=widgets.Layout(width="260px"))
        self.progress.add_class("mlapp-training-progress")
        self.progress_text = widgets.HTML().add_class("mlapp-training-progress-text")
        self.progress_row = widgets.HBox(
            [self.progress, self.progress_text], layout=widgets.Layout(align_items="center", display="none")
        )
        self._progress_start: tuple[float, float] | None = None  # (when, fraction) first seen, for a log file
        self.children = [
            widgets.HBox(
                [self.title, self.state, self.interval, self.refresh_button, self.download],
                layout=widgets.Layout(align_items="center"),
            ),
            self.progress_row,
            self.message,
            self.notes,
            self.summary,
            self.charts,
            widgets.HTML("<b>Log</b> (latest lines)"),
            self.log_view,
        ]
        self._show_summary()
        self.interval.observe(self._interval_changed, "value")
        self.refresh_button.on_click(lambda _: self.refresh())
        try:
            self._attach(source)
        except MLAppError as err:
            self._show_message(str(err))
            return
        self.refresh()
        self._start_polling()

    # -- what to watch -----------------------------------------------------------------------------
    def _job_manager(self):
        if self._jobs is None:
            from .. import jobs

            self._jobs = jobs.manager()
        return self._jobs

    def _attach(self, source) -> None:
        if hasattr(source, "log_path") and hasattr(source, "id"):
            self.job = self._job_manager().get(source.id)
        elif isinstance(source, os.PathLike) or (
            isinstance(source, str) and (os.sep in source or Path(source).is_file())
        ):
            path = Path(source).expanduser()
            self._tail = LogTail(path)
            self.title.value = f"<b>{html.escape(path.name)}</b>"
            self._download_link(files_url(path, download=True), path.name)  # a workspace file only
            return
        elif isinstance(source, str) and source:
            self.job = self._job_manager().get(source)
        else:
            raise MLAppError(f"cannot monitor {source!r}: give a job, a job id or the path of a log file")
        self._tail = LogTail(self.job.log_path)
        self.title.value = f"<b>{html.escape(self.job.name)}</b> <code>{self.job.id}</code>"
        base = base_url()
        self._download_link(base and f"{base}mlapp/api/jobs/{quote(self.job.id)}/log/download", f"{self.job.id}.log")

    def _download_link(self, href: str | None, filename: str) -> None:
        """A link to the server (behind its login); none outside a server (nothing to link to)."""
        self.download.value = (
            ""
            if not href
            else (
                f"<a class='jupyter-button mlapp-download' href='{html.escape(href)}' "
                f"download='{html.escape(filename)}' "
                # Font Awesome's icon: ipywidgets (and so Voila) ships the font; a Unicode arrow showed as a box.
                f"target='_blank' title='Download the whole log'><i class='fa fa-download'></i> Download log</a>"
            )
        )

    # -- polling -----------------------------------------------------------------------------------
    def _interval_changed(self, change) -> None:
        self._start_polling()
        self._wake.set()

    def _start_polling(self) -> None:
        if self._tail is None or self.done or not self.interval.value:
            return
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._poll, name="mlapp-training-monitor", daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            more = self.refresh()
            if self.done or not self.interval.value:
                return
            if not more:
                self._wake.wait(self.interval.value)
                self._wake.clear()

    def close(self) -> None:
        """Stop following the log (and close the widget)."""
        self._stop.set()
        self._wake.set()
        super().close()

    # -- one refresh -------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Read what the log gained and redraw; ``True`` while older history is still to read."""
        if self._tail is None:
            return False
        with self._lock:
            try:
                return self._refresh()
            except MLAppError as err:
                self._show_message(str(err))
            except Exception as exc:  # a monitor must outlive any surprise in a log or a parser
                self._show_message(f"refresh failed: {type(exc).__name__}: {exc}")
            return False

    def _refresh(self) -> bool:
        # A job whose log grew is still running: its state is read again once the log is quiet
        # (or every JOB_POLL seconds), which spares most reads of 20 busy jobs. State first: a
        # job seen ended before the read means the read got its last line.
        if self.job is not None and (not self._log_grew or time.monotonic() - self._job_read > JOB_POLL):
            self.job = self._job_manager().get(self.job.id)
            self._job_read = time.monotonic()
        started = time.monotonic()
        grew = False
        while True:
            read = self._tail.read()
            if read.missing:
                self._note("missing", html.escape(read.notes[0]))
                break
            self._notes.pop("missing", None)
            if read.reset:
                self.store.clear()
                self._log.clear()
                self._drawn.clear()
                self._notes.clear()
                self._progress_start = None
                grew = True
            for note in read.notes:
                self._note(note, html.escape(note))
            if read.lines:
                had_metrics = bool(self.store.series)  # a metric is news once others are plotted
                for name in self.store.add_lines(read.lines):
                    if had_metrics:
                        self._note(
                            f"new:{name}", f"new metric <b>{html.escape(name)}</b> from log line {self.store.lines}"
                        )
                self._log.extend(read.lines[-self._log.maxlen :])
                grew = True
            if not read.more or time.monotonic() - started > CATCH_UP_BUDGET:
                break
        if read.more:
            self._note(
                "history", f"reading the history: {read.end * 100 // max(read.size, 1)}% of {format_size(read.size)}"
            )
        else:
            self._notes.pop("history", None)
        if grew:
            self._draw()
            self._show_log()
        self._show_progress()
        self._note_parser_failures()
        self._show_state(read)
        self._show_notes()
        self._log_grew = grew
        self.done = bool(self.job is not None and self.job.finished and not read.more)
        return read.more

    # -- drawing -----------------------------------------------------------------------------------
    def _draw(self) -> None:
        for fam, members in self.store.families().items():
            axis = self.store.axis(members)
            figure, marks = self._charts.get(fam) or self._chart(fam)
            for series in members:
                mark = marks.get(series.name) or self._line(fam, series)
                if self._drawn.get(series.name) == (series.version, axis):
                    continue
                x, y = series.points(axis, self.max_points)
                with mark.hold_sync():
                    mark.x, mark.y = x, y
                    mark.marker = "circle" if len(y) <= 60 else None
                self._drawn[series.name] = (series.version, axis)
                bad = series.nonfinite
                if bad:
                    self._note(
                        f"nonfinite:{series.name}",
                        f"{html.escape(series.name)}: {bad} NaN/inf value{'s' if bad > 1 else ''} not plotted",
                    )
            figure.axes[0].label = axis
            self._integer_ticks(figure.axes[0], members, axis)
        # A restarted log may have dropped metrics: empty their lines rather than keep stale ones.
        for _family, (_, marks) in self._charts.items():
            for name, mark in marks.items():
                if name not in self.store.series and len(mark.y):
                    with mark.hold_sync():
                        mark.x, mark.y = [], []
        self._show_summary()

    @staticmethod
    def _integer_ticks(x_axis: bq.Axis, members: list[Series], axis: str) -> None:
        """Epochs, steps and lines are whole numbers: a short run gets a tick per number, never
        1.2, 1.4 (a long one gets the scale's own round ticks)."""
        xs = [series.x(axis) for series in members if len(series)]
        if not xs:
            return
        low, high = min(float(np.nanmin(x)) for x in xs), max(float(np.nanmax(x)) for x in xs)
        ticks = np.arange(math.floor(low), math.ceil(high) + 1) if high - low <= 12 else None
        if ticks is None or x_axis.tick_values is None or list(x_axis.tick_values) != list(ticks):
            x_axis.tick_values = ticks
        x_axis.tick_format = "d"

    def _chart(self, fam: str):
        x_scale, y_scale = bq.LinearScale(), bq.LinearScale()
        axes = [
            bq.Axis(scale=x_scale, label="step", grid_lines="dashed"),
            # No fixed format: the scale's own gives as many digits as its ticks need to differ
            # (".3g" showed 0.539, 0.539 on a narrow range).
            bq.Axis(scale=y_scale, side="left", grid_lines="dashed"),
        ]
        figure = bq.Figure(
            marks=[],
            axes=axes,
            title=fam,
            fig_margin={"top": 40, "bottom": 40, "left": 60, "right": 20},
            layout=widgets.Layout(width="460px", height="300px"),
        )
        legend = widgets.HTML()  # above the chart, never over its lines
        box = widgets.VBox([legend, figure]).add_class("mlapp-training-chart")
        self._charts[fam] = (figure, {})
        self._legends[fam] = legend
        self.charts.children = [*self.charts.children, box]
        return self._charts[fam]

    def _line(self, fam: str, series: Series) -> bq.Lines:
        figure, marks = self._charts[fam]
        x_scale, y_scale = figure.axes[0].scale, figure.axes[1].scale
        color = PALETTE[len(marks) % len(PALETTE)]
        mark = bq.Lines(
            x=[],
            y=[],
            scales={"x": x_scale, "y": y_scale},
            labels=[series.name],
            colors=[color],
            stroke_width=2,
            line_style="dashed" if series.name != fam else "solid",
        )
        marks[series.name] = mark
        figure.marks = [*figure.marks, mark]
        self._legends[fam].value = legend_html(
            [(m.labels[0], m.colors[0], m.line_style == "dashed") for m in figure.marks]
        )
        return mark

    def _show_summary(self) -> None:
        rows = []
        for _fam, members in self.store.families().items():
            for series in members:
                axis = self.store.axis(members)
                x = series.x(axis)
                at = f" at {axis} {x[-1]:g}" if len(x) and x[-1] == x[-1] else ""
                rows.append(
                    f"<span class='mlapp-metric' data-metric='{html.escape(series.name)}' data-points='{len(series)}'>"
                    f"<b>{html.escape(series.name)}</b> {_format(series.last())}{at} "
                    f"<small>({len(series)} points)</small></span>"
                )
        self.summary.value = (
            " &nbsp;·&nbsp; ".join(rows)
            if rows
            else (
                "<i>No metrics yet: waiting for lines such as <code>loss=0.41</code>, "
                '<code>{"loss": 0.41}</code> or Keras progress lines.</i>'
            )
        )

    def _show_log(self) -> None:
        text = html.escape("\n".join(self._log))
        self.log_view.value = (
            "<div style='height:220px;overflow:auto;display:flex;flex-direction:column-reverse;"
            "border:1px solid var(--jp-border-color2, #ddd);background:var(--jp-layout-color2, #fafafa)'>"
            "<pre style='flex:none;margin:4px 4px auto;font-size:12px;"
            "line-height:1.4;"
            "white-space:pre-wrap;word-break:break-all'>"
            f"{text}</pre></div>"
        )

    def _show_progress(self) -> None:
        progress = parse_progress(list(self._log))
        if progress is None:
            self.progress_row.layout.display = "none"
            return
        if self.job is not None:  # the pace since the job started; none once it ended
            progress = progress.with_eta(self.job.runtime if self.job.state == "running" else None)
        else:  # a log file: the pace since this monitor first saw it progress
            now = time.monotonic()
            if self._progress_start is None:
                self._progress_start = (now, progress.fraction)
            progress = progress.with_eta(now - self._progress_start[0], self._progress_start[1])
        left = f" · about {format_duration(progress.eta)} left" if progress.eta is not None else ""
        text = f"{html.escape(progress.label)} · {progress.fraction:.0%}{left}"
        if self.progress.value != progress.fraction:
            self.progress.value = progress.fraction
        if self.progress_text.value != text:
            self.progress_text.value = text
        self.progress_row.layout.display = None

    def _show_state(self, read) -> None:
        if self.job is not None:
            job = self.job
            color = STATE_COLORS.get(job.state, "#888")
            ended = ""
            if job.finished:
                ended = (
                    f" (exit {job.exit_code})"
                    if job.exit_code is not None
                    else (f" ({job.signal})" if job.signal else "")
                )
            runtime = format_duration(job.runtime) if job.runtime is not None else ""
            self.job_state = job.state
            self.state.value = (
                f"<span data-state='{job.state}' style='color:{color}'>&#9679; <b>{job.state}</b>{ended}</span>"
                f"{' · ' + runtime if runtime else ''} · {format_size(read.size)}"
            )
        else:
            self.state.value = "missing" if read.missing else f"{format_size(read.size)} · {self.store.lines} lines"

    # -- messages ----------------------------------------------------------------------------------
    def _note(self, key: str, text: str) -> None:
        self._notes.pop(key, None)
        self._notes[key] = text
        while len(self._notes) > 8:  # the latest notes matter; old ones go
            self._notes.pop(next(iter(self._notes)))

    def _note_parser_failures(self) -> None:
        for parser in self.store.parsers:
            if isinstance(parser, FunctionParser) and parser.failures:
                self._note(
                    f"parser:{parser.name}",
                    f"parser {html.escape(parser.name)} failed on {parser.failures} "
                    f"line(s): {html.escape(parser.last_error)}",
                )

    def _show_notes(self) -> None:
        warn = "color:var(--jp-warn-color0, #8a6d00)"
        self.notes.value = "".join(f"<div style='{warn}'>&#9888; {note}</div>" for note in self._notes.values())

    def _show_message(self, text: str) -> None:
        self.message.value = f"<div style='color:var(--jp-error-color1, #d62728)'>{html.escape(text)}</div>"

    # -- reading the data --------------------------------------------------------------------------
    def series(self, name: str) -> Series:
        """All the values of one metric so far (``.values``, ``.x("step")``)."""
        return self.store.series[name]
