"""TableView: windows and sorts of a frame that is never copied or changed."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from jupyter_mlapp.data.table import TableView, argsort_numbers
from jupyter_mlapp.errors import InvalidInput


def shown(view: TableView, column: str, start: int = 0, stop: int | None = None) -> list:
    stop = len(view) if stop is None else stop
    return view.window(start, stop)["columns"][column].tolist()


def snapshot(frame: pd.DataFrame):
    return (list(frame.columns), frame.index.copy(), frame.dtypes.copy(), frame.copy(deep=True))


def assert_unchanged(frame: pd.DataFrame, before) -> None:
    columns, index, dtypes, values = before
    assert list(frame.columns) == columns
    pd.testing.assert_index_equal(frame.index, index)
    pd.testing.assert_series_equal(frame.dtypes, dtypes)
    pd.testing.assert_frame_equal(frame, values)


@pytest.fixture
def mixed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [3.0, np.nan, -1.5, 2.0, np.nan, 0.0, -0.0, 7.25],
            "name": ["delta", None, "alpha", "Charlie", "bravo", None, "alpha", "echo"],
            "when": pd.to_datetime(
                ["2024-03-01", None, "2023-01-05", "2024-01-01", "1999-12-31", "2030-06-01", None, "2024-03-01"]
            ),
            "n": pd.array([5, None, 3, 3, 1, None, 2, 4], dtype="Int64"),
            "i": [10, -3, 7, 7, 0, 2**40, -(2**40), 1],
        },
        index=pd.Index([f"r{i}" for i in range(8)], name="row"),
    )


def test_window_in_frame_order_is_a_slice_with_the_index(mixed):
    view = TableView(mixed)
    window = view.window(2, 5, 0, 2)
    assert window["rows"].tolist() == [2, 3, 4]
    assert list(window["columns"]) == ["x", "name"]
    assert window["index"]["row"].tolist() == ["r2", "r3", "r4"]
    assert view.window(6, 100)["rows"].tolist() == [6, 7]  # clipped at the end
    assert view.window(9, 12)["rows"].tolist() == []


@pytest.mark.parametrize("column", ["x", "name", "when", "n", "i"])
def test_sort_matches_pandas_with_missing_values_last(mixed, column):
    view = TableView(mixed)
    for ascending in (True, False):
        view.sort(column, ascending)
        expected = mixed[column].sort_values(ascending=ascending, na_position="last", kind="stable")
        got = mixed[column].iloc[view.positions(0, len(mixed))]
        pd.testing.assert_series_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_index=False)
        assert got.index.tolist() == expected.index.tolist()  # ties keep frame order both ways
    view.sort(None)
    assert view.positions(0, 8).tolist() == list(range(8))


def test_sorted_windows_take_rows_from_the_whole_order():
    frame = pd.DataFrame({"v": np.random.default_rng(1).permutation(10_000).astype(float)})
    view = TableView(frame)
    view.sort("v")
    assert shown(view, "v", 5000, 5003) == [5000.0, 5001.0, 5002.0]
    view.sort("v", ascending=False)
    assert shown(view, "v", 0, 2) == [9999.0, 9998.0]
    index = view.window(0, 3)["index"]["index"]
    assert frame.loc[index, "v"].tolist() == [9999.0, 9998.0, 9997.0]


def test_argsort_numbers_is_a_stable_argsort():
    rng = np.random.default_rng(7)
    cases = [
        rng.standard_normal(50_000),
        np.round(rng.standard_normal(50_000), 1),  # many ties: stability matters
        1 + rng.random(20_000) * 1e-12,  # values that differ only in the last bits
        rng.integers(-(2**62), 2**62, 20_000),  # a range too wide to pack losslessly
        rng.integers(0, 5, 20_000).astype(np.int8),
        np.array([0.0, -0.0, -1.0, np.inf, -np.inf, 5e-324, -5e-324, 3.0]),
    ]
    for values in cases:
        order, valid = argsort_numbers(values)
        assert valid == len(values)
        np.testing.assert_array_equal(order, np.argsort(values, kind="stable"))


def test_argsort_numbers_puts_nan_and_nat_last():
    values = np.array([2.0, np.nan, 1.0, np.nan, -3.0])
    order, valid = argsort_numbers(values)
    assert order.tolist() == [4, 2, 0, 1, 3] and valid == 3
    dates = np.array(["2024-01-02", "NaT", "1970-01-01", "2100-05-05"], dtype="datetime64[ns]")
    order, valid = argsort_numbers(dates)
    assert order.tolist() == [2, 0, 3, 1] and valid == 3


def test_descending_is_stable_on_a_large_column_with_ties():
    values = np.random.default_rng(5).integers(0, 50, 200_000).astype(float)
    values[::97] = np.nan
    frame = pd.DataFrame({"v": values})
    view = TableView(frame)
    view.sort("v", ascending=False)
    expected = frame["v"].sort_values(ascending=False, kind="stable", na_position="last").index
    assert view.positions(0, len(frame)).tolist() == expected.tolist()
    assert view.positions(123_456, 123_500).tolist() == expected[123_456:123_500].tolist()


def test_descending_keeps_missing_values_last(mixed):
    view = TableView(mixed)
    view.sort("x", ascending=False)
    values = shown(view, "x")
    assert values[:6] == [7.25, 3.0, 2.0, 0.0, -0.0, -1.5]
    assert all(np.isnan(values[6:]))


def test_filter_then_sort(mixed):
    view = TableView(mixed)
    view.filter(np.array([0, 2, 3, 7]))
    assert len(view) == 4
    view.sort("x", ascending=False)
    assert shown(view, "x") == [7.25, 3.0, 2.0, -1.5]
    view.filter(None)
    assert len(view) == 8


def test_the_frame_is_never_changed(mixed):
    before = snapshot(mixed)
    values = mixed["x"].to_numpy()
    view = TableView(mixed)
    for column in ("x", "name", "when", "n", "i"):
        view.sort(column, ascending=False)
        view.window(0, 8)
    assert view.frame is mixed
    assert np.shares_memory(mixed["x"].to_numpy(), values)  # the same values, not a copy
    assert_unchanged(mixed, before)


def test_columns_get_unique_string_labels_without_renaming_the_frame():
    frame = pd.DataFrame([[1, 2, 3, 4]], columns=[0, "a", "a", ("b", "c")])
    view = TableView(frame)
    assert [c.label for c in view.columns] == ["0", "a", "a (2)", "b / c"]
    assert list(frame.columns) == [0, "a", "a", ("b", "c")]
    assert shown(view, "a (2)") == [3]


def test_series_and_unknown_columns():
    series = pd.Series([3, 1, 2], name="score")
    view = TableView(series)
    assert [c.label for c in view.columns] == ["score"]
    view.sort("score")
    assert shown(view, "score") == [1, 2, 3]
    with pytest.raises(InvalidInput, match="no column named 'nope'"):
        view.sort("nope")
    with pytest.raises(InvalidInput, match="DataFrame or Series"):
        TableView([1, 2, 3])


def test_a_large_frame_costs_no_copy_and_one_order_per_sort():
    rows = 2_000_000
    frame = pd.DataFrame({f"c{i}": np.random.default_rng(i).standard_normal(rows) for i in range(3)})
    size = frame.memory_usage(deep=True).sum()
    tracemalloc.start()  # NumPy reports its buffers to tracemalloc: exact, unlike RSS
    try:
        view = TableView(frame)
        view.window(rows - 50, rows)
        assert tracemalloc.get_traced_memory()[0] < size * 0.1
        view.sort("c1")
        view.window(rows - 50, rows)
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert retained < 8 * rows + size * 0.1  # the cached order (8 bytes a row), no copy
    assert peak < 3 * 8 * rows + size * 0.1  # while sorting: the packed keys and their prefixes


@pytest.mark.parametrize(
    "values",
    [
        pd.Categorical(["b", "a", "b", None, "c", "a", "b"], categories=["c", "b", "a"], ordered=True),
        pd.array(["b", "a", "b", None, "c", "a", "b"], dtype="string"),
        [1, "a", 1, "b", "a", 1, None],  # mixed types: ordered by their text
    ],
    ids=["ordered-category", "string", "mixed"],
)
def test_descending_keeps_ties_in_frame_order_for_every_kind_of_column(values):
    frame = pd.DataFrame({"v": values})
    view = TableView(frame)
    view.sort("v", ascending=False)
    got = view.positions(0, len(frame)).tolist()
    view.sort("v", ascending=True)
    ascending = view.positions(0, len(frame)).tolist()
    key = frame["v"].astype(str) if isinstance(values, list) else frame["v"]
    valid = int(key.notna().sum())
    # Descending: the runs of equal values in the ascending order, last run first, each in frame order.
    runs = []
    for row in ascending[:valid]:
        if runs and key.iloc[runs[-1][0]] == key.iloc[row]:
            runs[-1].append(row)
        else:
            runs.append([row])
    assert got[:valid] == [row for run in reversed(runs) for row in sorted(run)]
    assert sorted(got[valid:]) == got[valid:] == ascending[valid:]  # missing values last, in frame order


def test_a_sorted_window_shows_the_range_index_labels_of_its_rows():
    frame = pd.DataFrame({"x": [3.0, 1.0, 2.0]}, index=pd.RangeIndex(10, 25, 5, name="id"))
    view = TableView(frame)
    view.sort("x")
    index = view.window(0, 3)["index"]
    assert list(index) == ["id"]
    assert list(index["id"]) == [15, 20, 10]
