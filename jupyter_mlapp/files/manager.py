"""``FileManager``: file operations confined to one root folder.

Every path a user gives is relative to the root, checked before anything touches the disk:
no ``..``, no absolute paths, no control characters or undecodable names, and nothing that
resolves (through symlinks) outside the root. The explorer widget, the REST handlers and
notebooks all go through this one class, so the rules hold however the files are reached.
"""

from __future__ import annotations

import os
import shutil
import stat as stat_mod
import unicodedata
from pathlib import Path

from .. import settings
from ..errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from ..formatting import format_size
from ..home import atomic_write

MAX_PATH_CHARS = 1024
MAX_NAME_BYTES = 255  # what ext4, xfs and APFS allow for one name
MAX_UPLOAD_BYTES = 512 * 1024 * 1024

# Invisible characters that reorder or hide text: a name holding them reads differently on
# screen than on disk (the "Trojan source" trick), so they are refused with the control codes.
_BIDI_CONTROLS = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def workspace_dir() -> Path:
    """The workspace of the app: the server's root folder (handed to kernels in
    ``$MLAPP_WORKSPACE``), else the current folder."""
    return Path(settings.WORKSPACE.get() or os.getcwd()).resolve()


def user_root(
    user: str | None = None, workspace: str | os.PathLike | None = None, per_user: bool | None = None
) -> Path:
    """The folder a user's file explorer shows.

    The whole workspace by default; ``<workspace>/users/<user>`` when per-user roots are on
    (``per_user=True``, or ``$MLAPP_FILES_PER_USER=1`` which the server hands to kernels), except
    for admins. ``user=None``: the kernel's user and role (``current_user()``, ``current_role()``).
    """
    workspace = Path(workspace).resolve() if workspace else workspace_dir()
    if per_user is None:
        per_user = settings.FILES_PER_USER.get()
    if not per_user:
        return workspace
    if user is None:
        from .. import current_role, current_user

        if current_role() == "admin":  # as on the server: admins see the whole workspace
            return workspace
        user = current_user()
    name = check_name(user, what="user name")
    if name.startswith("."):
        raise InvalidInput(f"user name {user!r} cannot be a folder name")
    root = workspace / "users" / name
    root.mkdir(parents=True, exist_ok=True)
    return root


def check_name(name: str, what: str = "name") -> str:
    """One path component: printable, valid Unicode, no separator, not ``.``/``..``."""
    if not isinstance(name, str):
        raise InvalidInput(f"{what} must be a string, not {type(name).__name__}")
    if name in ("", ".", ".."):
        raise InvalidInput(f"{what} {name!r} is not a valid name")
    if "/" in name or "\\" in name:
        raise InvalidInput(f"{what} {name!r} cannot contain a slash")
    _check_characters(name, what)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidInput(f"{what} is longer than {MAX_NAME_BYTES} bytes")
    return name


def _check_characters(text: str, what: str) -> None:
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            raise InvalidInput(f"{what} is not valid Unicode (a lone surrogate: an undecodable byte?)")
        if category == "Cc" or char in _BIDI_CONTROLS:
            raise InvalidInput(f"{what} contains the control character U+{ord(char):04X}")
        if category == "Cn":
            raise InvalidInput(f"{what} contains the unassigned character U+{ord(char):04X}")


class FileManager:
    """Files and folders below ``root``. Paths are strings relative to it, with ``/``.

    ``FileManager()`` uses the current user's root (see ``user_root``). Every method raises
    ``InvalidInput`` for a malformed path, ``Forbidden`` for one that would leave the root,
    ``NotFound``/``Conflict`` as their names say. A viewer (``role``, default ``current_role()``:
    the kernel's, set by the server) reads and downloads only: every change is ``Forbidden``.
    """

    def __init__(self, root: str | os.PathLike | None = None, show_hidden: bool = False, role: str | None = None):
        from .. import current_role

        root = Path(root).expanduser() if root is not None else user_root()
        if not root.is_dir():
            raise NotFound(f"the root folder {root} does not exist")
        self.root = root.resolve()
        self.show_hidden = show_hidden
        self.role = role or current_role()

    def _require_writer(self) -> None:
        if self.role not in ("admin", "editor"):
            raise Forbidden(f"changing files is for editors: you are signed in as a {self.role}")

    def __repr__(self) -> str:
        return f"FileManager({str(self.root)!r})"

    # -- paths -----------------------------------------------------------------------------
    def normalize(self, path: str) -> str:
        """``path`` checked and in canonical form (``a/b``; ``""`` is the root)."""
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if not isinstance(path, str):
            raise InvalidInput(f"a path must be a string, not {type(path).__name__}")
        if len(path) > MAX_PATH_CHARS:
            raise InvalidInput(f"path is longer than {MAX_PATH_CHARS} characters")
        _check_characters(path, "path")
        if "\\" in path:
            raise InvalidInput("use '/' to separate folders, not '\\'")
        if path.startswith(("/", "~")):
            raise Forbidden(f"absolute paths are not allowed: {path!r} (give a path relative to the root)")
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise Forbidden(f"'..' is not allowed in a path: {path!r}")
        for part in parts:
            check_name(part, what="file name")
        return "/".join(parts)

    def resolve(self, path: str) -> Path:
        """The absolute, symlink-free location of ``path``; refused when it leaves the root."""
        rel = self.normalize(path)
        target = self.root / rel
        real = Path(os.path.realpath(target))
        if real != self.root and self.root not in real.parents:
            raise Forbidden(f"{rel!r} points outside the root folder")
        if not os.path.lexists(real):
            raise NotFound(f"no such file or folder: {rel or '/'}")
        return real

    def _new_location(self, path: str) -> tuple[str, Path]:
        """Where a new entry ``path`` goes: its parent must be an existing folder in the root."""
        rel = self.normalize(path)
        if not rel:
            raise InvalidInput("give a name for the new file or folder")
        parent_rel, _, name = rel.rpartition("/")
        parent = self.resolve(parent_rel)
        if not parent.is_dir():
            raise InvalidInput(f"{parent_rel!r} is not a folder")
        target = parent / name
        if os.path.lexists(target):
            kind = "folder" if target.is_dir() else "file"
            raise Conflict(f"a {kind} named {rel!r} already exists")
        return rel, target

    def _hidden(self, name: str) -> bool:
        return not self.show_hidden and name.startswith(".")

    # -- reading ---------------------------------------------------------------------------
    def stat(self, path: str = "") -> dict:
        """``{"name", "path", "type" ("file"|"folder"), "size", "mtime"}`` of one entry."""
        return self._entry(self.resolve(path), self.normalize(path))

    def _entry(self, real: Path, rel: str) -> dict:
        st = real.stat()
        folder = stat_mod.S_ISDIR(st.st_mode)
        return {
            "name": rel.rpartition("/")[2],
            "path": rel,
            "type": "folder" if folder else "file",
            "size": None if folder else st.st_size,
            "mtime": st.st_mtime,
        }

    def list(self, path: str = "") -> list[dict]:
        """The entries of a folder: folders first, then files, each by name (case-insensitive).

        Symlinks that lead outside the root, and broken ones, are left out.
        """
        folder, base = self.resolve(path), self.normalize(path)
        if not folder.is_dir():
            raise InvalidInput(f"{base!r} is not a folder")
        entries = []
        try:
            children = list(os.scandir(folder))
        except PermissionError as exc:
            raise Forbidden(f"cannot read the folder {base or '/'}: permission denied") from exc
        for child in children:
            if self._hidden(child.name):
                continue
            rel = f"{base}/{child.name}" if base else child.name
            try:
                real = self.resolve(rel)
                entries.append(self._entry(real, rel))
            except (Forbidden, NotFound, InvalidInput, OSError):
                continue  # outside the root, broken, or a name we would refuse anyway
        entries.sort(key=lambda e: (e["type"] != "folder", e["name"].casefold(), e["name"]))
        return entries

    def tree(self, path: str = "", depth: int = 2, limit: int = 2000) -> dict:
        """A folder and its descendants down to ``depth`` levels, at most ``limit`` entries in all
        (a folder cut short carries ``"truncated": True``)."""
        budget = [limit]

        def walk(rel: str, level: int) -> dict:
            node = self.stat(rel)
            if node["type"] == "folder" and level < depth:
                children = self.list(rel)
                node["children"] = [
                    walk(child["path"], level + 1) if child["type"] == "folder" else child
                    for child in children[: max(budget[0], 0)]
                ]
                budget[0] -= len(children)
                node["truncated"] = budget[0] < 0
            return node

        return walk(self.normalize(path), 0)

    def file(self, path: str) -> Path:
        """The real location of the file at ``path``, to stream it; refuses folders."""
        real = self.resolve(path)
        if real.is_dir():
            raise InvalidInput(f"{self.normalize(path)!r} is a folder; download its files one by one")
        return real

    def download(self, path: str, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
        """The content of a file, all in memory; ``TooLarge`` past ``max_bytes``."""
        real = self.file(path)
        size = real.stat().st_size
        if size > max_bytes:
            raise TooLarge(
                f"{self.normalize(path)!r} is {format_size(size)}, more than the {format_size(max_bytes)} allowed here"
            )
        return real.read_bytes()

    # -- writing ---------------------------------------------------------------------------
    def mkdir(self, path: str) -> dict:
        self._require_writer()
        rel, target = self._new_location(path)
        target.mkdir()
        return self._entry(target, rel)

    def create(self, path: str, content: bytes | str = b"") -> dict:
        """A new file (empty by default); ``Conflict`` when the name is taken."""
        self._require_writer()
        rel, target = self._new_location(path)
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        self._check_size(len(data))
        # O_EXCL: a file that appeared since the check is not overwritten.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return self._entry(target, rel)

    def upload(self, path: str, content: bytes, overwrite: bool = False) -> dict:
        """Store uploaded bytes at ``path``; an existing file is replaced only with ``overwrite``."""
        self._require_writer()
        self._check_size(len(content))
        rel = self.normalize(path)
        if overwrite and rel:
            try:
                real = self.resolve(rel)
            except NotFound:
                pass
            else:
                if real.is_dir():
                    raise Conflict(f"{rel!r} is a folder")
                atomic_write(real, bytes(content), mode=0o644)
                return self._entry(real, rel)
        return self.create(rel, content)

    def _locate(self, path: str, verb: str) -> tuple[str, Path]:
        """The entry at ``path`` itself (a symlink stays a symlink), in a confined folder."""
        rel = self.normalize(path)
        if not rel:
            raise Forbidden(f"the root folder cannot be {verb}")
        self.resolve(rel)  # exists, and whatever it points to is inside the root
        parent_rel, _, name = rel.rpartition("/")
        return rel, self.resolve(parent_rel) / name

    def rename(self, path: str, new_path: str) -> dict:
        """Move or rename; the destination must not exist (no silent overwrite)."""
        self._require_writer()
        _, source = self._locate(path, "renamed")
        rel, target = self._new_location(new_path)
        if source.is_dir() and not source.is_symlink() and source in target.parents:
            raise InvalidInput("a folder cannot be moved into itself")
        os.rename(source, target)
        return self._entry(target, rel)

    def delete(self, path: str, recursive: bool = False) -> None:
        """Delete a file or an empty folder; a non-empty folder needs ``recursive=True``."""
        self._require_writer()
        rel, entry = self._locate(path, "deleted")
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink()  # a link goes, its target stays
            return
        count = sum(1 for _ in os.scandir(entry))
        if count and not recursive:
            raise Conflict(
                f"the folder {rel!r} is not empty ({count} {'entry' if count == 1 else 'entries'}); "
                f"delete it with recursive=True to remove everything in it"
            )
        if count:
            shutil.rmtree(entry)
        else:
            entry.rmdir()

    @staticmethod
    def _check_size(size: int) -> None:
        if size > MAX_UPLOAD_BYTES:
            raise TooLarge(f"the file is {format_size(size)}, more than the {format_size(MAX_UPLOAD_BYTES)} allowed")
