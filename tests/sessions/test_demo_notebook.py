"""The shipped session demo shows an autosaved run name as text: a stored name that is markup
(``<img onerror=...>``) never becomes HTML in the page (a stored self-XSS before)."""

from __future__ import annotations

import json

from harness import REPO

HOSTILE = "<img src=x onerror=alert(document.domain)>"


def run_notebook(path):
    """Execute the notebook's code cells as a kernel would (its last expression is the page)."""
    namespace: dict = {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), str(path), "exec"), namespace)
    return namespace


def test_the_autosaved_run_name_is_shown_escaped(mlapp_home):
    first = run_notebook(REPO / "notebooks" / "session_demo.ipynb")
    first["run_name"].value = HOSTILE  # typed in the page, autosaved
    assert "&lt;img src=x onerror=alert(document.domain)&gt;" in first["summary"].value
    first["state"].autosave()
    reloaded = run_notebook(REPO / "notebooks" / "session_demo.ipynb")  # the next visit restores it
    assert reloaded["state"].get("run_name") == HOSTILE
    assert "<img" not in reloaded["summary"].value and "&lt;img" in reloaded["summary"].value
