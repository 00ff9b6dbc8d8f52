"""The Enter key of a text field reaches our callback through ipywidgets' own message protocol."""

from __future__ import annotations

import warnings

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import Text

from jupyter_mlapp.integrations import ipywidgets as ours
from jupyter_mlapp.integrations.ipywidgets import on_enter

from .upstream import assert_written_for


def send_from_front_end(widget: widgets.Widget, content: dict) -> None:
    """What the comm delivers when the browser's view calls ``this.send(content)``."""
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def test_enter_calls_the_callback_once_and_nothing_else_does():
    text = widgets.Text()
    calls = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecated API on the way
        on_enter(text, lambda: calls.append(text.value))
    text.value = "typed"  # typing (or leaving the field) is not Enter
    send_from_front_end(text, {"event": "other"})
    assert calls == []
    send_from_front_end(text, {"event": "submit"})
    assert calls == ["typed"]


def test_upstream_still_names_enter_submit():
    # The view's Enter message is the one ipywidgets' own (deprecated) on_submit listens to; if upstream
    # renames it, on_submit's dispatcher moves with it and this check fails before users do.
    assert "submit" in Text._handle_string_msg.__code__.co_consts


def test_installed_ipywidgets_is_the_one_on_enter_was_written_for():
    assert_written_for(ours)
