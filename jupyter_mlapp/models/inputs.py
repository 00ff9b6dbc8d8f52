"""What a prediction request may hold: records checked against the model's schema, a CSV body
as records, and the flags clients send as text."""

from __future__ import annotations

import csv
import io
import math

from ..errors import InvalidInput, TooLarge

MAX_INPUTS = 1000  # rows or images per request
MAX_CSV_ROWS = MAX_INPUTS


def _check_value(value, kind: str, where: str):
    """One cell of a row, checked against its column type; returns the value the model gets."""
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(f"{where} must be a number, not {type(value).__name__} {value!r}"[:200])
        if not math.isfinite(value):
            raise InvalidInput(f"{where} must be a finite number")
        if kind == "integer" and value != int(value):
            raise InvalidInput(f"{where} must be a whole number, not {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidInput(f"{where} must be true or false, not {value!r}"[:200])
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string, not {type(value).__name__}")
    return value


def check_rows(rows, schema: dict) -> list[list]:
    """Records (``[{"column": value, ...}, ...]``) as lists of values in the schema's column order.

    Wrong, missing or unknown columns and wrong types are refused naming the row and the column.
    """
    if not isinstance(rows, list) or not rows:
        raise InvalidInput("rows must be a non-empty list of records ({column: value})")
    if len(rows) > MAX_INPUTS:
        raise TooLarge(f"{len(rows)} rows in one request; send at most {MAX_INPUTS}")
    columns = schema["columns"]
    names = [c["name"] for c in columns]
    expected = set(names)
    checked = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInput(f"rows[{i}] must be a record ({{column: value}}), not {type(row).__name__}")
        if row.keys() != expected:
            missing = [n for n in names if n not in row]
            unknown = sorted(str(k) for k in row if k not in expected)
            problems = ([f"missing column(s) {', '.join(map(repr, missing))}"] if missing else []) + (
                [f"unknown column(s) {', '.join(map(repr, unknown))}"] if unknown else []
            )
            raise InvalidInput(f"rows[{i}]: {'; '.join(problems)}; the model takes {', '.join(names)}"[:500])
        checked.append([_check_value(row[c["name"]], c["type"], f"rows[{i}][{c['name']!r}]") for c in columns])
    return checked


def csv_rows(text: str, schema: dict) -> list[dict]:
    """A CSV body with a header line as records, each cell converted to its column's type."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("the CSV body is empty; send a header line and one line per row") from None
    except csv.Error as exc:
        raise InvalidInput(f"the CSV body cannot be read ({exc})") from exc
    types = {c["name"]: c["type"] for c in schema["columns"]}
    convert = {
        "number": float,
        "integer": int,
        "boolean": lambda v: {"true": True, "false": False}[v.lower()],
        "string": str,
    }
    rows = []
    try:
        for line, values in enumerate(reader, start=2):
            if not values:
                continue
            if len(values) != len(header):
                raise InvalidInput(f"CSV line {line} has {len(values)} values for {len(header)} columns")
            if len(rows) >= MAX_CSV_ROWS:
                raise TooLarge(f"more than {MAX_CSV_ROWS} CSV rows in one request")
            row = {}
            for name, value in zip(header, values, strict=True):
                try:
                    row[name] = convert[types[name]](value) if name in types else value
                except (ValueError, KeyError):
                    raise InvalidInput(
                        f"CSV line {line}, column {name!r}: {value!r} is not a {types[name]}"[:300]
                    ) from None
            rows.append(row)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV body cannot be read ({exc})") from exc
    return rows
