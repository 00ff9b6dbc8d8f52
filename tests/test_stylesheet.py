"""One stylesheet for the panels, on JupyterLab's CSS variables (so Voila's light and dark themes apply)."""

from __future__ import annotations

import re
from pathlib import Path

from jupyter_mlapp.stylesheet import CSS, stylesheet

PACKAGE = Path(__file__).parents[1] / "jupyter_mlapp"


def test_no_module_writes_a_style_block_of_its_own():
    writers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "<style" in path.read_text() and path.name != "stylesheet.py"
    ]
    assert writers == []


def test_every_panel_colour_is_a_jupyterlab_variable_with_a_fallback():
    panels = CSS.split("/* -- the App shell")[0]  # the shell sets its own variables with light-dark()
    # A registered property's initial value must be a plain colour (CSS allows no var() there); the
    # rules then set those properties from JupyterLab's variables.
    panels = re.sub(r"@property[^{]*\{[^}]*\}", "", panels)
    bare = re.sub(r"var\(--jp-[a-z0-9-]+, #[0-9a-fA-F]{3,6}\)", "", panels)
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b", bare) == []


def test_the_widget_holds_the_stylesheet():
    assert stylesheet().value == f"<style>{CSS}</style>"
