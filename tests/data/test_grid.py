"""The data grid in the kernel: the windows, sorts and filters the browser asks for, what travels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jupyter_mlapp.data import DataViewer
from jupyter_mlapp.data.grid import WindowedGrid


def wire_bytes(message: dict, buffers: list) -> int:
    import json

    return len(json.dumps(message, default=str)) + sum(memoryview(b).nbytes for b in buffers)


def test_a_window_is_the_visible_rows_plus_a_margin_and_small(big):
    grid = WindowedGrid(DataViewer(big).view)
    message, buffers = grid.window_message(500_000, 500_039, 0, 5)
    assert (message["r1"], message["r2"]) == (499_960, 500_079)  # one screen above and below
    data = message["value"]["data"]
    assert set(data) == {"index", "f0", "f1", "f2", "f3", "f4", "f5"}
    values = np.frombuffer(buffers[data["f3"]["value"]], dtype=data["f3"]["dtype"])
    np.testing.assert_array_equal(values, big["f3"].to_numpy()[499_960:500_080])
    assert wire_bytes(message, buffers) <= 20_000
    assert grid.shown_rows == (500_000, 500_040)
    last, _ = grid.window_message(999_980, 1_000_019, 0, 5)
    assert last["r2"] == 999_999  # clipped at the end


def test_header_clicks_sort_ascending_descending_then_back():
    frame = pd.DataFrame({"v": [2.0, np.nan, 3.0, 1.0], "s": ["b", "a", "d", "c"]})
    viewer = DataViewer(frame)
    grid = viewer.grid

    def click(column):
        grid._sort_on_header_click({"region": "column-header", "column": column})
        message, _buffers = grid.window_message(0, 3, 0, 1)
        raw = message["value"]["data"]["s"]["value"]
        return raw

    assert click("v") == ["c", "b", "d", "a"]
    assert "sorted by v ascending" in viewer.info.value
    assert click("v") == ["d", "b", "c", "a"]  # missing value stays last
    assert "sorted by v descending" in viewer.info.value
    assert click("v") == ["b", "a", "d", "c"]
    assert "sorted by" not in viewer.info.value
    assert click("s") == ["a", "b", "c", "d"]
    grid._sort_on_header_click({"region": "body", "column": "v"})  # a body click is not a sort
    assert grid.view.sort_column == "s"


def test_front_end_filters_use_row_positions():
    frame = pd.DataFrame({"v": [5, 1, 7, 3]}, index=list("wxyz"))
    viewer = DataViewer(frame)
    viewer.grid._transforms = [
        {"type": "filter", "column": "v", "operator": ">", "value": 2},
        {"type": "sort", "column": "v", "desc": True},
    ]
    message, _ = viewer.grid.window_message(0, 2, 0, 0)
    assert message["value"]["data"]["index"]["value"] == ["y", "w", "z"]
    assert viewer.grid._row_count == 3


def test_viewing_and_sorting_never_change_the_frame(big):
    frame = big.iloc[:50_000]
    before = frame.copy(deep=True)
    values = frame["f0"].to_numpy()
    viewer = DataViewer(frame)
    grid = viewer.grid
    for column in ("f0", "f1", "f0"):
        grid._sort_on_header_click({"region": "column-header", "column": column})
        grid.window_message(0, 40, 0, 5)
    for kind in viewer.chart.KINDS:
        viewer.chart.kind.value = kind
    assert viewer.view.frame is frame and grid.data is frame
    assert np.shares_memory(frame["f0"].to_numpy(), values)
    pd.testing.assert_frame_equal(frame, before)
    assert list(frame.columns) == [f"f{i}" for i in range(6)]


def test_filter_dialog_gets_the_unique_values_of_a_column():
    viewer = DataViewer(pd.DataFrame({"s": ["b", "a", None, "b"]}))
    sent = []
    viewer.grid.send = lambda content, buffers=None: sent.append(content)
    viewer.grid._handle_comm_msg(None, {"type": "unique-values-request", "column": "s"}, [])
    assert sent[0]["event_type"] == "unique-values-reply"
    assert sent[0]["value"]["data"]["s"]["value"] == ["a", "b"]


def test_64_bit_integers_reach_the_browser_intact_and_empty_frames_show():
    frame = pd.DataFrame(
        {"big": np.array([2**40, -5], dtype=np.int64), "u": np.array([1, 2**63], dtype=np.uint64), "small": [1, 2]}
    )
    message, buffers = DataViewer(frame).grid.window_message(0, 1, 0, 2)
    data = message["value"]["data"]
    assert np.frombuffer(buffers[data["big"]["value"]], dtype=data["big"]["dtype"]).tolist() == [2**40, -5]
    assert data["u"]["dtype"] == "float64" and data["small"]["dtype"] == "int32"
    empty = DataViewer(pd.DataFrame({"a": pd.Series([], dtype=float)}))
    assert "0 rows × 1 columns" in empty.info.value
    assert "No rows to plot" in empty.chart.figure_box.children[0].value


def test_a_request_for_the_whole_frame_gets_one_screen(big):
    grid = DataViewer(big).grid
    sent = []
    grid.send = lambda content, buffers=None: sent.append((content, buffers))
    grid._handle_comm_msg(None, {"type": "data-request", "r1": 0, "r2": len(big) - 1, "c1": 0, "c2": 5}, [])
    grid._handle_comm_msg(None, {"type": "data-request", "r1": "x", "r2": None}, [])  # ignored
    ((content, buffers),) = sent
    assert content["r2"] - content["r1"] < 1500 and wire_bytes(content, buffers) < 300_000


def test_a_click_on_a_sorted_row_names_its_frame_row_and_value():
    frame = pd.DataFrame({"v": [2.0, 3.0, 1.0]}, index=pd.Index(["b", "c", "a"], name="key"))
    grid = DataViewer(frame).grid
    clicks = []
    grid.on_cell_click(clicks.append)
    grid._sort_on_header_click({"region": "column-header", "column": "v"})
    # What the browser sends for a click on the second shown row (1.0, 2.0, 3.0): no key, no value.
    for region, column in (("body", "v"), ("row-header", "key")):
        grid._handle_comm_msg(None, {"event_type": "cell-click", "region": region, "column": column, "row": 1}, [])
    assert [(c["primary_key_row"], c["cell_value"]) for c in clicks] == [(0, 2.0), (0, "b")]
    grid._handle_comm_msg(None, {"event_type": "cell-click", "region": "body", "column": "v", "row": 3}, [])
    assert len(clicks) == 2  # a row the view no longer has (a filter narrowed it) is no click


def test_sorting_while_the_chart_draws_sorts_the_rows_and_the_chart_keeps_frame_order(big):
    viewer = DataViewer(big)
    grid = viewer.grid
    grid._sort_on_header_click({"region": "column-header", "column": "f0"})  # the chart may be drawing
    message, buffers = grid.window_message(0, 39, 0, 5)
    shown = np.frombuffer(buffers[message["value"]["data"]["f0"]["value"]], dtype="float64")
    np.testing.assert_array_equal(shown, np.sort(big["f0"].to_numpy())[:80])
    assert viewer.chart.wait(120)
    for line, column in zip(viewer.chart.lines, big.columns, strict=True):
        np.testing.assert_array_equal(line.y, big[column].to_numpy()[line.x.astype(np.int64)])
