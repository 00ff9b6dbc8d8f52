"""A viewer's app kernel reads files and changes none, whichever widget asks (the rule is the manager's)."""

from __future__ import annotations

import pytest

from jupyter_mlapp.errors import Forbidden
from jupyter_mlapp.files import FileManager


def test_a_viewer_reads_but_never_writes_files(tmp_path, monkeypatch):
    tmp_path = tmp_path / "workspace"
    tmp_path.mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    monkeypatch.setenv("MLAPP_ROLE", "viewer")  # as the server sets it in a viewer's kernel
    files = FileManager(tmp_path)
    assert [e["name"] for e in files.list()] == ["notes.txt"] and files.download("notes.txt") == b"hello"
    for change in (
        lambda: files.mkdir("new"),
        lambda: files.create("x.txt", "x"),
        lambda: files.upload("notes.txt", b"overwritten", overwrite=True),
        lambda: files.rename("notes.txt", "moved.txt"),
        lambda: files.delete("notes.txt"),
    ):
        with pytest.raises(Forbidden, match="changing files is for editors: you are signed in as a viewer"):
            change()
    assert (
        sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"] and (tmp_path / "notes.txt").read_text() == "hello"
    )
    FileManager(tmp_path, role="editor").create("by-editor.txt", "ok")  # the same calls work for an editor
    assert (tmp_path / "by-editor.txt").exists()
