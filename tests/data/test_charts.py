"""The data viewer's chart: downsampled lines drawn again at full detail on zoom, every chart type, dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jupyter_mlapp.data import DataViewer
from jupyter_mlapp.data.downsample import MAX_POINTS


def test_line_chart_is_downsampled_and_zoom_redraws_at_full_detail(big):
    viewer = DataViewer(big)
    chart = viewer.chart
    assert chart.wait(120)  # a long frame is charted off the main thread
    assert len(chart.lines) == 6
    assert chart.note.value.endswith(" of 1,000,000 points per series (MinMaxLTTB)")  # no longer "Drawing…"
    for line in chart.lines:
        assert len(line.x) <= MAX_POINTS
    scale = chart.lines[0].scales["x"]
    with scale.hold_trait_notifications():
        scale.min, scale.max = 1000.0, 2000.0
    line = chart.lines[2]
    # 1,001 rows are visible (plus one on each side): all of them are drawn.
    assert line.x.tolist() == list(range(999, 2002))
    np.testing.assert_array_equal(line.y, big["f2"].to_numpy()[999:2002])
    chart._reset_zoom()
    assert len(chart.lines[0].x) <= MAX_POINTS and chart.lines[0].x[-1] == len(big) - 1


def test_a_long_frame_s_chart_is_made_with_the_panel_and_only_its_points_come_later(big):
    # A widget made once the cell has run can reach a page that is connecting before the widgets
    # it refers to: ipywidgets' manager then stalls 2 s per such widget, and drops it.
    from ipywidgets.widgets.widget import _instances

    viewer = DataViewer(big)
    chart = viewer.chart
    made = set(_instances)
    legend, figure = chart.figure_box.children
    assert "data-label='f5'" in legend.value and figure.marks == chart.lines and len(chart.lines) == 6
    assert chart.wait(120)
    assert set(_instances) == made  # the points arrived; not one widget more
    assert all(0 < len(line.x) <= MAX_POINTS for line in chart.lines)
    assert chart.note.value.endswith(" of 1,000,000 points per series (MinMaxLTTB)")


def test_every_chart_type_draws_and_text_only_data_says_so(tmp_path):
    viewer = DataViewer(root=tmp_path)
    viewer.load("Airq")
    assert len(viewer.chart.lines) == 5  # airq, vala, rain, dens, medi: coas is text
    for kind in viewer.chart.KINDS:
        viewer.chart.kind.value = kind
        assert type(viewer.chart.figure_box.children[-1]).__name__ == "Figure", kind  # (a legend above lines)
    text = pd.DataFrame({"word": ["a", "b", "a"]})
    viewer.show(text, "words")
    note = viewer.chart.figure_box.children[0].value
    assert "No numeric columns to plot" in note
    viewer.chart.kind.value = "bar"  # a bar chart counts the words
    assert type(viewer.chart.figure_box.children[0]).__name__ == "Figure"


def test_zooming_a_date_axis_in_the_browser_reaches_the_kernel():
    rows = 100_000
    frame = pd.DataFrame(
        {"v": np.arange(rows, dtype=float)}, index=pd.date_range("2024-01-01", periods=rows, freq="s", name="time")
    )
    chart = DataViewer(frame).chart
    assert chart.wait(120)
    assert len(chart.lines[0].x) <= MAX_POINTS
    # What the browser sends on a zoom: JavaScript's Date.toJSON.
    chart.lines[0].scales["x"].set_state({"min": "2024-01-01T01:10:00.000Z", "max": "2024-01-01T01:20:00.000Z"})
    x = chart.lines[0].x
    assert len(x) == 603 and x[1] == np.datetime64("2024-01-01T01:10:00")
    assert chart.note.value == "603 points per series"


def test_the_wheel_zooms_only_once_zoom_is_on_and_the_legend_is_beside_the_lines(tmp_path):
    viewer = DataViewer(pd.DataFrame({"a": range(50), "b": range(50, 100)}), root=tmp_path)
    chart = viewer.chart
    legend, figure = chart.figure_box.children
    assert figure.interaction is None  # the wheel over the chart scrolls the page
    assert "data-label='a'" in legend.value and "data-label='b'" in legend.value
    assert not any(line.display_legend for line in chart.lines)  # nothing drawn over the lines
    chart.zoom.value = True
    assert figure.interaction is not None and figure.interaction.scales["x"] == [chart.lines[0].scales["x"]]
    chart.zoom.value = False
    assert figure.interaction is None
    chart.kind.value = "histogram"
    assert chart.zoom.layout.display == "none"


def test_a_long_frame_shows_its_rows_before_its_chart_and_the_chart_the_user_picks_meanwhile(big):
    viewer = DataViewer(big)
    chart = viewer.chart
    # The grid answers at once, whether or not the chart is drawn yet.
    message, buffers = viewer.grid.window_message(0, 39, 0, 5)
    values = np.frombuffer(buffers[message["value"]["data"]["f1"]["value"]], dtype="float64")
    np.testing.assert_array_equal(values, big["f1"].to_numpy()[:80])
    chart.kind.value = "histogram"  # picked while the line chart may still be drawing
    assert chart.wait(120)
    (figure,) = chart.figure_box.children
    assert type(figure.marks[0]).__name__ == "Bars" and chart.lines == []
    assert chart.note.value == ""
