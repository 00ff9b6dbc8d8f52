"""FileManager: every operation, and every way out of the root refused (fuzzed)."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_mlapp.errors import Conflict, Forbidden, InvalidInput, MLAppError, NotFound, TooLarge
from jupyter_mlapp.files import manager as manager_module
from jupyter_mlapp.files.manager import FileManager, user_root


@pytest.fixture
def sandbox(tmp_path):
    """A root with files, a link inside and links out, next to a secret folder it must not reach."""
    root = tmp_path / "root"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "iris.csv").write_text("a,b\n1,2\n")
    (root / "notes.txt").write_text("hello")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("top secret")
    os.symlink(secret, root / "escape")
    os.symlink(secret / "key.txt", root / "data" / "key-link")
    os.symlink("data", root / "data-link")  # relative link that stays inside
    return FileManager(root), secret


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.is_dir() or p.read_bytes()) for p in sorted(folder.rglob("*"))}


def test_list_shows_folders_first_with_sizes_and_times_and_hides_links_out(sandbox):
    files, _ = sandbox
    entries = files.list()
    assert [(e["name"], e["type"]) for e in entries] == [
        ("data", "folder"),
        ("data-link", "folder"),
        ("notes.txt", "file"),
    ]
    notes = entries[-1]
    assert notes["size"] == 5 and notes["path"] == "notes.txt" and notes["mtime"] > 0
    assert [e["name"] for e in files.list("data")] == ["raw", "iris.csv"]
    assert [e["path"] for e in files.list("data-link")] == ["data-link/raw", "data-link/iris.csv"]


def test_undecodable_names_on_disk_are_left_out_of_listings(sandbox):
    files, _ = sandbox
    with open(os.path.join(os.fsencode(files.root), b"bad\xff.txt"), "wb") as fh:
        fh.write(b"x")
    assert [e["name"] for e in files.list()] == ["data", "data-link", "notes.txt"]
    with pytest.raises(InvalidInput, match="not valid Unicode"):
        files.download(os.fsdecode(b"bad\xff.txt"))


def test_hidden_files_only_when_asked(sandbox):
    files, _ = sandbox
    (files.root / ".env").write_text("x")
    assert ".env" not in [e["name"] for e in files.list()]
    assert ".env" in [e["name"] for e in FileManager(files.root, show_hidden=True).list()]


def test_tree_goes_down_to_depth_and_caps_entries(sandbox):
    files, _ = sandbox
    tree = files.tree(depth=2)
    data = next(c for c in tree["children"] if c["name"] == "data")
    assert [c["name"] for c in data["children"]] == ["raw", "iris.csv"]
    assert "children" not in next(c for c in data["children"] if c["name"] == "raw")
    for i in range(30):
        files.create(f"data/raw/f{i:02}.txt")
    capped = files.tree("data", depth=3, limit=10)
    assert capped["truncated"] is True


def test_mkdir_create_rename_delete(sandbox):
    files, _ = sandbox
    assert files.mkdir("data/new")["type"] == "folder"
    entry = files.create("data/new/a.txt", "abc")
    assert entry == files.stat("data/new/a.txt") and entry["size"] == 3
    with pytest.raises(Conflict, match="already exists"):
        files.create("data/new/a.txt")
    with pytest.raises(Conflict, match="already exists"):
        files.mkdir("data")
    with pytest.raises(NotFound, match="no such file or folder: nowhere"):
        files.mkdir("nowhere/sub")
    with pytest.raises(InvalidInput, match="not a folder"):
        files.create("notes.txt/inner")

    moved = files.rename("data/new", "moved")
    assert moved["path"] == "moved" and files.download("moved/a.txt") == b"abc"
    with pytest.raises(Conflict):
        files.rename("moved", "notes.txt")  # never overwrites
    with pytest.raises(InvalidInput, match="into itself"):
        files.rename("moved", "moved/inner")

    with pytest.raises(Conflict, match=r"not empty \(1 entry\).*recursive=True"):
        files.delete("moved")
    files.delete("moved", recursive=True)
    files.mkdir("empty")
    files.delete("empty")
    files.delete("notes.txt")
    assert [e["name"] for e in files.list()] == ["data", "data-link"]
    with pytest.raises(NotFound):
        files.delete("notes.txt")
    with pytest.raises(Forbidden, match="root folder cannot be deleted"):
        files.delete("")
    with pytest.raises(Forbidden, match="root folder cannot be renamed"):
        files.rename(".", "x")


def test_upload_and_download(sandbox, monkeypatch):
    files, _ = sandbox
    files.upload("data/blob.bin", bytes(range(256)))
    assert files.download("data/blob.bin") == bytes(range(256))
    with pytest.raises(Conflict):
        files.upload("data/blob.bin", b"new")
    files.upload("data/blob.bin", b"new", overwrite=True)
    assert files.download("data/blob.bin") == b"new"
    with pytest.raises(Conflict, match="is a folder"):
        files.upload("data/raw", b"x", overwrite=True)
    with pytest.raises(InvalidInput, match="is a folder"):
        files.download("data")
    with pytest.raises(TooLarge, match="more than the 2 B allowed"):
        files.download("data/blob.bin", max_bytes=2)
    monkeypatch.setattr(manager_module, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(TooLarge):
        files.upload("big.bin", b"x" * 11)


def test_links_inside_work_links_out_are_refused(sandbox):
    files, secret = sandbox
    assert files.download("data-link/iris.csv") == b"a,b\n1,2\n"
    for path in ("escape", "escape/key.txt", "data/key-link"):
        with pytest.raises(Forbidden, match="points outside the root"):
            files.download(path)
    with pytest.raises(Forbidden):
        files.create("escape/planted.txt", "x")
    with pytest.raises(Forbidden):
        files.delete("escape")
    with pytest.raises(Forbidden):
        files.rename("notes.txt", "escape/notes.txt")
    files.delete("data-link")  # removing a link inside keeps its target
    assert (files.root / "data" / "iris.csv").exists()
    assert (secret / "key.txt").read_text() == "top secret"


@pytest.mark.parametrize(
    "path, error, message",
    [
        ("../secret/key.txt", Forbidden, "'..' is not allowed"),
        ("data/../../secret", Forbidden, "'..' is not allowed"),
        ("/etc/passwd", Forbidden, "absolute paths are not allowed"),
        ("~/.ssh", Forbidden, "absolute paths"),
        ("data\\..\\..\\secret", InvalidInput, "use '/'"),
        ("a\x00b", InvalidInput, "control character U+0000"),
        ("line\nbreak", InvalidInput, "control character U+000A"),
        ("evil\u202etxt.exe", InvalidInput, "control character U+202E"),
        ("bad\udcffbyte", InvalidInput, "not valid Unicode"),
        ("x" * 256, InvalidInput, "longer than 255 bytes"),
        ("a/" * 600, InvalidInput, "longer than 1024 characters"),
        (b"notes.txt", InvalidInput, "must be a string"),
        (None, InvalidInput, "must be a string"),
    ],
)
def test_bad_paths_are_refused_with_a_clear_message(sandbox, path, error, message):
    files, _ = sandbox
    with pytest.raises(error, match=re.escape(message)):
        files.stat(path)


def test_user_roots(tmp_path, monkeypatch):
    monkeypatch.delenv("MLAPP_FILES_PER_USER", raising=False)
    assert user_root("ann", workspace=tmp_path) == tmp_path.resolve()
    assert user_root("ann", workspace=tmp_path, per_user=True) == tmp_path.resolve() / "users" / "ann"
    monkeypatch.setenv("MLAPP_FILES_PER_USER", "1")
    monkeypatch.setenv("MLAPP_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("MLAPP_USER", "bob")
    monkeypatch.setenv("MLAPP_ROLE", "editor")
    assert FileManager().root == tmp_path.resolve() / "users" / "bob"
    monkeypatch.setenv("MLAPP_ROLE", "admin")
    assert FileManager().root == tmp_path.resolve()
    for bad in ("../ann", ".hidden", "a/b", ""):
        with pytest.raises(InvalidInput):
            user_root(bad, workspace=tmp_path, per_user=True)


# -- fuzzing: thousands of generated names, none may leave the root -------------------------
PIECES = [
    "..",
    ".",
    "",
    "data",
    "escape",
    "data-link",
    "~",
    "%2e%2e",
    "\x00",
    "\u202e",
    "\udcff",
    "\\..",
    "..\\",
    "…",
    "x" * 300,
    "/",
    "new",
]
GENERATED = ["/".join(parts) for n in (1, 2, 3) for parts in itertools.product(PIECES, repeat=n)]


def assert_contained(files: FileManager, secret: Path, before: dict, path) -> None:
    """Run every operation on ``path``: each succeeds inside the root or raises a clear error."""
    operations = [
        lambda: files.list(path),
        lambda: files.stat(path),
        lambda: files.tree(path, depth=1),
        lambda: files.download(path),
        lambda: files.mkdir(path),
        lambda: files.create(path, "x"),
        lambda: files.upload(path, b"y", overwrite=True),
        lambda: files.rename(path, "renamed"),
        lambda: files.rename("notes.txt", path),
        lambda: files.delete(path),
    ]
    for operation in operations:
        try:
            operation()
        except MLAppError as exc:
            assert str(exc) and "\n" not in str(exc)
    assert snapshot(secret) == before
    for dirpath, dirnames, filenames in os.walk(files.root):
        for name in dirnames + filenames:
            real = Path(os.path.realpath(Path(dirpath) / name))
            assert real == secret or secret in real.parents or files.root in real.parents


def restore(files: FileManager) -> None:
    """Put the sandbox back after a generated operation changed it (deleted, renamed...)."""
    for name in os.listdir(files.root):
        if name not in ("data", "escape", "data-link", "notes.txt"):
            target = files.root / name
            (os.unlink if target.is_symlink() or target.is_file() else __import__("shutil").rmtree)(target)
    (files.root / "data").mkdir(exist_ok=True)
    (files.root / "notes.txt").write_text("hello")
    if not os.path.lexists(files.root / "data-link"):
        os.symlink("data", files.root / "data-link")


def test_thousands_of_generated_paths_stay_inside(sandbox):
    files, secret = sandbox
    before = snapshot(secret)
    assert len(GENERATED) > 4000
    for path in GENERATED:
        assert_contained(files, secret, before, path)
        restore(files)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from([*list("./\\~a\x00\x1f\x7f\u202e\u200f� é漢"), "..", "escape", "data"]), max_size=30).map(
        "".join
    )
    | st.text(max_size=20)
)
def test_random_paths_stay_inside(sandbox, path):
    files, secret = sandbox
    assert_contained(files, secret, snapshot(secret), path)
    restore(files)
