"""``SessionManager``: the sessions of every user as the server sees them, for the REST API.

The kernel side works through ``AppState`` and ``Cache``; this manager reads and controls the
same files per request, always for the user the server authenticated.
"""

from __future__ import annotations

import contextlib
import json

from ..errors import Forbidden, NotFound
from ..home import room_dir
from .cache import SHARED, Cache
from .snapshots import Snapshots, iso
from .store import LIVE, ROOM, StateIndex, app_folder, check_name, user_folder


class SessionManager:
    def __init__(self, home=None):
        self.home = home

    @contextlib.contextmanager
    def _index(self, user: str, app: str, readonly: bool = False):
        check_name(app, "app name")
        if not (app_folder(user, app, self.home) / StateIndex.FILE).exists():
            raise NotFound(f"no saved state for app {app!r}")
        index = StateIndex(user, app, self.home, readonly=readonly)
        try:
            yield index
        finally:
            index.close()

    def apps(self, user: str) -> list[dict]:
        """The apps with saved state or snapshots for ``user``."""
        folder = user_folder(user, self.home) / "apps"
        apps = []
        for path in sorted(folder.iterdir()) if folder.exists() else []:
            if (path / StateIndex.FILE).exists():
                state = self.state(user, path.name)
                apps.append({k: state[k] for k in ("app", "keys", "size", "updated", "snapshots")})
        return apps

    def state(self, user: str, app: str) -> dict:
        """The autosaved state of ``app``: each key's kind, size, time and summary, with the value
        itself for small plain values (JSON up to 4 KB)."""
        with self._index(user, app, readonly=True) as index:
            rows = index.rows(LIVE)
            snapshots = len(Snapshots(index).list())
            warnings = list(index.notices)
        values = []
        for row in rows:
            entry = {
                "key": row["key"],
                "kind": row["kind"],
                "size": row["size"],
                "updated": iso(row["updated"]),
                "summary": json.loads(row["meta"] or "{}").get("summary", ""),
            }
            if row["kind"] == "json" and row["inline"] is not None:
                entry["value"] = json.loads(row["inline"])
            values.append(entry)
        return {
            "app": app,
            "keys": len(rows),
            "size": sum(r["size"] for r in rows),
            "updated": iso(max(r["updated"] for r in rows)) if rows else None,
            "snapshots": snapshots,
            "values": values,
            "warnings": warnings,
        }

    def clear(self, user: str, app: str) -> None:
        """A new session: the autosaved state is forgotten (running apps keep theirs until reloaded)."""
        with self._index(user, app) as index:
            index.clear()

    def snapshots(self, user: str, app: str) -> list[dict]:
        with self._index(user, app, readonly=True) as index:
            return Snapshots(index).list()

    def snapshot(self, user: str, app: str, name: str) -> dict:
        with self._index(user, app, readonly=True) as index:
            return Snapshots(index).info(name)

    def save_snapshot(self, user: str, app: str, name: str, overwrite: bool = False) -> dict:
        with self._index(user, app) as index:
            return Snapshots(index).save(name, overwrite=overwrite)

    def load_snapshot(self, user: str, app: str, name: str) -> dict:
        with self._index(user, app) as index:
            Snapshots(index).load(name)
        return self.state(user, app)

    def rename_snapshot(self, user: str, app: str, name: str, new_name: str) -> dict:
        with self._index(user, app) as index:
            return Snapshots(index).rename(name, new_name)

    def delete_snapshot(self, user: str, app: str, name: str) -> None:
        with self._index(user, app) as index:
            Snapshots(index).delete(name)

    @contextlib.contextmanager
    def cache(self, user: str):
        """``user``'s cache (closed after use: the server opens it per request)."""
        cache = Cache(user=user, home=self.home)
        try:
            yield cache
        finally:
            cache.close()

    def shared_apps(self) -> list[str]:
        """The apps with a cache shared by their users."""
        folder = room_dir(ROOM, self.home) / SHARED
        return sorted(p.name for p in folder.iterdir() if (p / "cache").is_dir()) if folder.exists() else []

    @contextlib.contextmanager
    def shared_cache(self, app: str, role: str):
        """The cache every user of ``app`` shares: editors and admins see and clear it (they
        publish the apps); a viewer's results live in the app, not in this list."""
        if role not in ("editor", "admin"):
            raise Forbidden("only editors and admins see the caches shared by an app's users")
        if app not in self.shared_apps():
            raise NotFound(f"no shared cache for app {app!r}")
        cache = Cache(home=self.home, shared=app)
        try:
            yield cache
        finally:
            cache.close()
