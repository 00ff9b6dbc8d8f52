"""Background jobs: JobManager against plain ``subprocess`` (what a notebook does by hand), one run.

1. start-to-running: from ``start()`` to the record showing the job running with its PID
   (target <= 50 ms; the child's own start-up excluded: the child is ``sleep``). Peer: ``Popen``,
   which records nothing and does not outlive its parent's bookkeeping.
2. status listing of 200 jobs (target <= 20 ms). Peer: ``psutil.process_iter`` over this
   machine's processes, what a hand-made monitor polls.
3. 200 short jobs through a concurrency limit of 2: wall time, lost records, zombies and orphans
   left (target 0 and 0). Peer: a ``ThreadPoolExecutor(2)`` running ``subprocess.run``.
4. kill of a job that ignores SIGTERM: time until recorded killed (target <= grace + 0.5 s).

Run: ``python benchmarks/bench_jobs.py`` (``make bench``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from jupyter_mlapp.jobs import JobManager

STARTS = 30
LISTED = 200
SHORT_JOBS = 200
GRACE = 1.0


def wait_for(condition, timeout=60.0, interval=0.0005):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step did not finish in time")
        time.sleep(interval)


def bench_start(jobs: JobManager) -> tuple[float, float]:
    ours, peer = [], []
    for _ in range(STARTS):
        started = time.perf_counter()
        job = jobs.start(["sleep", "30"])
        wait_for(lambda job=job: jobs.store.get(job.id).pid is not None)
        ours.append(time.perf_counter() - started)
        jobs.kill(job.id)
        wait_for(lambda job=job: jobs.store.get(job.id).finished)

        started = time.perf_counter()
        proc = subprocess.Popen(["sleep", "30"])
        peer.append(time.perf_counter() - started)
        proc.kill()
        proc.wait()
    return statistics.median(ours) * 1000, statistics.median(peer) * 1000


def bench_listing(jobs: JobManager) -> tuple[float, float, int]:
    for i in range(LISTED - len(jobs.list())):
        jobs.start(["true"], name=f"short-{i}")
    wait_for(lambda: all(j.finished for j in jobs.list()), interval=0.05)
    running = jobs.start(["sleep", "30"], name="running")  # one live job: CPU and memory measured
    wait_for(lambda: jobs.store.get(running.id).pid is not None)
    jobs.list()
    ours = []
    for _ in range(20):
        started = time.perf_counter()
        listed = jobs.list()
        ours.append(time.perf_counter() - started)
    peer = []
    for _ in range(20):
        started = time.perf_counter()
        [p.info for p in psutil.process_iter(["pid", "name", "cpu_percent", "memory_info", "status"])]
        peer.append(time.perf_counter() - started)
    jobs.kill(running.id)
    wait_for(lambda: jobs.store.get(running.id).finished)
    return statistics.median(ours) * 1000, statistics.median(peer) * 1000, len(listed)


def leftovers(marker: str) -> tuple[int, int]:
    """Zombies among our descendants, and live processes of the benchmark's jobs or supervisors."""
    me = psutil.Process()
    zombies = sum(1 for p in me.children(recursive=True) if p.status() == psutil.STATUS_ZOMBIE)
    orphans = 0
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            if (
                marker in " ".join(process.info["cmdline"] or [])
                or (process.info["environ"] or {}).get("BENCH_MARKER") == marker
            ):
                orphans += 1
        except psutil.Error:
            pass
    return zombies, orphans


def bench_short_jobs(home: Path, marker: str) -> tuple[float, float, int, int, int]:
    jobs = JobManager(home=home, user="bench", limit=2)
    command = ["sh", "-c", "exit 0"]
    started = time.perf_counter()
    ids = [jobs.start(command, env={"BENCH_MARKER": marker}).id for _ in range(SHORT_JOBS)]
    wait_for(lambda: all(jobs.store.get(i).finished for i in ids), timeout=150, interval=0.02)
    ours = time.perf_counter() - started
    records = [jobs.store.get(i) for i in ids]
    lost = sum(r is None or r.state != "succeeded" for r in records)
    wait_for(lambda: leftovers(marker) == (0, 0), timeout=10, interval=0.05)  # supervisors exit after the queue
    zombies, orphans = leftovers(marker)

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: subprocess.run(command, check=True), range(SHORT_JOBS)))
    peer = time.perf_counter() - started
    return ours, peer, lost, zombies, orphans


def bench_kill(jobs: JobManager) -> float:
    job = jobs.start(
        [
            sys.executable,
            "-c",
            "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('ready', flush=True)\ntime.sleep(300)",
        ]
    )
    wait_for(lambda: "ready" in jobs.read_log(job.id).text, interval=0.01)
    started = time.perf_counter()
    jobs.kill(job.id)
    wait_for(lambda: jobs.store.get(job.id).finished)
    assert jobs.get(job.id).signal == "SIGKILL"
    return time.perf_counter() - started


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        home = Path(tmp)
        jobs = JobManager(home=home / "a", user="bench", limit=4, grace=GRACE)
        start_ours, start_peer = bench_start(jobs)
        list_ours, list_peer, listed = bench_listing(jobs)
        marker = f"bench-{os.getpid()}"
        short_ours, short_peer, lost, zombies, orphans = bench_short_jobs(home / "b", marker)
        kill = bench_kill(jobs)

    rows = [
        (
            "start -> running recorded (median, ms)",
            f"{start_ours:.1f}",
            f"{start_peer:.1f} (Popen)",
            f"{start_ours / start_peer:.1f}x",
            "<= 50",
            start_ours <= 50,
        ),
        (
            f"list {listed} jobs (median, ms)",
            f"{list_ours:.1f}",
            f"{list_peer:.1f} (psutil scan)",
            f"{list_ours / list_peer:.2f}x",
            "<= 20",
            list_ours <= 20,
        ),
        (
            f"{SHORT_JOBS} short jobs, limit 2 (s)",
            f"{short_ours:.2f}",
            f"{short_peer:.2f} (pool of 2)",
            f"{short_ours / short_peer:.2f}x",
            "",
            True,
        ),
        (
            "  lost records / zombies / orphans",
            f"{lost} / {zombies} / {orphans}",
            "",
            "",
            "0 / 0 / 0",
            lost == zombies == orphans == 0,
        ),
        (
            f"kill, SIGTERM ignored, grace {GRACE:g} s (s)",
            f"{kill:.2f}",
            "",
            "",
            f"<= {GRACE + 0.5:g}",
            kill <= GRACE + 0.5,
        ),
    ]
    widths = [
        max(len(str(row[i])) for row in [*rows, ("measure", "ours", "peer", "ratio", "target", "")]) for i in range(5)
    ]
    header = ("measure", "ours", "peer", "ratio", "target")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)) + "  ok")
    for row in rows:
        cells = "  ".join(str(v).ljust(w) for v, w in zip(row[:5], widths, strict=False))
        print(cells + ("  yes" if row[5] else "  NO"))
    print(f"(machine load: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
