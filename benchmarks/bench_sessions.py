"""Sessions: how fast a change reaches the disk, how fast a 10 MB state autoloads, and what one
changed key costs to autosave, against the naive way (pickle the whole state on every change).

Targets (issue 4): a change on disk <= 300 ms after it happens; autoload of a 10 MB state (a
100k-row frame plus 200 keys) <= 200 ms; an autosave of one key does not rewrite large values.

    python benchmarks/bench_sessions.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import pickle
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from jupyter_mlapp.home import atomic_write
from jupyter_mlapp.sessions import AppState
from jupyter_mlapp.sessions.store import app_folder

APP, USER = "bench", "bench"


def big_state() -> dict:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(100_000, 12)), columns=[f"f{i}" for i in range(12)])
    values = {"data": frame}
    for i in range(200):
        values[f"setting_{i}"] = {"value": i * 0.5, "label": f"setting number {i}", "on": i % 2 == 0}
    return values


def written_bytes() -> int:
    """Bytes this process handed to write() so far (Linux /proc/self/io, via psutil)."""
    return psutil.Process().io_counters().write_chars


def kb(n: float) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB"


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    os.environ["MLAPP_HOME"] = str(home)
    values = big_state()
    memory = values["data"].memory_usage(deep=True).sum()

    # -- write the 10 MB state once ---------------------------------------------------------------
    state = AppState(APP, user=USER)
    state.update(values)
    state.close()
    folder = app_folder(USER, APP, home)
    on_disk = folder_bytes(folder)

    # -- autoload -------------------------------------------------------------------------------
    loads = []
    for _ in range(args.runs):
        started = time.perf_counter()
        state = AppState(APP, user=USER)
        loads.append(time.perf_counter() - started)
        assert len(state) == 201 and len(state["data"]) == 100_000
        state.close()

    naive_path = home / "naive.pickle"
    atomic_write(naive_path, pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))
    naive_loads = []
    for _ in range(args.runs):
        started = time.perf_counter()
        pickle.loads(naive_path.read_bytes())
        naive_loads.append(time.perf_counter() - started)

    # -- a change on disk -----------------------------------------------------------------------
    state = AppState(APP, user=USER)
    reader = sqlite3.connect(folder / "state.db")
    latencies = []
    for i in range(args.runs * 3):
        started = time.perf_counter()
        state["setting_0"] = {"value": -i, "label": "changed", "on": True}
        while (
            reader.execute("SELECT inline FROM entries WHERE slot=0 AND key='setting_0'").fetchone()[0]
            != f'{{"value":{-i},"label":"changed","on":true}}'.encode()
        ):
            time.sleep(0.002)
        latencies.append(time.perf_counter() - started)

    # -- one changed key: what is written ---------------------------------------------------------
    blobs = [p for p in (folder / "blobs").rglob("*") if p.is_file()]
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in blobs}
    one_key, one_key_bytes = [], []
    for i in range(args.runs):
        state["setting_1"] = i
        written = written_bytes()
        started = time.perf_counter()
        state.autosave()
        one_key.append(time.perf_counter() - started)
        one_key_bytes.append(written_bytes() - written)
    untouched = all((p.stat().st_ino, p.stat().st_mtime_ns) == before[p] for p in blobs)
    naive_saves, naive_bytes = [], []
    for i in range(args.runs):
        values["setting_1"] = i
        written = written_bytes()
        started = time.perf_counter()
        atomic_write(naive_path, pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))
        naive_saves.append(time.perf_counter() - started)
        naive_bytes.append(written_bytes() - written)

    # -- a snapshot of the whole state ------------------------------------------------------------
    snaps = []
    for i in range(args.runs):
        started = time.perf_counter()
        state.save_snapshot(f"s{i}")
        snaps.append(time.perf_counter() - started)
    state.close()

    med = statistics.median
    p95 = lambda xs: sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]  # noqa: E731
    rows = [
        (
            "change -> on disk (median / p95)",
            f"{ms(med(latencies))} / {ms(p95(latencies))}",
            "<= 300 ms",
            "n/a (saves on demand)",
        ),
        ("autoload 10 MB state (median)", ms(med(loads)), "<= 200 ms", ms(med(naive_loads))),
        ("autosave of one changed key (median)", ms(med(one_key)), "no large rewrite", ms(med(naive_saves))),
        ("bytes written for one changed key", kb(med(one_key_bytes)), "small", kb(med(naive_bytes))),
        ("large values untouched by it", "yes" if untouched else "NO", "yes", "no"),
        ("save a snapshot of the 10 MB state", ms(med(snaps)), "", ms(med(naive_saves))),
    ]
    print(
        f"state: 100k x 12 frame ({memory / 1e6:.1f} MB in memory) + 200 keys; {on_disk / 1e6:.1f} MB on disk; "
        f"median of {args.runs} runs; naive = pickle the whole state, atomic write"
    )
    widths = [max(len(r[i]) for r in [*rows, ("metric", "jupyter-mlapp", "target", "naive pickle")]) for i in range(4)]
    for row in [("metric", "jupyter-mlapp", "target", "naive pickle"), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)))
    print(
        f"autoload speed-up vs naive: {med(naive_loads) / med(loads):.2f}x; "
        f"one-key autosave speed-up vs naive: {med(naive_saves) / med(one_key):.1f}x"
    )
    failed = [
        name
        for name, ok in (("latency", p95(latencies) <= 0.3), ("autoload", med(loads) <= 0.2), ("untouched", untouched))
        if not ok
    ]
    if failed:
        print(f"MISSED TARGETS: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
