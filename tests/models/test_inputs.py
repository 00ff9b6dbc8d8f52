"""Records checked against a model's schema, CSV bodies read as records."""

from __future__ import annotations

import pytest

from jupyter_mlapp.errors import InvalidInput, TooLarge
from jupyter_mlapp.models.inputs import check_rows, csv_rows

SCHEMA = {
    "type": "table",
    "columns": [
        {"name": "a", "type": "number"},
        {"name": "b", "type": "integer"},
        {"name": "c", "type": "string"},
        {"name": "d", "type": "boolean"},
    ],
}


def test_rows_are_checked_column_by_column():
    assert check_rows([{"a": 1.5, "b": 2, "c": "x", "d": True}], SCHEMA) == [[1.5, 2, "x", True]]
    cases = [
        ([{"a": 1, "b": 2, "c": "x"}], "rows\\[0\\]: missing column\\(s\\) 'd'"),
        ([{"a": 1, "b": 2, "c": "x", "d": True, "e": 0}], "unknown column\\(s\\) 'e'"),
        ([{"a": "1", "b": 2, "c": "x", "d": True}], "rows\\[0\\]\\['a'\\] must be a number, not str"),
        ([{"a": True, "b": 2, "c": "x", "d": True}], "must be a number, not bool"),
        ([{"a": float("nan"), "b": 2, "c": "x", "d": True}], "finite"),
        ([{"a": 1, "b": 2.5, "c": "x", "d": True}], "whole number"),
        ([{"a": 1, "b": 2, "c": 3, "d": True}], "must be a string"),
        ([{"a": 1, "b": 2, "c": "x", "d": "yes"}], "true or false"),
        ([], "non-empty list"),
        ({"a": 1}, "non-empty list"),
        ([[1, 2, 3, 4]], "rows\\[0\\] must be a record"),
    ]
    for rows, message in cases:
        with pytest.raises(InvalidInput, match=message):
            check_rows(rows, SCHEMA)
    with pytest.raises(TooLarge):
        check_rows([{"a": 1, "b": 2, "c": "x", "d": True}] * 1001, SCHEMA)


def test_csv_rows_convert_by_column_type():
    assert csv_rows("a,b,c,d\n1.5,2,x,true\n", SCHEMA) == [{"a": 1.5, "b": 2, "c": "x", "d": True}]
    with pytest.raises(InvalidInput, match="CSV line 2, column 'a': 'abc' is not a number"):
        csv_rows("a,b,c,d\nabc,2,x,true\n", SCHEMA)
    with pytest.raises(InvalidInput, match="CSV line 2 has 2 values for 4 columns"):
        csv_rows("a,b,c,d\n1,2\n", SCHEMA)
    with pytest.raises(InvalidInput, match="empty"):
        csv_rows("", SCHEMA)
