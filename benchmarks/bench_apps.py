"""The flagship app in Chromium: open (signed in) -> first page interactive, and reload -> the
restored page interactive, against plain Voila rendering a notebook with the same imports.

Each run is a fresh navigation (a new kernel, as Voila starts one per page load). "Interactive"
means the page's widgets are drawn by the widget manager, which happens once the kernel's comms
are connected, so a click is served. The split says where the time goes:
  server   request -> last byte of the HTML: Voila starts a kernel and executes the notebook
  browser  last byte -> widgets drawn: Voila's JavaScript loads, connects to the kernel, renders

    python benchmarks/bench_apps.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import MLAppServer, make_root  # noqa: E402

USER, PASSWORD = "bench", "bench-password-1"
APP = "notebooks/ml_app.ipynb"
PEER = "notebooks/peer_same_imports.ipynb"
FLOOR = "notebooks/peer_no_imports.ipynb"
# The modules the flagship imports for its first page (the app shell, the data viewer) and for
# the others, so the peer pays the same import bill without our shell, state or pages.
IMPORTS = """\
import jupyter_mlapp.apps, jupyter_mlapp.sessions, jupyter_mlapp.files.widgets
from jupyter_mlapp.data import DataViewer
"""
# The floor: Voila with one widget and no imports of ours (kernel start, Voila's page and JS).
READY = """\
import ipywidgets as widgets
ready = widgets.Button(description="ready")
ready.add_class("peer-ready")
ready
"""


def write_notebook(path: Path, source: str) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


def timed_load(page, action, selector: str) -> dict:
    start = time.perf_counter()
    action()
    try:
        page.wait_for_selector(selector, state="visible", timeout=180_000)
    except Exception:
        (REPO / "test-results").mkdir(exist_ok=True)
        page.screenshot(path=str(REPO / "test-results" / "bench-apps-timeout.png"), full_page=True)
        raise
    total = time.perf_counter() - start
    nav = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
    server = json.loads(nav)["responseEnd"] / 1000
    return {"total": total, "server": server, "browser": max(total - server, 0.0)}


def summary(samples: list[dict]) -> dict:
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from jupyter_mlapp.auth.store import UserStore

    home = Path(tempfile.mkdtemp(prefix="bench-apps-home-"))
    root = make_root(Path(tempfile.mkdtemp(prefix="bench-apps-root-")))
    write_notebook(root / PEER, IMPORTS + READY)
    write_notebook(root / FLOOR, READY)
    UserStore(home).add(USER, PASSWORD, "editor")
    server = MLAppServer(home, root).start()
    strangers = 0  # reloads served to another user than the one who signed in
    results: dict[str, list[dict]] = {
        k: [] for k in ("app open", "app reload", "peer open", "peer reload", "no imports open")
    }
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"], headless=True
            )
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            app_url = f"{server.url}/voila/render/{APP}"
            peer_url = f"{server.url}/voila/render/{PEER}"
            floor_url = f"{server.url}/voila/render/{FLOOR}"
            # Sign in once, as a user does, straight into the app (warm-up: first imports from a
            # cold disk cache); every measured load then carries the login cookie. A finished
            # training job makes the reload restore the Monitor page with a history to draw.
            page.goto(f"{server.url}/login?next={quote(f'/voila/render/{APP}?page=Train')}")
            page.fill("#username", USER)
            page.fill("#password", PASSWORD)
            page.press("#password", "Enter")
            page.wait_for_selector(".mlapp-nav-current", timeout=180_000)
            page.get_by_role("button", name="Start training").click()
            page.wait_for_selector(".mlapp-training-monitor", timeout=60_000)
            page.wait_for_selector(".mlapp-training-monitor :text('succeeded')", timeout=120_000)
            page.goto(peer_url)
            page.wait_for_selector(".peer-ready", timeout=180_000)

            for _ in range(args.runs):
                page.goto("about:blank")
                results["peer open"].append(timed_load(page, lambda: page.goto(peer_url), ".peer-ready"))
                results["peer reload"].append(timed_load(page, page.reload, ".peer-ready"))
                page.goto("about:blank")
                results["no imports open"].append(timed_load(page, lambda: page.goto(floor_url), ".peer-ready"))
                page.goto("about:blank")
                results["app open"].append(
                    timed_load(page, lambda: page.goto(f"{app_url}?page=Data"), ".mlapp-nav-current")
                )
                page.get_by_role("button", name="Monitor", exact=True).click()
                page.wait_for_url("**page=Monitor**")
                # Restored: the Monitor page with the job's history parsed and summarised (or,
                # served as another user, that user's empty Monitor).
                sample = timed_load(
                    page,
                    page.reload,
                    ".mlapp-training-summary:has-text('val_accuracy'), .mlapp-app-content .mlapp-note",
                )
                if USER in page.locator(".mlapp-app-user").inner_text():
                    results["app reload"].append(sample)
                else:
                    strangers += 1
            browser.close()
    finally:
        server.stop()

    if not results["app reload"]:
        print(f"every one of the {args.runs} reloads was served as another user than {USER}: no figure")
        return 1
    rows = {name: summary(samples) for name, samples in results.items()}
    print(f"Flagship app vs plain Voila with the same imports ({args.runs} runs, medians, seconds)")
    print(f"{'':16}{'total':>8}{'server':>9}{'browser':>9}")
    for name, row in rows.items():
        print(f"{name:16}{row['total']:8.2f}{row['server']:9.2f}{row['browser']:9.2f}")
    print(f"ratio open   (app / peer): {rows['app open']['total'] / rows['peer open']['total']:.2f}")
    print(f"ratio reload (app / peer): {rows['app reload']['total'] / rows['peer reload']['total']:.2f}")
    floor, peer, app = rows["no imports open"]["total"], rows["peer open"]["total"], rows["app open"]["total"]
    print(
        f"where the open goes: Voila itself (kernel start, page, JS, one widget) {floor:.2f} s; "
        f"importing pandas, bqplot, ipydatagrid and our modules +{peer - floor:.2f} s; "
        f"the app (state load, shell, Data page) {app - peer:+.2f} s"
    )
    if strangers:
        print(
            f"WARNING: {strangers} of {args.runs} reloads were served as another user than {USER} "
            f"(another user's state); left out of the figures above"
        )
    print(
        "server = kernel start + notebook execution (Voila sends the page when the notebook has run); "
        "browser = Voila's JavaScript, kernel connection, widget rendering."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
