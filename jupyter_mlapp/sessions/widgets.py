"""``SessionBar``: save, list, load, rename and delete snapshots of an ``AppState`` from any app."""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..errors import Conflict, InvalidInput, MLAppError
from ..formatting import format_size
from ..integrations.ipywidgets import on_enter
from ..stylesheet import stylesheet
from .state import AppState


class SessionBar(widgets.VBox):
    """A bar for any app: a name box with Save, a New session button, a table of snapshots with
    Load, Rename (to the name in the box) and Delete, and a message for each action. Deleting a
    snapshot, or saving over one, takes a second click."""

    def __init__(self, state: AppState, **kwargs):
        self.state = state
        self.name = widgets.Text(placeholder="snapshot name", layout=widgets.Layout(width="16em"))
        self.name.add_class("mlapp-snapshot-name-input")
        self.save_button = widgets.Button(description="Save snapshot", icon="save", button_style="primary")
        self.new_button = widgets.Button(description="New session", icon="file")
        self._armed: tuple[str, str] | None = None  # ("delete" | "replace", name) awaiting a second click
        self.message = widgets.HTML()
        self.message.add_class("mlapp-session-message")
        self.table = widgets.GridBox(layout=widgets.Layout(grid_gap="2px 12px", align_items="center"))
        self.table.add_class("mlapp-snapshots")
        self.save_button.on_click(lambda _: self._act(self._save))
        on_enter(self.name, lambda: self._act(self._save))
        self.new_button.on_click(lambda _: self._act(self._new))
        super().__init__(
            [stylesheet(), widgets.HBox([self.name, self.save_button, self.new_button]), self.message, self.table],
            **kwargs,
        )
        self.add_class("mlapp-session-bar")
        self.refresh()
        if state.message:
            self.show(state.message, ok=not state.warnings)
        state.on_autosave_error(lambda message: self.show(message, ok=False))

    def show(self, text: str, ok: bool = True) -> None:
        kind = "ok" if ok else "error"
        self.message.value = f'<div class="mlapp-message-{kind}">{html.escape(text)}</div>'

    def _act(self, action, *args) -> None:
        """Run a user action: its result or its error as a message, never a traceback."""
        # A pending confirmation holds for the very next click only.
        armed, self._armed = self._armed, None
        try:
            text = action(*args, armed=armed)
        except MLAppError as exc:
            self.show(str(exc), ok=False)
        except Exception as exc:  # a disk error: say what happened, keep the app alive
            self.show(f"{type(exc).__name__}: {exc}", ok=False)
        else:
            self.show(text)
        self.refresh()

    def _save(self, armed=None) -> str:
        name = self.name.value.strip()
        try:
            info = self.state.save_snapshot(name, overwrite=armed == ("replace", name))
        except Conflict:
            self._armed = ("replace", name)
            raise Conflict(f"A snapshot named {name!r} exists: press Save snapshot again to replace it.") from None
        self.name.value = ""
        return f"Saved snapshot {info['name']!r} ({info['summary']})."

    def _new(self, armed=None) -> str:
        self.state.new_session()
        return "Started a new session: the app is back to its defaults (snapshots are kept)."

    def _load(self, name: str, armed=None) -> str:
        self.state.load_snapshot(name)
        return self.state.message

    def _rename(self, name: str, armed=None) -> str:
        if not self.name.value.strip():
            raise InvalidInput(f"Type the new name for {name!r} in the name box, then press Rename.")
        info = self.state.rename_snapshot(name, self.name.value.strip())
        self.name.value = ""
        return f"Renamed snapshot {name!r} to {info['name']!r}."

    def _delete(self, name: str, armed=None) -> str:
        if armed != ("delete", name):  # deleting cannot be undone: ask for a second click
            self._armed = ("delete", name)
            return f"Press Confirm delete to delete snapshot {name!r} for good."
        self.state.delete_snapshot(name)
        return f"Deleted snapshot {name!r}."

    def refresh(self) -> None:
        """Rebuild the table from disk (another tab may have saved or deleted snapshots)."""
        cells = [self._head(t) for t in ("Name", "Saved", "Size", "Summary", "")]
        try:
            snapshots = self.state.snapshots()
        except MLAppError as exc:
            self.show(str(exc), ok=False)
            snapshots = []
        for snap in snapshots:
            name = snap["name"]
            label = widgets.Label(name)
            label.add_class("mlapp-snapshot-name")
            buttons = []
            confirm = self._armed == ("delete", name)
            for text, action, style in (
                ("Load", self._load, "success"),
                ("Rename", self._rename, ""),
                ("Delete", self._delete, "danger"),
            ):
                label_text = "Confirm delete" if text == "Delete" and confirm else text
                tooltip = f"{text} snapshot {name!r}" + (" to the name in the box" if text == "Rename" else "")
                button = widgets.Button(
                    description=label_text, button_style=style, tooltip=tooltip, layout=widgets.Layout(width="auto")
                )
                button.on_click(lambda _, action=action, name=name: self._act(action, name))
                buttons.append(button)
            row = [
                label,
                widgets.Label(snap["created"].replace("T", " ")[:16] + " UTC"),
                widgets.Label(format_size(snap["size"])),
                widgets.Label(snap["summary"]),
                widgets.HBox(buttons),
            ]
            for cell in row:
                cell.add_class("mlapp-snapshot-cell")
            row[-1].add_class("mlapp-snapshot-row")
            cells += row
        if not snapshots:
            cells.append(self._head("No snapshots yet: type a name and press Save snapshot."))
        self.table.children = cells

    @staticmethod
    def _head(text: str):
        label = widgets.Label(text)
        label.add_class("mlapp-head")
        return label
