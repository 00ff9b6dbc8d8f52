"""SessionBar driven as a user would (its buttons), on a real AppState and real files."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from jupyter_mlapp.sessions import AppState, SessionBar
from jupyter_mlapp.sessions.store import app_folder


@pytest.fixture
def state(mlapp_home):
    state = AppState("bar", user="alice")
    yield state
    state.close()


def rows(bar: SessionBar) -> list[str]:
    return [cell.value for cell in bar.table.children if "mlapp-snapshot-name" in cell._dom_classes]


def button(bar: SessionBar, action: str, name: str) -> widgets.Button:
    (found,) = [
        b
        for cell in bar.table.children
        if isinstance(cell, widgets.HBox)
        for b in cell.children
        if b.tooltip.startswith(f"{action} snapshot {name!r}")
    ]
    return found


def test_save_load_rename_delete_with_a_message_for_each(state):
    slider = state.link(widgets.IntSlider(value=1), "value", "n")
    bar = SessionBar(state)
    assert rows(bar) == [] and "No snapshots yet" in str([c.value for c in bar.table.children])

    bar.save_button.click()
    assert "mlapp-message-error" in bar.message.value and "snapshot name is empty" in bar.message.value

    slider.value = 5
    bar.name.value = "five"
    bar.save_button.click()
    assert "Saved snapshot &#x27;five&#x27; (1 value: n=5)" in bar.message.value
    assert rows(bar) == ["five"] and bar.name.value == ""

    slider.value = 9
    button(bar, "Load", "five").click()
    assert slider.value == 5 and "Loaded snapshot" in bar.message.value

    button(bar, "Rename", "five").click()
    assert "Type the new name for &#x27;five&#x27;" in bar.message.value
    bar.name.value = "renamed"
    button(bar, "Rename", "five").click()
    assert rows(bar) == ["renamed"] and "Renamed snapshot" in bar.message.value

    bar.name.value = "renamed"
    bar.save_button.click()
    assert "exists: press Save snapshot again to replace it" in bar.message.value
    slider.value = 6
    bar.name.value = "renamed"
    bar.save_button.click()
    assert "Saved snapshot &#x27;renamed&#x27; (1 value: n=6)" in bar.message.value

    button(bar, "Delete", "renamed").click()
    assert "Press Confirm delete" in bar.message.value and rows(bar) == ["renamed"]
    assert button(bar, "Delete", "renamed").description == "Confirm delete"
    button(bar, "Load", "renamed").click()  # any other click disarms it
    assert button(bar, "Delete", "renamed").description == "Delete" and slider.value == 6

    state.delete_snapshot("renamed")  # another tab deleted it meanwhile
    button(bar, "Load", "renamed").click()
    assert "no snapshot named &#x27;renamed&#x27;" in bar.message.value and "mlapp-message-error" in bar.message.value
    assert rows(bar) == [] and slider.value == 6  # the table caught up; the state is untouched

    bar.new_button.click()
    assert slider.value == 1 and "Started a new session" in bar.message.value

    bar.name.value = "gone"
    bar.save_button.click()
    button(bar, "Delete", "gone").click()
    button(bar, "Delete", "gone").click()
    assert rows(bar) == [] and "Deleted snapshot &#x27;gone&#x27;" in bar.message.value


def test_a_damaged_state_is_reported_in_the_bar(mlapp_home):
    folder = app_folder("alice", "bar", mlapp_home)
    folder.mkdir(parents=True)
    (folder / "state.db").write_bytes(b"not a database at all" * 10)
    state = AppState("bar", user="alice")
    try:
        bar = SessionBar(state)
        assert "mlapp-message-error" in bar.message.value and "set aside" in bar.message.value
    finally:
        state.close()


def test_names_are_escaped_in_the_page(state):
    bar = SessionBar(state)
    bar.name.value = "<img src=x onerror=alert(1)>"
    bar.save_button.click()
    assert "<img" not in bar.message.value and "&lt;img" in bar.message.value


def test_a_value_that_cannot_be_saved_is_reported_and_the_rest_is_saved(state):
    import pandas as pd

    bar = SessionBar(state)
    state["mixed"] = pd.DataFrame({"a": [1, "text"]})  # Parquet needs one type per column
    state["fine"] = 1
    state.autosave()
    assert "&#x27;mixed&#x27; was not saved" in bar.message.value and "mlapp-message-error" in bar.message.value
    assert state.last_error and "mixed" in state.last_error
    state.close()
    reopened = AppState("bar", user="alice")
    assert dict(reopened) == {"fine": 1}
    reopened.close()
