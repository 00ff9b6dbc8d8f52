"""The stylesheet of every panel and of the App shell (``widgets.css``), as the widget that puts it
on the page: one file on JupyterLab's CSS variables instead of a ``<style>`` block per panel."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets

CSS = Path(__file__).with_name("widgets.css").read_text()


def stylesheet() -> widgets.HTML:
    """A widget holding the stylesheet: first child of a panel (a page may hold it more than once:
    the same rules, applied once)."""
    return widgets.HTML(f"<style>{CSS}</style>")
