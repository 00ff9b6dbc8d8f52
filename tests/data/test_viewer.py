"""DataViewer in the kernel: picking a data set, its source and page URL, and visible messages for
everything that goes wrong."""

from __future__ import annotations

import pandas as pd

from jupyter_mlapp.data import DataViewer


def test_the_viewer_opens_empty_and_with_a_frame(tmp_path):
    empty = DataViewer(root=tmp_path)
    assert len(empty.picker.options) >= 757 and empty.source == ""
    assert len(empty.view.frame) == 757 and list(empty.view.frame.columns) == ["id", "title", "package"]
    assert "Click a row to open its data set" in empty.message.value  # the catalog first, as the article's viewer
    assert empty.chart is None and not empty.chart_box.children  # names and titles: nothing to chart
    frame = pd.DataFrame({"a": [1, 2, 3]})
    viewer = DataViewer(frame, name="mine", root=tmp_path)
    assert viewer.view.frame is frame
    assert "3 rows × 1 columns" in viewer.info.value
    assert viewer.picker.options[0] == ("your data: mine", "frame:mine")
    assert viewer.source == "frame:mine"


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
    assert viewer.chart_box.children == (viewer.chart,) and len(viewer.chart.lines) == 6
    viewer.source = ""  # e.g. an app state saved before anything was picked
    assert len(viewer.view.frame) == 757 and viewer.source == ""
    assert viewer.chart is None and not viewer.chart_box.children


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
