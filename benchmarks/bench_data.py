"""Data viewer: our ``WindowedGrid`` against ipydatagrid's ``StreamingDataGrid`` on a
10,000,000 x 6 float frame, in one run, through the same kernel-side message handler the
browser drives (``data-request`` in, ``data-reply`` out; ``_transforms`` for a sort).

Targets (issue 3): first window <= 10 ms after the frame is handed over; a scroll window
<= 2 ms and <= 20 KB; first sort of a float column <= 1 s, later windows of it <= 2 ms; extra
memory <= 10% of the frame + 8 bytes/row per cached sort order; 10M points downsampled to
<= 4,000 in <= 50 ms; a zoom round trip <= 150 ms.

Then, in a real kernel (widgets sending their state over its comms), ``DataViewer`` of a 10M x 6
frame such as an app builds (dates, a category, numbers: ``app_frame_source``) against what
Streamlit's ``st.dataframe`` does with the same frame before anything is sent (issue 18: ours
<= 0.2 s), and pandas' ``frame.head()`` as the floor.

Run: ``python benchmarks/bench_data.py`` (``make bench``). ROWS=... for another size.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from ipydatagrid import StreamingDataGrid
from tsdownsample import MinMaxLTTBDownsampler

from jupyter_mlapp.data import TableView
from jupyter_mlapp.data.charts import ChartPanel
from jupyter_mlapp.data.downsample import downsample
from jupyter_mlapp.data.grid import WindowedGrid

ROWS = int(os.environ.get("ROWS", "10000000"))
COLUMNS = 6
SCREEN = 40  # rows a grid shows at once
WINDOWS = 200
SEED = 1
VIEWER_RUNS = 5
VIEWER_TARGET = 0.2  # seconds for DataViewer(10M x 6), issue 18


def app_frame_source(rows: int = ROWS) -> str:
    """The code of an app that shows a frame: 6 columns as a user has them (readings by time
    and site), built fast (the site from codes), ``frame`` at the end. bench_apps runs it too,
    in a notebook and in a Streamlit script."""
    return f"""\
import numpy as np
import pandas as pd

rows = {rows:_}
rng = np.random.default_rng(7)
frame = pd.DataFrame(
    {{
        "time": pd.date_range("2024-01-01", periods=rows, freq="s"),
        "site": pd.Categorical.from_codes(rng.integers(0, 4, rows), ["north", "south", "east", "west"]),
        "temperature": 20 + np.cumsum(rng.normal(0, 0.01, rows)),
        "pressure": rng.normal(1013, 2, rows),
        "humidity": rng.uniform(20, 90, rows),
        "visits": rng.integers(0, 1000, rows),
    }}
)
"""


class Wire:
    """Captures what a grid sends, as the comm would: the JSON message and its buffers."""

    def __init__(self, grid):
        self.sent: list[tuple[dict, list]] = []
        grid.send = lambda content, buffers=None: self.sent.append((content, list(buffers or [])))

    def last_reply_bytes(self) -> int:
        content, buffers = next(m for m in reversed(self.sent) if m[0].get("event_type") == "data-reply")
        return len(json.dumps(content, default=str)) + sum(memoryview(b).nbytes for b in buffers)


def request(grid, r1: int) -> None:
    grid._handle_comm_msg(
        None, {"type": "data-request", "r1": r1, "r2": r1 + SCREEN - 1, "c1": 0, "c2": COLUMNS - 1}, []
    )


def make_frame() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    return pd.DataFrame({f"f{i}": rng.standard_normal(ROWS) for i in range(COLUMNS)})


def ms(seconds: float) -> float:
    return seconds * 1000


def measure(build, frame: pd.DataFrame) -> dict:
    """Time one grid through the steps a user takes; ``build(frame)`` makes the grid."""
    starts = np.random.default_rng(SEED).integers(0, ROWS - SCREEN, WINDOWS)
    result = {}
    t, cpu = time.perf_counter(), time.process_time()
    grid = build(frame)
    wire = Wire(grid)
    request(grid, 0)
    result["first window (ms)"] = ms(time.perf_counter() - t)
    result["first window (CPU ms)"] = ms(time.process_time() - cpu)

    times, sizes = [], []
    for r1 in starts:
        t = time.perf_counter()
        request(grid, int(r1))
        times.append(time.perf_counter() - t)
        sizes.append(wire.last_reply_bytes())
    result["scroll window (ms, median)"] = ms(statistics.median(times))
    result["scroll window (KB)"] = statistics.mean(sizes) / 1000

    t, cpu = time.perf_counter(), time.process_time()
    grid._transforms = [{"type": "sort", "column": "f0", "desc": False}]
    request(grid, 0)
    result["first sort f0 (ms)"] = ms(time.perf_counter() - t)
    result["first sort f0 (CPU ms)"] = ms(time.process_time() - cpu)

    times = []
    for r1 in starts[:50]:
        t = time.perf_counter()
        request(grid, int(r1))
        times.append(time.perf_counter() - t)
    result["sorted window (ms, median)"] = ms(statistics.median(times))

    t = time.perf_counter()
    grid._transforms = [{"type": "sort", "column": "f0", "desc": True}]
    request(grid, 0)
    result["re-sort f0 descending (ms)"] = ms(time.perf_counter() - t)
    grid.close()  # ipywidgets keeps every open widget: let this one (and its copies) go
    return result


def memory(build, frame: pd.DataFrame) -> float:
    """Bytes a grid keeps to show ``frame`` and sort it by one column (NumPy and pandas report
    their buffers to tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        grid = build(frame)
        Wire(grid)
        request(grid, 0)
        grid._transforms = [{"type": "sort", "column": "f0", "desc": False}]
        request(grid, ROWS // 2)
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    grid.close()
    del grid
    gc.collect()
    return kept


def chart_figures(frame: pd.DataFrame) -> dict:
    y = frame["f0"].to_numpy()
    result = {}
    times, cpu_times = [], []
    for _ in range(5):
        t, cpu = time.perf_counter(), time.process_time()
        rows = downsample(y)
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - cpu)
    result[f"downsample {ROWS / 1e6:g}M -> points"] = len(rows)
    result["downsample (ms, median)"] = ms(statistics.median(times))
    result["downsample (CPU ms, all threads, median)"] = ms(statistics.median(cpu_times))
    plain = MinMaxLTTBDownsampler()
    t = time.perf_counter()
    plain.downsample(y, n_out=4000)
    result["(tsdownsample MinMaxLTTB alone, ms)"] = ms(time.perf_counter() - t)

    single = TableView(frame[["f0"]])
    chart = ChartPanel(single)  # line chart of f0, downsampled (in a thread)
    chart.wait()
    line = chart.lines[0]
    scale = line.scales["x"]
    times = []
    for low in np.linspace(0, ROWS * 0.8, 8):
        t = time.perf_counter()
        with scale.hold_trait_notifications():
            scale.min, scale.max = float(low), float(low + ROWS * 0.15)
        line.get_state()  # serialise what would go to the browser
        times.append(time.perf_counter() - t)
    result[f"zoom round trip, {ROWS * 0.15 / 1e6:g}M visible (ms, median)"] = ms(statistics.median(times))
    return result


def streamlit_prepare(frame: pd.DataFrame) -> None:
    """What ``st.dataframe(frame)`` computes before it sends anything, for a frame of more than
    150,000 rows (Streamlit >= 1.67 delivers those lazily): the whole frame as an Arrow table, then
    its first page as Arrow IPC bytes. Called in-process, ``st.dataframe`` finds no runtime and
    serialises the whole frame instead, which is not what a Streamlit app does."""
    from streamlit import dataframe_util
    from streamlit.dataframe import lazy_df_source

    source = lazy_df_source.resolve_lazy_source(frame, None, is_selection_activated=False)
    dataframe_util.convert_arrow_table_to_arrow_bytes(source.load_rows(0, lazy_df_source.DEFAULT_PAGE_SIZE))


def viewer_in_kernel() -> dict:
    """Run inside a kernel: ``DataViewer(frame)`` on the app's frame, until its chart is drawn
    too, then Streamlit's preparation of the same frame and ``frame.head()``, ``VIEWER_RUNS``
    times, each in seconds. The first viewer is an app's: the first of its kernel."""
    import streamlit.dataframe.lazy_df_source  # noqa: F401  (imports are not what is measured)

    from jupyter_mlapp.data import DataViewer

    scope: dict = {}
    exec(app_frame_source(), scope)
    frame = scope["frame"]
    times: dict[str, list[float]] = {"ours": [], "ours CPU": [], "chart": [], "streamlit": [], "head": []}
    for _ in range(VIEWER_RUNS):
        gc.collect()
        start, cpu = time.perf_counter(), time.thread_time()
        viewer = DataViewer(frame)
        times["ours"].append(time.perf_counter() - start)
        times["ours CPU"].append(time.thread_time() - cpu)  # this thread's: not the chart's
        viewer.chart.wait()
        times["chart"].append(time.perf_counter() - start)
        for name, step in (("streamlit", lambda: streamlit_prepare(frame)), ("head", frame.head)):
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return times


def viewer_figures() -> None:
    """``viewer_in_kernel`` in a fresh kernel (this folder its working directory), and the table."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(Path(__file__).parent))
    printed: list[str] = []
    try:
        reply = client.execute_interactive(
            "import json, bench_data; print(json.dumps(bench_data.viewer_in_kernel()))",
            output_hook=lambda msg: printed.append(msg["content"].get("text", "")),
            timeout=1800,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the kernel failed: {reply['content'].get('evalue')}")
    times = json.loads("".join(printed).strip().splitlines()[-1])
    print(
        f"\nDataViewer of the app's frame ({ROWS:,} rows: dates, a category, 3 floats, an int) in a kernel, "
        f"{VIEWER_RUNS} runs (s)"
    )
    print(f"{'':52}{'first':>8}{'median':>8}")
    rows = (
        ("ours: DataViewer(frame) returns", "ours"),
        ("ours: ... of which the main thread's CPU", "ours CPU"),
        ("ours: ... and its chart is drawn (in a thread)", "chart"),
        ("Streamlit: st.dataframe's preparation (lazy)", "streamlit"),
        ("floor: frame.head()", "head"),
    )
    for label, key in rows:
        print(f"{label:52}{times[key][0]:8.3f}{statistics.median(times[key]):8.3f}")
    ours, peer = times["ours"][0], times["streamlit"][0]
    print(f"ratio Streamlit / ours (first): {peer / ours:.1f}x")
    met = ours <= VIEWER_TARGET
    print(f"  [{'ok' if met else 'MISSED'}] DataViewer({ROWS / 1e6:g}M x 6) <= {VIEWER_TARGET} s: {ours:.3f} s")


def main() -> None:
    print(
        f"frame: {ROWS:,} rows x {COLUMNS} float64 columns; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores (wall-clock times suffer on a shared machine: CPU times don't)"
    )
    frame = make_frame()
    size = frame.memory_usage(deep=True).sum()
    ours_build = lambda f: WindowedGrid(TableView(f))  # noqa: E731
    peer_build = StreamingDataGrid

    for build in (ours_build, peer_build):  # warm up imports and caches for both alike
        build(pd.DataFrame({"f0": [1.0, 2.0]})).close()
    ours = measure(ours_build, frame)
    ours_memory = memory(ours_build, frame)
    before = frame.copy(deep=False)
    columns_before = list(frame.columns)
    # The peer goes last: it changes the frame it is given (adds a column) and copies it.
    peer = measure(peer_build, frame)
    peer_mutated = list(frame.columns) != columns_before
    frame = before  # the peer keeps its ipydguuid column on the frame it got: measure a fresh one
    peer_memory = memory(peer_build, make_frame())

    print(f"\n{'measure':<34}{'ours':>12}{'StreamingDataGrid':>20}{'peer/ours':>12}")
    for key in ours:
        ratio = peer[key] / ours[key] if ours[key] else float("inf")
        print(f"{key:<34}{ours[key]:>12.2f}{peer[key]:>20.2f}{ratio:>11.1f}x")
    limit = size * 0.1 + 8 * ROWS
    print(
        f"{'extra memory, sorted (MB)':<34}{ours_memory / 1e6:>12.1f}{peer_memory / 1e6:>20.1f}"
        f"{peer_memory / max(ours_memory, 1):>11.1f}x"
    )
    print(f"  frame {size / 1e6:.0f} MB; our limit 10% + 8 B/row = {limit / 1e6:.0f} MB")
    print(f"  peer changed the caller's frame: {peer_mutated}; ours: never (checked by tests)")

    print()
    for key, value in chart_figures(frame).items():
        print(f"{key:<44}{value:>10.1f}")
    del frame, before
    gc.collect()
    viewer_figures()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
