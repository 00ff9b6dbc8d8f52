"""The app kernels' warm pool: pooled kernels forked from a warm template (c.MLApp.app_kernel_fork)
against plain pooled kernels (each a new process doing its own imports), same run, same machine.

  fill     server answering -> the pool full (5 kernels; the forked run includes the template's imports)
  refill   a pooled kernel taken (stopped by an admin: the pool needs one) -> the pool full again
  USS      private memory (psutil memory_full_info().uss) of the 5 pooled kernels, summed; the
           forked row adds the template's own

    python benchmarks/bench_kernels.py [--pool 5] [--refills 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import MLAppServer, make_root  # noqa: E402


def pooled(server) -> list[str]:
    kernels = server.api("GET", "appkernels").json()["kernels"]
    return [k["id"] for k in kernels if k["state"] == "pooled"]


def wait_full(server, size: int, timeout: float = 300) -> float:
    start = time.monotonic()
    while len(pooled(server)) < size:
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"the pool did not fill in {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - start


def kernel_processes(server) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """The kernels (the server's own, or its templates' children) and the templates."""
    kernels, templates = [], []
    for child in psutil.Process(server.proc.pid).children():
        line = " ".join(child.cmdline())
        if "Kernel template" in line:
            templates.append(child)
            kernels += child.children()
        elif "ipykernel_launcher" in line:
            kernels.append(child)
    return kernels, templates


def uss(processes: list[psutil.Process]) -> int:
    return sum(p.memory_full_info().uss for p in processes)


def measure(fork: bool, size: int, refills: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-kernels-"))
    args = [f"--MLApp.app_kernel_fork={fork}", f"--MLApp.app_kernel_pool_size={size}"]
    args.append(f"--MLApp.app_kernels_total={size + 1}")
    server = MLAppServer(folder / "home", make_root(folder / "root"), args=args)
    server.start()
    try:
        fill = wait_full(server, size)
        times = []
        for _ in range(refills):
            taken = pooled(server)[0]
            asked = time.monotonic()
            server.api("DELETE", f"appkernels/{taken}")
            while taken in pooled(server):  # the stop answers once the kernel is gone
                time.sleep(0.01)
            wait_full(server, size)
            times.append(time.monotonic() - asked)
        time.sleep(1)  # the last kernel's preload reply settles
        kernels, templates = kernel_processes(server)
        return {
            "fill": fill,
            "refill": statistics.median(times),
            "kernels": len(kernels),
            "uss": uss(kernels),
            "template": uss(templates),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, default=5)
    parser.add_argument("--refills", type=int, default=5)
    options = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
    plain = measure(False, options.pool, options.refills)
    forked = measure(True, options.pool, options.refills)
    mb = 2**20
    print(f"{'':8} {'fill (s)':>9} {'refill (s)':>11} {'kernels':>8} {'USS (MB)':>9} {'+template':>10}")
    for name, row in (("plain", plain), ("forked", forked)):
        print(
            f"{name:8} {row['fill']:9.2f} {row['refill']:11.3f} {row['kernels']:8d} "
            f"{row['uss'] / mb:9.0f} {row['template'] / mb:10.0f}"
        )
    print(
        f"plain / forked: refill {plain['refill'] / forked['refill']:.1f}x, "
        f"USS {plain['uss'] / (forked['uss'] + forked['template']):.1f}x (template included)"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
