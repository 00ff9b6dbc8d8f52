"""What the rooms' bqplot charts share: a legend beside the chart (never over its lines), and
pan and zoom that take the mouse wheel only once asked (else the wheel scrolls the page)."""

from __future__ import annotations

import html

import ipywidgets as widgets


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
