"""The data viewer app in Voila: pick a data set, sort it, chart it, and scroll a million rows."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from harness import screenshot

pytestmark = pytest.mark.browser

MAX_WINDOW_BYTES = 20_000


def open_app(server, page, notebook: str) -> list[int]:
    """Open a Voila app; returns the sizes of the grid's data replies as they arrive."""
    replies: list[int] = []

    def on_frame(payload):
        data = payload if isinstance(payload, bytes) else payload.encode()
        if b"data-reply" in data:
            replies.append(len(data))

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    page.goto(f"{server.url}/voila/render/notebooks/{notebook}?token={server.token}")
    return replies


def test_pick_airq_sort_chart_and_a_bad_name(mlapp_server, page):
    replies = open_app(mlapp_server, page, "data_viewer.ipynb")
    search = page.locator(".mlapp-data-search input")
    expect(search).to_be_visible(timeout=60_000)
    search.fill("Airq")
    expect(page.locator(".mlapp-data-picker option")).to_have_count(2)  # Airq and airquality
    search.press("Enter")

    info = page.locator(".mlapp-data-info")
    expect(info).to_contain_text("Airq · 30 rows × 6 columns")
    expect(info).to_contain_text("showing rows 1–")
    legend = page.locator(".mlapp-data-chart .legendtext")
    expect(legend).to_have_count(5)
    assert legend.all_text_contents() == ["airq", "vala", "rain", "dens", "medi"]
    lines = page.locator(".mlapp-data-chart path.line:not(.g_legend path.line)")
    expect(lines).to_have_count(5)
    assert all(len(d or "") > 100 for d in lines.evaluate_all("ps => ps.map(p => p.getAttribute('d'))"))

    box = page.locator(".mlapp-data-viewer .datagrid-container").bounding_box()
    page.mouse.click(box["x"] + 80, box["y"] + 10)  # the "airq" header, left of its menu icon
    expect(info).to_contain_text("sorted by airq ascending")
    page.mouse.click(box["x"] + 80, box["y"] + 10)
    expect(info).to_contain_text("sorted by airq descending")
    screenshot(page, "data-viewer-airq-sorted")

    search.fill("airqualty")
    search.press("Enter")
    error = page.locator(".mlapp-data-error")
    expect(error).to_contain_text("no data set named 'airqualty'; did you mean airquality")
    expect(info).to_contain_text("Airq · 30 rows × 6 columns")  # the previous view stays
    assert replies and max(replies) <= MAX_WINDOW_BYTES


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
    screenshot(page, "data-viewer-million-rows-end")

    # Zooming into the chart redraws the visible range from the full data.
    note = page.locator(".mlapp-data-chart-note")
    expect(note).to_contain_text("of 1,000,000 points per series")
    chart = page.locator(".mlapp-data-chart svg").first.bounding_box()
    page.mouse.move(chart["x"] + chart["width"] / 2, chart["y"] + chart["height"] / 2)
    for _ in range(15):
        page.mouse.wheel(0, -400)
    expect(note).not_to_contain_text("1,000,000")
    # Only windows travel: every reply is a screen of rows (plus margin), never the frame.
    assert replies and max(replies) <= MAX_WINDOW_BYTES
