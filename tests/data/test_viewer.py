"""DataViewer in the kernel: the messages the grid sends, sorting by header clicks, the chart,
and visible messages for everything that goes wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jupyter_mlapp.data import DataViewer
from jupyter_mlapp.data.downsample import MAX_POINTS
from jupyter_mlapp.data.grid import WindowedGrid


def wire_bytes(message: dict, buffers: list) -> int:
    import json

    return len(json.dumps(message, default=str)) + sum(memoryview(b).nbytes for b in buffers)


@pytest.fixture
def viewer(tmp_path):
    return DataViewer(root=tmp_path)


@pytest.fixture
def big():
    rows = 1_000_000
    rng = np.random.default_rng(0)
    return pd.DataFrame({f"f{i}": rng.standard_normal(rows) for i in range(6)})


def test_the_viewer_opens_empty_and_with_a_frame(tmp_path):
    empty = DataViewer(root=tmp_path)
    assert len(empty.picker.options) >= 757 and empty.source == ""
    assert len(empty.view.frame) == 757 and list(empty.view.frame.columns) == ["id", "title", "package"]
    assert "Pick a data set in the list above" in empty.message.value  # the catalog first, as the article's viewer
    frame = pd.DataFrame({"a": [1, 2, 3]})
    viewer = DataViewer(frame, name="mine", root=tmp_path)
    assert viewer.view.frame is frame
    assert "3 rows × 1 columns" in viewer.info.value
    assert viewer.picker.options[0] == ("your data: mine", "frame:mine")
    assert viewer.source == "frame:mine"


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
    for kind in ChartKinds:
        viewer.chart.kind.value = kind
    assert viewer.view.frame is frame and grid.data is frame
    assert np.shares_memory(frame["f0"].to_numpy(), values)
    pd.testing.assert_frame_equal(frame, before)
    assert list(frame.columns) == [f"f{i}" for i in range(6)]


ChartKinds = ("scatter", "bar", "histogram", "box", "line")


def test_line_chart_is_downsampled_and_zoom_redraws_at_full_detail(big):
    viewer = DataViewer(big)
    chart = viewer.chart
    assert len(chart.lines) == 6
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


def test_every_chart_type_draws_and_text_only_data_says_so(tmp_path):
    viewer = DataViewer(root=tmp_path)
    viewer.load("Airq")
    assert len(viewer.chart.lines) == 5  # airq, vala, rain, dens, medi: coas is text
    for kind in ChartKinds:
        viewer.chart.kind.value = kind
        assert type(viewer.chart.figure_box.children[-1]).__name__ == "Figure", kind  # (a legend above lines)
    text = pd.DataFrame({"word": ["a", "b", "a"]})
    viewer.show(text, "words")
    note = viewer.chart.figure_box.children[0].value
    assert "No numeric columns to plot" in note
    viewer.chart.kind.value = "bar"  # a bar chart counts the words
    assert type(viewer.chart.figure_box.children[0]).__name__ == "Figure"


def test_bad_name_and_bad_file_are_messages_and_the_view_stays(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    viewer = DataViewer(root=tmp_path)
    viewer.search.value = "Airq"
    viewer._load_typed_name()
    grid = viewer.grid
    viewer.search.value = "airqualty"
    viewer._load_typed_name()
    assert "no data set named &#x27;airqualty&#x27;; did you mean airquality" in viewer.message.value
    assert viewer.grid is grid and viewer.view.name == "Airq"
    viewer.search.value = "bad"
    viewer.picker.value = "file:bad.parquet"
    assert "cannot read &#x27;bad.parquet&#x27; as Parquet" in viewer.message.value
    assert viewer.grid is grid
    viewer.show([1, 2, 3], "a list")
    assert "can only show a pandas DataFrame or Series" in viewer.message.value
    assert viewer.grid is grid


def test_new_workspace_files_appear_after_a_rescan(tmp_path):
    viewer = DataViewer(root=tmp_path)
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "new.parquet")
    assert "file:new.parquet" not in [v for _, v in viewer.picker.options]
    viewer.rescan.click()
    assert ("file: new.parquet", "file:new.parquet") in viewer.picker.options


def test_search_filters_the_picker_by_id_and_title(tmp_path):
    viewer = DataViewer(root=tmp_path)
    viewer.search.value = "new york air"
    labels = [label for label, _ in viewer.picker.options]
    assert labels == ["airquality — New York Air Quality Measurements"]
    viewer.picker.value = viewer.picker.options[0][1]
    assert viewer.view.name == "airquality" and len(viewer.view) == 153


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


def test_zooming_a_date_axis_in_the_browser_reaches_the_kernel():
    rows = 100_000
    frame = pd.DataFrame(
        {"v": np.arange(rows, dtype=float)}, index=pd.date_range("2024-01-01", periods=rows, freq="s", name="time")
    )
    chart = DataViewer(frame).chart
    assert len(chart.lines[0].x) <= MAX_POINTS
    # What the browser sends on a zoom: JavaScript's Date.toJSON.
    chart.lines[0].scales["x"].set_state({"min": "2024-01-01T01:10:00.000Z", "max": "2024-01-01T01:20:00.000Z"})
    x = chart.lines[0].x
    assert len(x) == 603 and x[1] == np.datetime64("2024-01-01T01:10:00")
    assert chart.note.value == "603 points per series"


def test_source_names_what_is_shown_and_opens_what_it_is_set_to(tmp_path):
    pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "two.csv", index=False)
    viewer = DataViewer(root=tmp_path)
    viewer.source = "dataset:Airq"
    assert viewer.view.name == "Airq" and len(viewer.view) == 30
    viewer.picker.value = "file:two.csv"
    assert viewer.source == "file:two.csv" and len(viewer.view) == 2
    for bad in ("dataset:airqualty", "nonsense", "frame:nobody"):
        viewer.source = bad
        assert viewer.source == "file:two.csv" and viewer.view.name == "two.csv"
    assert "no DataFrame named &#x27;nobody&#x27;" in viewer.message.value
    assert "[1, 2, 3]" not in str(viewer.picker.options)


def test_an_app_state_link_reopens_the_data_set_after_a_refresh(tmp_path, mlapp_home):
    from jupyter_mlapp.sessions import AppState

    first = DataViewer(root=tmp_path)
    state = AppState("data_viewer", user="ada")
    state.link(first, "source", "data")
    first.load("Airq")
    state.close()  # writes what is pending, as a kernel does when it ends
    again = DataViewer(root=tmp_path)  # a refresh: a new kernel, a new viewer
    AppState("data_viewer", user="ada").link(again, "source", "data")
    assert again.source == "dataset:Airq" and len(again.view) == 30


def test_a_semicolon_csv_is_split_by_its_sniffed_separator_and_the_viewer_offers_a_choice(tmp_path):
    (tmp_path / "european.csv").write_text("city;temp\nBerlin;3.5\nParis;7.25\n")
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "v.parquet")
    viewer = DataViewer(root=tmp_path)
    assert viewer.separator.layout.display == "none"  # nothing to split yet
    viewer.open_file("european.csv")
    assert list(viewer.view.frame.columns) == ["city", "temp"] and "semicolon-separated (sniffed" in viewer.info.value
    assert viewer.separator.layout.display != "none" and viewer.separator.value == "auto"
    viewer.separator.value = "comma"  # the user overrules the sniff: one column, as asked
    assert list(viewer.view.frame.columns) == ["city;temp"] and "comma-separated" in viewer.info.value
    viewer.open_file("v.parquet")
    assert viewer.separator.layout.display == "none" and "separated" not in viewer.info.value
    viewer.open_file("european.csv")
    assert viewer.separator.value == "auto" and list(viewer.view.frame.columns) == ["city", "temp"]


def test_an_empty_source_brings_the_catalog_back(tmp_path):
    viewer = DataViewer(root=tmp_path)
    viewer.load("airquality")
    assert viewer.source == "dataset:airquality" and len(viewer.view.frame) == 153
    viewer.source = ""  # e.g. an app state saved before anything was picked
    assert len(viewer.view.frame) == 757 and viewer.source == ""


def test_the_page_url_names_the_data_set(tmp_path, monkeypatch):
    viewer = DataViewer(root=tmp_path)
    monkeypatch.setenv("QUERY_STRING", "page=Data&dataset=Airq")
    assert viewer.open_from_url() and viewer.source == "dataset:Airq" and len(viewer.view.frame) == 30
    (tmp_path / "x.csv").write_text("a;b\n1;2\n")
    monkeypatch.setenv("QUERY_STRING", "file=x.csv")
    assert viewer.open_from_url() and list(viewer.view.frame.columns) == ["a", "b"]
    monkeypatch.setenv("QUERY_STRING", "dataset=nope")
    assert not viewer.open_from_url() and "no data set named &#x27;nope&#x27;" in viewer.message.value
    assert viewer.source == "file:x.csv"  # the view stays
    monkeypatch.setenv("QUERY_STRING", "")
    assert not viewer.open_from_url()


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
