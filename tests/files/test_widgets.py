"""FileExplorer driven as a user clicks it: tree, breadcrumbs, create, rename, delete, upload."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import ipywidgets as widgets
import pytest

from jupyter_mlapp.files import FileExplorer


@pytest.fixture
def explorer(tmp_path, monkeypatch):
    monkeypatch.delenv("MLAPP_WORKSPACE", raising=False)
    workspace = tmp_path / "workspace"
    (workspace / "data" / "raw").mkdir(parents=True)
    (workspace / "data" / "iris.csv").write_text("a,b\n1,2\n")
    (workspace / "README.md").write_text("# hi")
    return FileExplorer(workspace)


def names(explorer):
    return [row.children[1].description for row in explorer.tree.children if hasattr(row, "children")]


def row(explorer, name):
    return next(r for r in explorer.tree.children if hasattr(r, "children") and r.children[1].description == name)


def test_expand_select_and_open(explorer):
    assert names(explorer) == ["data", "README.md"]
    row(explorer, "data").children[0].click()  # the caret expands in place
    assert names(explorer) == ["data", "raw", "iris.csv", "README.md"]
    row(explorer, "iris.csv").children[1].click()
    assert explorer.selected == "data/iris.csv"
    assert explorer.selected_path == explorer.manager.root / "data" / "iris.csv"
    assert "mlapp-selected" in row(explorer, "iris.csv")._dom_classes
    assert "8 B" in explorer.details.value and "data:text/csv;base64," in explorer.details.value
    row(explorer, "data").children[1].click()
    row(explorer, "data").children[1].click()  # a second click opens the folder
    assert explorer.folder == "data" and names(explorer) == ["raw", "iris.csv"]
    assert [c.description for c in explorer.crumbs.children if isinstance(c, widgets.Button)] == ["Workspace", "data"]
    explorer.crumbs.children[0].click()
    assert explorer.folder == "" and names(explorer) == ["data", "README.md"]


def test_create_rename_delete_with_confirmation(explorer):
    root = explorer.manager.root
    explorer.new_folder_button.click()
    explorer.prompt_text.value = "runs"
    explorer.confirm_button.click()
    assert (root / "runs").is_dir() and explorer.selected == "runs"
    assert "Created the folder runs" in explorer.message.value
    explorer.new_file_button.click()  # goes into the selected folder
    explorer.prompt_text.value = "notes.txt"
    explorer.confirm_button.click()
    assert (root / "runs" / "notes.txt").is_file()

    explorer.selected = "runs"
    explorer.rename_button.click()
    explorer.prompt_text.value = "experiments {x}"
    explorer.confirm_button.click()
    assert "Renamed runs to experiments {x}" in explorer.message.value
    explorer.rename_button.click()
    explorer.prompt_text.value = "experiments"
    explorer.confirm_button.click()
    assert (root / "experiments" / "notes.txt").is_file() and explorer.selected == "experiments"

    explorer.rename_button.click()  # to its own name: nothing happens, and it says so
    explorer.confirm_button.click()
    assert "experiments keeps its name" in explorer.message.value and "mlapp-error" not in explorer.message._dom_classes
    assert (root / "experiments" / "notes.txt").is_file()

    explorer.delete_button.click()
    assert "everything in it (1 entry)" in explorer.prompt_label.value
    explorer.cancel_button.click()
    assert (root / "experiments").exists() and explorer.prompt.layout.display == "none"
    explorer.delete_button.click()
    assert explorer.confirm_button.description == "Delete"
    explorer.confirm_button.click()
    assert not (root / "experiments").exists() and explorer.selected == ""
    assert explorer.rename_button.disabled and explorer.delete_button.disabled


def test_bad_names_show_a_message_not_a_traceback(explorer):
    for name, message in (
        ("../evil", "cannot contain a slash"),
        ("data", "already exists"),
        ("a\x00", "control character"),
        ("", "type a name first"),
    ):
        explorer.selected = ""
        explorer.new_folder_button.click()
        explorer.prompt_text.value = name
        explorer.confirm_button.click()
        assert message in explorer.message.value
        assert "mlapp-error" in explorer.message._dom_classes
        explorer.cancel_button.click()
    assert sorted(os.listdir(explorer.manager.root)) == ["README.md", "data"]


def test_upload_into_the_selected_folder(explorer):
    explorer.selected = "data/raw"
    explorer.upload.value = (
        {
            "name": "a.bin",
            "type": "",
            "size": 3,
            "content": memoryview(b"abc"),
            "last_modified": datetime.now(timezone.utc),
        },
    )
    assert (explorer.manager.root / "data" / "raw" / "a.bin").read_bytes() == b"abc"
    assert "Uploaded a.bin to data/raw" in explorer.message.value
    # The button still counts what was just uploaded ("Upload (1)"); the kernel's copy is gone.
    assert [(f["name"], len(f["content"])) for f in explorer.upload.value] == [("a.bin", 0)]
    assert (explorer.manager.root / "data" / "raw" / "a.bin").read_bytes() == b"abc"
    explorer.upload.value = (
        {
            "name": "a.bin",
            "type": "",
            "size": 1,
            "content": memoryview(b"z"),
            "last_modified": datetime.now(timezone.utc),
        },
    )
    assert "already exists" in explorer.message.value


def test_links_go_through_jupyters_files_url_under_the_server(explorer, monkeypatch):
    monkeypatch.setenv("MLAPP_WORKSPACE", str(explorer.manager.root.parent))
    monkeypatch.setenv("MLAPP_BASE_URL", "/base/")
    explorer.selected = "README.md"
    url = f"/base/files/{explorer.manager.root.name}/README.md"
    assert f"href='{url}' target='_blank'" in explorer.details.value
    assert f"href='{url}?download=1' download='README.md'" in explorer.details.value


def test_a_folder_deleted_elsewhere_falls_back_to_the_root(explorer):
    explorer.open_folder("data/raw")
    os.rmdir(explorer.manager.root / "data" / "raw")
    explorer.refresh()
    assert explorer.folder == "" and names(explorer) == ["data", "README.md"]


def test_viewers_browse_read_only(tmp_path, monkeypatch):
    monkeypatch.setenv("MLAPP_ROLE", "viewer")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "a.txt").write_text("a")
    explorer = FileExplorer(tmp_path / "ws")
    toolbar = explorer.children[1].children
    assert toolbar == (explorer.refresh_button,)
    explorer.selected = "a.txt"
    explorer.delete_button.click()  # not shown, and refused if reached anyway
    assert "read-only" in explorer.message.value and (tmp_path / "ws" / "a.txt").exists()
    assert "Download" in explorer.details.value
    # Their browser may not read /files/ (apps/enforce.py): the file comes with the widget.
    monkeypatch.setenv("MLAPP_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("MLAPP_BASE_URL", "/base/")
    explorer.selected = ""
    explorer.selected = "a.txt"
    assert "data:text/plain;base64," in explorer.details.value and "/base/files/" not in explorer.details.value
    editable = FileExplorer(tmp_path / "ws", read_only=False)
    assert editable.delete_button in editable.children[1].children
