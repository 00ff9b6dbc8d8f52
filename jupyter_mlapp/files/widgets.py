"""``FileExplorer``: a tree of the workspace with create, rename, delete, upload and download.

Everything goes through the kernel's ``FileManager`` (never the browser's own disk), so it works
the same on a remote server and cannot leave its root. Downloads and "open in a new tab" go
through Jupyter's authenticated ``/files/`` URL when the kernel runs under the server (which
hands it ``$MLAPP_BASE_URL``), else through a data URL built in the kernel.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import os
import time

import ipywidgets as widgets
from traitlets import Unicode

from .. import current_role
from ..errors import MLAppError
from ..formatting import format_size
from ..integrations.ipywidgets import on_enter
from ..stylesheet import stylesheet
from .manager import FileManager, check_name
from .urls import files_url

MAX_ROWS = 200  # rows per folder: more would make the page slow to draw; the rest are counted
DATA_URL_LIMIT = 5 * 1024 * 1024  # a data URL travels in the widget's state: keep it small


def _download_link(href: str, name: str) -> str:
    return (
        f"<a class='jupyter-button mlapp-download' href='{html.escape(href)}' download='{html.escape(name)}'>"
        "<i class='fa fa-download'></i>Download</a>"
    )


class FileExplorer(widgets.VBox):
    """A file explorer widget: ``FileExplorer()`` shows the app's workspace (or the current
    user's folder in it), ``FileExplorer(root)`` any folder. ``explorer.selected`` is the
    selected path, relative to the root (``""`` when nothing is selected); observe it to react.
    ``read_only`` (default: for viewers) leaves browsing, opening and downloading only.
    """

    selected = Unicode("", help="the selected file or folder, relative to the root")
    folder = Unicode("", help="the folder shown (breadcrumbs), relative to the root")

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        manager: FileManager | None = None,
        read_only: bool | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.add_class("mlapp-files")
        self.manager = manager or FileManager(root)
        # Viewers browse and download; changing the workspace is for editors and admins.
        self.read_only = current_role() == "viewer" if read_only is None else read_only
        self._expanded: set[str] = set()
        self._rows: dict[str, widgets.HBox] = {}
        self._pending = None  # the action waiting for a name or a confirmation

        def button(label, icon, tip, handler, style=""):
            b = widgets.Button(description=label, icon=icon, tooltip=tip, button_style=style)
            b.on_click(lambda _: self._guard(handler))
            return b

        self.new_folder_button = button(
            "New folder", "folder", "Create a folder here", lambda: self._ask_new("folder", self.manager.mkdir)
        )
        self.new_file_button = button(
            "New file", "file", "Create an empty file here", lambda: self._ask_new("file", self.manager.create)
        )
        self.rename_button = button("Rename", "edit", "Rename or move the selected entry", self._ask_rename)
        self.delete_button = button("Delete", "trash", "Delete the selected entry", self._ask_delete)
        self.refresh_button = button("", "refresh", "Reload from disk", self.refresh)
        self.upload = widgets.FileUpload(multiple=True, description="Upload", tooltip="Upload files into this folder")
        self._emptying = False  # the explorer itself empties the uploaded files' content
        self.upload.observe(lambda _: self._guard(self._on_upload), "value")
        changes = [self.new_folder_button, self.new_file_button, self.rename_button, self.delete_button, self.upload]
        toolbar = widgets.HBox([*([] if self.read_only else changes), self.refresh_button])
        toolbar.add_class("mlapp-files-toolbar")

        self.crumbs = widgets.HBox()
        self.crumbs.add_class("mlapp-crumbs")
        self.prompt_text = widgets.Text(placeholder="name", layout=widgets.Layout(width="320px"))
        on_enter(self.prompt_text, lambda: self._guard(self._confirm))
        self.prompt_label = widgets.HTML()
        self.confirm_button = button("OK", "check", "Confirm", self._confirm, "primary")
        self.cancel_button = button("Cancel", "", "Cancel", self._cancel)
        self.prompt = widgets.HBox(
            [self.prompt_label, self.prompt_text, self.confirm_button, self.cancel_button],
            layout=widgets.Layout(display="none", align_items="center"),
        )
        self.prompt.add_class("mlapp-files-prompt")
        self.message = widgets.HTML()
        self.message.add_class("mlapp-files-message")
        self.tree = widgets.VBox()
        self.tree.add_class("mlapp-files-tree")
        self.details = widgets.HTML()
        self.details.add_class("mlapp-files-details")
        self.children = [stylesheet(), toolbar, self.crumbs, self.prompt, self.message, self.tree, self.details]
        self.observe(self._on_folder, "folder")
        self.observe(self._on_selected, "selected")
        self.refresh()

    # -- public ------------------------------------------------------------------------------
    @property
    def selected_path(self):
        """The selected entry as an absolute ``Path`` (None when nothing is selected)."""
        return self.manager.resolve(self.selected) if self.selected else None

    def refresh(self) -> None:
        """Redraw from disk: the folder shown, its expanded sub-folders, sizes and times."""
        try:
            self.manager.resolve(self.folder)
        except MLAppError:
            self.folder = ""  # the folder shown went away (deleted elsewhere): back to the root
            return  # (the change of folder redraws)
        self._rows = {}
        self.tree.children = self._rows_of(self.folder, 0) or [self._note("This folder is empty.")]
        if self.selected and not self._exists(self.selected):
            self.selected = ""
        self._draw_crumbs()
        self._on_selected()

    def open_folder(self, path: str) -> None:
        """Show the folder ``path`` (as a click on its breadcrumb would)."""
        entry = self.manager.stat(path)
        if entry["type"] != "folder":
            raise MLAppError(f"{entry['path']!r} is not a folder")
        self.folder = entry["path"]

    # -- drawing -----------------------------------------------------------------------------
    def _rows_of(self, folder: str, depth: int) -> list:
        entries = self.manager.list(folder)
        rows = []
        for entry in entries[:MAX_ROWS]:
            rows.append(self._row(entry, depth))
            if entry["type"] == "folder" and entry["path"] in self._expanded:
                rows.extend(self._rows_of(entry["path"], depth + 1))
        if len(entries) > MAX_ROWS:
            rows.append(self._note(f"… and {len(entries) - MAX_ROWS} more (open the folder to narrow it down)", depth))
        return rows

    def _note(self, text: str, depth: int = 0) -> widgets.HTML:
        return widgets.HTML(
            f"<i class='mlapp-files-note' style='padding-left:{8 + 20 * depth}px'>{html.escape(text)}</i>"
        )

    def _row(self, entry: dict, depth: int) -> widgets.HBox:
        path, folder = entry["path"], entry["type"] == "folder"
        toggle = widgets.Button(
            icon=("caret-down" if path in self._expanded else "caret-right") if folder else "",
            tooltip="Expand" if folder else "",
            disabled=not folder,
        )
        toggle.add_class("mlapp-file-toggle")
        if folder:
            toggle.on_click(lambda _: self._guard(self._toggle, path))
        name = widgets.Button(
            description=entry["name"],
            icon="folder" if folder else "file-o",
            tooltip=path + (" (click again to open)" if folder else ""),
        )
        name.add_class("mlapp-file-name")
        name.on_click(lambda _: self._guard(self._click, entry))
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry["mtime"]))
        meta = widgets.HTML(
            f"<span class='mlapp-size'>{'' if folder else format_size(entry['size'])}</span><span>{when}</span>"
        )
        meta.add_class("mlapp-file-meta")
        row = widgets.HBox([toggle, name, meta], layout=widgets.Layout(padding=f"0 0 0 {20 * depth}px"))
        row.add_class("mlapp-file-row")
        row.add_class(f"mlapp-{entry['type']}")
        self._rows[path] = row
        return row

    def _draw_crumbs(self) -> None:
        parts = self.folder.split("/") if self.folder else []
        crumbs = []
        for i, label in enumerate(["Workspace", *parts]):
            target = "/".join(parts[:i])
            crumb = widgets.Button(
                description=label, icon="home" if i == 0 else "", tooltip=f"Open {target or str(self.manager.root)}"
            )
            crumb.add_class("mlapp-crumb")
            crumb.on_click(lambda _, t=target: self._guard(self.open_folder, t))
            if i:
                sep = widgets.HTML("<span class='mlapp-crumb-sep'>/</span>")
                crumbs.append(sep)
            crumbs.append(crumb)
        self.crumbs.children = crumbs

    # -- events ------------------------------------------------------------------------------
    def _guard(self, action, *args) -> None:
        """Run a user action; an expected failure becomes a message, never a traceback."""
        try:
            action(*args)
        except MLAppError as exc:
            self._say(str(exc), error=True)
        except OSError as exc:
            self._say(f"the file system refused: {exc.strerror or exc}", error=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.value = html.escape(text)
        self.message.remove_class("mlapp-ok" if error else "mlapp-error")
        self.message.add_class("mlapp-error" if error else "mlapp-ok")

    def _exists(self, path: str) -> bool:
        try:
            self.manager.resolve(path)
            return True
        except MLAppError:
            return False

    def _reveal(self, path: str) -> None:
        """Expand the folders above ``path`` so that its row shows."""
        parts = path.split("/")[:-1]
        self._expanded.update("/".join(parts[: i + 1]) for i in range(len(parts)))

    def _toggle(self, path: str) -> None:
        self._expanded ^= {path}
        self.refresh()

    def _click(self, entry: dict) -> None:
        if entry["type"] == "folder" and self.selected == entry["path"]:
            self.open_folder(entry["path"])  # a second click opens the folder
        else:
            self.selected = entry["path"]

    def _on_folder(self, change) -> None:
        prefix = f"{self.folder}/" if self.folder else ""
        self._expanded = {p for p in self._expanded if p.startswith(prefix)}
        self.refresh()

    def _on_selected(self, change=None) -> None:
        for path, row in self._rows.items():
            (row.add_class if path == self.selected else row.remove_class)("mlapp-selected")
        self.rename_button.disabled = self.delete_button.disabled = not self.selected
        self.details.value = self._details()

    def _details(self) -> str:
        if not self.selected:
            return ""
        try:
            entry = self.manager.stat(self.selected)
        except MLAppError:
            return ""
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry["mtime"]))
        parts = [
            f"<b>{html.escape(entry['path'])}</b>",
            format_size(entry["size"]) if entry["size"] is not None else "folder",
            when,
        ]
        links = []
        if entry["type"] == "file":
            # A viewer's browser reads /files/ only for what their apps declare public (apps/enforce.py):
            # what the kernel shows them travels in the widget, as a data URL.
            url = files_url(self.manager.root / entry["path"]) if current_role() != "viewer" else None
            if url:
                links.append(
                    f"<a class='jupyter-button mlapp-open' href='{html.escape(url)}' target='_blank' rel='noopener'>"
                    "<i class='fa fa-external-link'></i>Open in new tab</a>"
                )
                links.append(
                    _download_link(files_url(self.manager.root / entry["path"], download=True) or url, entry["name"])
                )
            elif entry["size"] <= DATA_URL_LIMIT:
                links.append(self._data_link(entry))
            else:
                links.append(f"<i>too large to download here ({format_size(entry['size'])})</i>")
        return " · ".join(parts) + ("<br>" + "".join(links) if links else "")

    def _data_link(self, entry: dict) -> str:
        data = base64.b64encode(self.manager.download(entry["path"], max_bytes=DATA_URL_LIMIT)).decode()
        mime = mimetypes.guess_type(entry["name"])[0] or "application/octet-stream"
        return _download_link(f"data:{mime};base64,{data}", entry["name"])

    # -- actions -----------------------------------------------------------------------------
    def _target_folder(self) -> str:
        """Where new entries go: the selected folder, the selected file's folder, else the one shown."""
        if self.selected:
            entry = self.manager.stat(self.selected)
            return entry["path"] if entry["type"] == "folder" else entry["path"].rpartition("/")[0]
        return self.folder

    def _ask(self, label: str, value: str, action, confirm: str = "OK", danger: bool = False, text: bool = True):
        if self.read_only:
            raise MLAppError("this file explorer is read-only")
        self._pending = action
        self.prompt_label.value = label
        self.prompt_text.value = value
        self.prompt_text.layout.display = None if text else "none"
        self.confirm_button.description = confirm
        self.confirm_button.button_style = "danger" if danger else "primary"
        self.prompt.layout.display = "flex"
        self.message.value = ""

    def _ask_new(self, kind: str, make) -> None:
        where = self._target_folder()
        self._ask(
            f"New {kind} in <b>{html.escape(where or '/')}</b>:",
            "",
            lambda name: self._show_entry(
                make(self._join(where, check_name(name, f"{kind} name"))), f"Created the {kind}"
            ),
            "Create",
        )

    def _ask_rename(self) -> None:
        old = self.selected
        self._ask(f"Rename <b>{html.escape(old)}</b> to:", old, lambda new: self._rename(old, new), "Rename")

    def _rename(self, old: str, new: str) -> None:
        if self.manager.normalize(new) == old:  # confirmed unchanged: nothing to do, nothing "exists"
            self._say(f"{old} keeps its name: nothing renamed")
            return
        self._show_entry(self.manager.rename(old, new), f"Renamed {old} to")

    def _show_entry(self, entry: dict, done: str) -> None:
        """After a change: show the entry (its folders expanded), select it, say what happened."""
        self._reveal(entry["path"])
        self.refresh()
        self.selected = entry["path"]
        self._say(f"{done} {entry['path']}")

    def _ask_delete(self) -> None:
        path = self.selected
        entry = self.manager.stat(path)
        if entry["type"] == "folder":
            count = len(os.listdir(self.manager.resolve(path)))
            what = (
                f"the folder <b>{html.escape(path)}</b> and everything in it ({count} "
                f"{'entry' if count == 1 else 'entries'})"
                if count
                else f"the empty folder <b>{html.escape(path)}</b>"
            )
        else:
            what = f"the file <b>{html.escape(path)}</b> ({format_size(entry['size'])})"
        self._ask(
            f"Delete {what}? This cannot be undone.",
            "",
            lambda _: self._delete(path),
            "Delete",
            danger=True,
            text=False,
        )

    def _delete(self, path: str) -> None:
        self.manager.delete(path, recursive=True)  # the user confirmed, having been told what is inside
        self.selected = ""
        self.refresh()
        self._say(f"Deleted {path}")

    def _confirm(self) -> None:
        action, value = self._pending, self.prompt_text.value.strip()
        if action is None:
            return
        if self.prompt_text.layout.display != "none" and not value:
            raise MLAppError("type a name first")
        action(value)
        self._cancel()

    def _cancel(self) -> None:
        self._pending = None
        self.prompt.layout.display = "none"

    def _on_upload(self) -> None:
        files = self.upload.value
        if not files or self.read_only or self._emptying:
            return
        where = self._target_folder()
        stored, failed = [], []
        for item in files:
            try:
                name = check_name(item["name"], "uploaded file name")
                self.manager.upload(self._join(where, name), bytes(item["content"]))
                stored.append(item["name"])
            except MLAppError as exc:
                failed.append(str(exc))
        # Free the kernel's copy, keep the list: the button goes on saying "Upload (2)" for the
        # files just uploaded (emptied, it said "(0)" whatever happened).
        self._emptying = True
        try:
            self.upload.value = tuple({**item, "content": memoryview(b"")} for item in files)
        finally:
            self._emptying = False
        self._reveal(self._join(where, "*"))
        self.refresh()
        if failed:
            self._say("; ".join(failed), error=True)
        else:
            self._say(f"Uploaded {', '.join(stored)} to {where or '/'}")

    @staticmethod
    def _join(folder: str, name: str) -> str:
        return f"{folder}/{name}" if folder else name
