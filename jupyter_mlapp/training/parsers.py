"""Metric parsers: find the numbers to plot in the lines of a training log.

A parser turns one line into ``{"loss": 0.41, "epoch": 3}`` or ``None`` (not its kind of line).
``parse_lines`` tries the parsers in order on every line: the first that recognizes a line owns
it, so the list is the extension point (put your own parser, or a regex with named groups, in
front of ``default_parsers()``). Lines no parser recognizes stay in the log view only.

Speed matters (a log can be gigabytes): parsers work on a whole chunk of lines at once and
return columns (line numbers and values per metric), and the two common formats have fast
paths in C++ through pyarrow: JSON lines are read by Arrow's JSON reader, and ``key=value``
lines by RE2 with a pattern learned from the first line of each shape.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from ..errors import InvalidInput

# Names a log uses for the x axis; they are the plot's x, not a metric of their own.
X_ALIASES = {"step": "step", "global_step": "step", "iteration": "step", "iter": "step", "epoch": "epoch"}

Columns = dict[str, tuple[np.ndarray, np.ndarray]]
"""Per metric: the indices of the lines it was found on (int64, ascending) and its values (float64)."""

_EMPTY_ROWS = np.empty(0, np.int64)
SMALL = 64  # fewer lines than this: line by line (the bulk paths cost more to set up)
_SLICE = 1 << 20  # bytes per parallel task (RE2, Arrow's JSON reader): amortized, yet spread over the cores


class LineBatch:
    """The lines of one chunk, as Python strings and, built once on demand, as an Arrow array
    (so that each parser can pick its candidate lines with RE2 in C++, not line by line)."""

    def __init__(self, lines: Sequence[str]):
        self.lines = lines
        self._arrow: pa.Array | None = None

    def arrow(self, rows: np.ndarray) -> pa.Array:
        if self._arrow is None:
            self._arrow = pa.array(self.lines, pa.string())
        return self._arrow if len(rows) == len(self.lines) else self._arrow.take(pa.array(rows))

    def matching(self, rows: np.ndarray, pattern: str) -> np.ndarray:
        """The rows whose line contains a match of the RE2 ``pattern`` (all of a few rows: then
        the parsers' own line-by-line checks are cheaper than building an Arrow array)."""
        if len(rows) < SMALL:
            return rows
        mask = pc.match_substring_regex(self.arrow(rows), pattern).to_numpy(zero_copy_only=False)
        return rows[mask]


class MetricParser:
    """One kind of metric line. Subclasses implement ``parse``; ``parse_many`` may go faster."""

    name = "parser"

    def parse(self, line: str) -> dict[str, float] | None:
        """The metrics on ``line`` (the x keys ``step``/``epoch`` included), or ``None``."""
        raise NotImplementedError

    def parse_many(self, batch: LineBatch, rows: np.ndarray) -> tuple[np.ndarray, Columns]:
        """Parse ``batch.lines[i] for i in rows``: the rows this parser recognized, and their columns."""
        used, records, lines = [], [], batch.lines
        for i in rows.tolist():
            record = self.parse(lines[i])
            if record is not None:
                used.append(i)
                records.append(record)
        return np.asarray(used, np.int64), columns_from_records(used, records)

    def reset(self) -> None:
        """Forget what earlier lines taught (the log restarts from its beginning)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _flatten(record: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            number = _number(value)
            if number is not None:
                out[f"{prefix}{key}"] = number
    return out


def columns_from_records(rows: Sequence[int], records: Sequence[dict[str, float]]) -> Columns:
    """``[{"loss": 1.0}, {"loss": 0.5, "acc": 0.7}]`` on lines 4, 9 -> columns per metric."""
    found: dict[str, tuple[list[int], list[float]]] = {}
    for row, record in zip(rows, records, strict=False):
        for key, value in record.items():
            rs, vs = found.setdefault(X_ALIASES.get(key.lower(), key), ([], []))
            rs.append(row)
            vs.append(value)
    return {key: (np.asarray(rs, np.int64), np.asarray(vs, np.float64)) for key, (rs, vs) in found.items()}


def put_column(columns: Columns, key: str, rows: np.ndarray, values: np.ndarray) -> None:
    """Add a column; a second one under the same name (``iter`` and ``step``) fills its gaps."""
    if key not in columns:
        columns[key] = (rows, values)
        return
    old_rows, old_values = columns[key]
    all_rows = np.concatenate([old_rows, rows])
    order = np.argsort(all_rows, kind="stable")
    all_rows, all_values = all_rows[order], np.concatenate([old_values, values])[order]
    first = np.ones(len(all_rows), bool)
    first[1:] = all_rows[1:] != all_rows[:-1]
    columns[key] = (all_rows[first], all_values[first])


def merge_columns(parts: Sequence[Columns]) -> Columns:
    """Columns of several parsers (each sorted by line) into one, still sorted by line."""
    if len(parts) == 1:
        return parts[0]
    grouped: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for part in parts:
        for key, column in part.items():
            grouped.setdefault(key, []).append(column)
    merged: Columns = {}
    for key, columns in grouped.items():
        if len(columns) == 1:
            merged[key] = columns[0]
            continue
        rows = np.concatenate([c[0] for c in columns])
        values = np.concatenate([c[1] for c in columns])
        order = np.argsort(rows, kind="stable")
        merged[key] = (rows[order], values[order])
    return merged


class JSONLinesParser(MetricParser):
    """``{"epoch": 3, "loss": 0.41}``: every number of a JSON object (nested keys joined by '.')."""

    name = "json"

    def parse(self, line: str) -> dict[str, float] | None:
        text = line.strip()
        if not text.startswith("{"):  # cheap check first: most lines of most logs are not JSON
            return None
        try:
            record = json.loads(text)
        except ValueError:
            return None
        return _flatten(record) if isinstance(record, dict) else None

    def parse_many(self, batch, rows):
        candidates = batch.matching(rows, r"^\s*\{").tolist()  # the cheap check, for all lines at once
        if len(candidates) < SMALL:
            return super().parse_many(batch, np.asarray(candidates, np.int64))
        lines = batch.lines
        data = "\n".join(lines if len(candidates) == len(lines) else [lines[i] for i in candidates])
        data = data.encode("utf-8", "replace")
        try:
            # Blocks of ~1 MiB parse on every core; Arrow unifies their types (int -> double).
            table = pa_json.read_json(io.BytesIO(data), read_options=pa_json.ReadOptions(block_size=_SLICE))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # One malformed line spoils Arrow's batch: go line by line, which skips just that line.
            return super().parse_many(batch, np.asarray(candidates, np.int64))
        if table.num_rows != len(candidates):
            return super().parse_many(batch, np.asarray(candidates, np.int64))
        rows_of = np.asarray(candidates, np.int64)
        while any(pa.types.is_struct(field.type) for field in table.schema):
            table = table.flatten()
        columns: Columns = {}
        for name, column in zip(table.column_names, table.columns, strict=False):
            kind = column.type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                continue
            values = column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
            key = X_ALIASES.get(name.lower(), name)
            if column.null_count:
                valid = column.is_valid().to_numpy(zero_copy_only=False)
                put_column(columns, key, rows_of[valid], values[valid])
            else:
                put_column(columns, key, rows_of, values)
        return rows_of, columns


_VALUE = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:[Nn]a[Nn]|[Ii]nf(?:inity)?)"
# key=value or key: value; the key may be quoted (Python dict reprs, e.g. Hugging Face logs).
_PAIR = re.compile(rf"""(?P<q>['"]?)(?P<key>[A-Za-z_][\w./-]*)(?P=q)\s*[=:]\s*(?P<value>{_VALUE})(?![\w.:%/])""")
# The value slot of a learned line shape, for RE2 (which has neither lookarounds nor backrefs).
_RE2_VALUE = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?i:nan|inf(?:inity)?)"
_DIGITS = re.compile(r"[0-9]+")


class KeyValueParser(MetricParser):
    """``epoch=3 loss=0.41 acc=0.87`` or ``loss: 0.41, acc: 0.87``.

    A line counts when its pairs make up at least half of its text, so prose such as
    ``Loading data: 5 files`` is not taken for a metric.
    """

    name = "key=value"
    max_shapes = 4  # line shapes learned per chunk before going line by line

    def _pairs(self, line: str) -> list[re.Match] | None:
        if "=" not in line and ":" not in line:
            return None
        matches = list(_PAIR.finditer(line))
        if not matches:
            return None
        covered = sum(m.end() - m.start() for m in matches)
        if covered * 2 < len(line.strip()):
            return None
        return matches

    def parse(self, line: str) -> dict[str, float] | None:
        matches = self._pairs(line)
        if matches is None:
            return None
        return {m["key"]: float(m["value"]) for m in matches}

    @staticmethod
    def _shape(line: str, matches: list[re.Match]) -> tuple[str, list[str]]:
        """An RE2 pattern for lines shaped like ``line``: same keys, any numbers between them."""
        parts, keys, pos = ["^"], [], 0
        for i, m in enumerate(matches):
            # Numbers outside the keys vary from line to line ("Epoch 3: loss=..."); keys stay literal.
            parts.append(_DIGITS.sub("[0-9]+", re.escape(line[pos : m.start("key")])))
            parts.append(re.escape(line[m.start("key") : m.start("value")]))
            parts.append(f"(?P<g{i}>{_RE2_VALUE})")
            keys.append(m["key"])
            pos = m.end("value")
        parts.append(_DIGITS.sub("[0-9]+", re.escape(line[pos:])))
        parts.append("$")
        return "".join(parts), keys

    def parse_many(self, batch, rows):
        if len(rows) < SMALL:  # learning a shape pays off on big chunks only
            return super().parse_many(batch, rows)
        lines = batch.lines
        open_ = np.ones(len(rows), bool)  # neither recognized nor rejected yet
        used_parts, column_parts = [], []
        slow_rows, slow_records = [], []
        shapes = 0
        while open_.any():
            learned = False
            for pos in np.flatnonzero(open_).tolist():
                matches = self._pairs(lines[rows[pos]])
                if matches is not None and shapes < self.max_shapes:
                    shapes += 1
                    found = self._match_shape(batch, rows, open_, lines[rows[pos]], matches)
                    if found is not None:
                        used_parts.append(found[0])
                        column_parts.append(found[1])
                        learned = True
                        break
                open_[pos] = False
                if matches is not None:  # past the shapes budget, or a shape RE2 cannot take
                    slow_rows.append(rows[pos])
                    slow_records.append({m["key"]: float(m["value"]) for m in matches})
            if not learned:
                break
        if slow_rows:
            used_parts.append(np.asarray(slow_rows, np.int64))
            column_parts.append(columns_from_records(slow_rows, slow_records))
        if not used_parts:
            return _EMPTY_ROWS, {}
        return np.sort(np.concatenate(used_parts)), merge_columns(column_parts)

    @staticmethod
    def _tokens(line: str, matches: list[re.Match]) -> tuple[int, list[tuple[int, int, int | None]]] | None:
        """Where each value sits among the space-separated tokens of ``line``: (token, start,
        stop) per value, if every line of its shape has them at the same place (one value per
        token, no varying number beside it); else None."""
        places = []
        for i, m in enumerate(matches):
            value_start, value_end = m.start("value"), m.end("value")
            start = line.rfind(" ", 0, value_start) + 1
            end = line.find(" ", value_end)
            end = len(line) if end < 0 else end
            if (i and matches[i - 1].end("value") > start) or (i + 1 < len(matches) and matches[i + 1].start() < end):
                return None
            if _DIGITS.search(line, start, m.start("key")) or _DIGITS.search(line, value_end, end):
                return None
            places.append((line.count(" ", 0, value_start), value_start - start, (value_end - end) or None))
        return line.count(" ") + 1, places

    def _match_shape(self, batch, rows, open_, line, matches) -> tuple[np.ndarray, Columns] | None:
        """Every open line shaped like ``line``, read at once: their rows and columns (marked done)."""
        pattern, keys = self._shape(line, matches)
        candidates = np.flatnonzero(open_)
        array = batch.arrow(rows[candidates])
        try:
            tokens = self._tokens(line, matches)
            found = (_split_values(array, pattern, *tokens) if tokens else None) or _extract_values(
                array, pattern, len(keys)
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if found is None:  # the shape does not even match its own line (an exotic key)
            return None
        valid, values = found
        matched = candidates[valid]
        open_[matched] = False
        matched_rows = rows[matched]
        columns: Columns = {}
        for key, column in zip(keys, values, strict=False):
            put_column(
                columns,
                X_ALIASES.get(key.lower(), key),
                matched_rows,
                pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False),
            )
        return matched_rows, columns


_WORKERS = min(4, os.cpu_count() or 1)
_POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="mlapp-parse")


_GROUP = re.compile(r"\(\?P<g[0-9]+>")


def _split_values(array: pa.StringArray, pattern: str, n_tokens: int, places) -> tuple | None:
    """The values of the lines matching ``pattern``, cut out of their space-separated tokens:
    RE2 only says yes or no (a DFA, many times faster than extracting groups)."""
    valid = pc.match_substring_regex(array, _GROUP.sub("(?:", pattern))
    count = pc.sum(valid).as_py() or 0
    if not count:
        return None
    matched = array if count == len(array) else array.filter(valid)
    tokens = pc.split_pattern(matched, " ")
    if pc.min_max(pc.list_value_length(tokens)).as_py() != {"min": n_tokens, "max": n_tokens}:
        return None
    values = [pc.utf8_slice_codeunits(pc.list_element(tokens, token), start, stop) for token, start, stop in places]
    return valid.to_numpy(zero_copy_only=False), values


def _extract_values(array: pa.StringArray, pattern: str, n_values: int) -> tuple | None:
    """The values of the lines matching ``pattern``, by RE2's group extraction (any shape);
    on slices in parallel: RE2 releases the GIL, so a big chunk uses every core."""
    parts = max(1, min(_WORKERS, array.nbytes // _SLICE))
    step = -(-len(array) // parts)
    slices = [array.slice(start, step) for start in range(0, len(array), step)]
    found = pa.concat_arrays(list(_POOL.map(lambda part: pc.extract_regex(part, pattern), slices)))
    valid = found.is_valid().to_numpy(zero_copy_only=False)
    if not valid.any():
        return None
    found = found.filter(pa.array(valid))
    return valid, [found.field(f"g{i}") for i in range(n_values)]


class KerasParser(MetricParser):
    """Keras progress output: ``Epoch 3/10`` then ``32/32 [====] - 1s 5ms/step - loss: 0.41 - ...``.

    The epoch comes from the ``Epoch N/M`` line before. A progress line counts once its epoch is
    complete (step == total), so the bar's intermediate updates do not pile up on one epoch.
    """

    name = "keras"
    # What a Keras line starts with, for RE2: only these lines are looked at one by one.
    CANDIDATE = r"^\s*(?:Epoch\s+[0-9]+/[0-9]+\s*$|[0-9]+/[0-9]+\s+(?:\[|[\x{2500}-\x{257f}]))"
    _EPOCH = re.compile(r"^\s*Epoch\s+(\d+)/(\d+)\s*$")
    _PROGRESS = re.compile(r"^\s*(\d+)/(\d+)\s+(?:\[[=>.]*\]|[\u2500-\u257f]+)")
    _METRIC = re.compile(rf"\s-\s(?P<key>[A-Za-z_][\w.]*):\s+(?P<value>{_VALUE})(?![\w.:%/])")

    def parse(self, line: str) -> dict[str, float] | None:
        epoch = self._EPOCH.match(line)
        if epoch:
            return {"epoch": float(epoch[1])}
        progress = self._PROGRESS.match(line)
        if not progress:
            return None
        if progress[1] != progress[2]:
            return {}
        return {m["key"]: float(m["value"]) for m in self._METRIC.finditer(line, progress.end())}

    def parse_many(self, batch, rows):
        return super().parse_many(batch, batch.matching(rows, self.CANDIDATE))


class RegexParser(MetricParser):
    """A pattern of your own: each named group holding a number is a metric (``step``/``epoch``: x).

    >>> RegexParser(r"it (?P<step>\\d+) .* train (?P<loss>[\\d.]+)")
    """

    name = "regex"

    def __init__(self, pattern: str | re.Pattern):
        try:
            self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
        except re.error as exc:
            raise InvalidInput(f"metric pattern {pattern!r} is not a valid regular expression: {exc}") from exc
        if not self.pattern.groupindex:
            raise InvalidInput(f"metric pattern {self.pattern.pattern!r} has no named group, e.g. (?P<loss>[0-9.]+)")

    def parse(self, line: str) -> dict[str, float] | None:
        match = self.pattern.search(line)
        if not match:
            return None
        record = {}
        for key, text in match.groupdict().items():
            try:
                record[key] = float(text)
            except (TypeError, ValueError):
                continue
        return record

    def __repr__(self) -> str:
        return f"<RegexParser {self.pattern.pattern!r}>"


class FunctionParser(MetricParser):
    """Any callable ``line -> dict | None`` as a parser."""

    def __init__(self, function: Callable[[str], dict | None]):
        self.function = function
        self.name = getattr(function, "__name__", "function")
        self.failures = 0
        self.last_error = ""

    def parse(self, line: str) -> dict[str, float] | None:
        try:
            record = self.function(line)
            return None if record is None else _flatten(dict(record))
        except Exception as exc:  # user code: one bad line must not stop the monitor
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            return None


def default_parsers() -> list[MetricParser]:
    """JSON lines, then Keras progress lines, then ``key=value`` pairs (fresh, stateful objects)."""
    return [JSONLinesParser(), KerasParser(), KeyValueParser()]


def as_parser(spec) -> MetricParser:
    """A parser from a parser, a regex (string or compiled, with named groups) or a callable."""
    if isinstance(spec, MetricParser):
        return spec
    if isinstance(spec, (str, re.Pattern)):
        return RegexParser(spec)
    if callable(spec):
        return FunctionParser(spec)
    raise InvalidInput(f"not a metric parser: {spec!r} (give a regex with named groups or a function)")


def make_parsers(parsers=None) -> list[MetricParser]:
    """``None``: the defaults; else the given specs, in order (see ``as_parser``)."""
    return default_parsers() if parsers is None else [as_parser(p) for p in parsers]


def parse_lines(lines: Sequence[str], parsers: Sequence[MetricParser]) -> Columns:
    """The metrics of ``lines``, each line owned by the first parser that recognizes it."""
    remaining = np.arange(len(lines), dtype=np.int64)
    batch = LineBatch(lines)
    parts = []
    for parser in parsers:
        if not remaining.size:
            break
        used, columns = parser.parse_many(batch, remaining)
        if used.size:
            remaining = np.setdiff1d(remaining, used, assume_unique=True)
            if columns:
                parts.append(columns)
    return merge_columns(parts) if parts else {}
