"""``AppState``: the state of one app for one user, autosaved as it changes, autoloaded at start.

A kernel (a notebook, a Voila app) builds one ``AppState`` before showing any widget: it loads
what the user had (so a refresh, a dropped connection, a culled kernel or a restarted server bring
the app back as it was), then writes every change to disk within ``autosave_delay`` seconds, from
a background thread so the kernel never waits for the disk.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
import weakref
from collections.abc import Callable, MutableMapping
from typing import Any

from traitlets import Bunch, TraitError

from .. import current_user
from ..errors import Forbidden, MLAppError
from .snapshots import Snapshots
from .store import GC_GRACE, LIVE, StateIndex, check_name, user_folder
from .values import decode, encode, kind_of

log = logging.getLogger(__name__)

PAGE = "page"  # the key of the current page of a multi-page app
_REMOVED = object()


class AppState(MutableMapping):
    """The state of app ``app`` for ``user`` (default: ``jupyter_mlapp.current_user()``).

    >>> state = AppState("churn")
    >>> state.link(slider, "value", "learning_rate")   # restored now, autosaved on every change
    >>> state["data"] = frame                          # Parquet on disk
    >>> state.save_snapshot("baseline")

    ``state.restored`` tells whether saved values came back; ``state.message`` says what happened
    (including a damaged file that was set aside) in a sentence to show the user.
    """

    def __init__(
        self, app: str, user: str | None = None, home=None, *, allow_pickle: bool = False, autosave_delay: float = 0.1
    ):
        self.app = check_name(app, "app name")
        self.user = check_name(user or current_user(), "user name")
        self.allow_pickle = allow_pickle
        self.autosave_delay = autosave_delay
        self.last_error: str | None = None  # the last autosave failure, until one succeeds
        self._error_callbacks: list[Callable[[str], None]] = []
        self._index = StateIndex(self.user, self.app, home)
        self._snapshots = Snapshots(self._index)
        self._values: dict[str, Any] = {}
        self._observers: dict[str, list[Callable]] = {}
        self._defaults: dict[str, Any] = {}  # linked keys: the widget's value before any restore
        self._pending: dict[str, bool] = {}  # keys changed since the last autosave
        self._since = 0.0  # when the oldest pending change happened
        self._cond = threading.Condition()
        self._writing = threading.Lock()  # one autosave at a time, in the order of the changes
        self._closed = False
        self._collected = time.monotonic()  # when unused blobs were last collected
        notices = list(self._index.notices)
        self._values = self._read_rows(notices)
        self.restored = bool(self._values)
        self.warnings = notices  # damaged files set aside, values not loaded: tell the user
        self.message = " ".join(notices + ([self._restored_message()] if self.restored else []))
        for notice in notices:
            log.warning("%s/%s: %s", self.user, self.app, notice)
        self._thread = threading.Thread(target=self._autosave_loop, name=f"mlapp-autosave-{app}", daemon=True)
        self._thread.start()
        _open_states.add(self)

    # -- reading the saved state -----------------------------------------------------------------
    def _read_rows(self, notices: list[str]) -> dict[str, Any]:
        values = {}
        for row in self._index.rows(LIVE):
            key = row["key"]
            try:
                values[key] = decode(
                    self._index.read(row), owner=row["writer"], user=self.user, allow_pickle=self.allow_pickle
                )
            except Forbidden as exc:  # safe refusal, nothing damaged: keep it on disk
                notices.append(f"{key!r} was not loaded: {exc}.")
            except Exception as exc:  # damaged: set it aside, the rest of the state loads
                notices.append(self._set_aside(row, exc))
        self._loaded_cleanly = not notices
        return values

    def _set_aside(self, row, exc: Exception) -> str:
        key = row["key"]
        where = ""
        if row["blob"]:
            path = self._index.blob_path(row["blob"])
            if path.exists():
                where = f"; the file was set aside as corrupt/{self._index.set_aside(path).name}"
        self._index.write({key: None})
        return f"The saved value of {key!r} could not be read ({type(exc).__name__}: {exc}){where}."

    def _restored_message(self) -> str:
        newest = max((r["updated"] for r in self._index.rows(LIVE)), default=time.time())
        when = dt.datetime.fromtimestamp(newest).strftime("%Y-%m-%d %H:%M")
        n = len(self._values)
        return f"Restored {n} value{'s' if n != 1 else ''} saved {when}."

    # -- the mapping -----------------------------------------------------------------------------
    def __getitem__(self, key: str):
        return self._values[key]

    def __setitem__(self, key: str, value) -> None:
        check_name(key, "key")
        kind_of(value, self.allow_pickle)  # refuse now what could not be saved later
        old = self._values.get(key, _REMOVED)
        if _same(old, value):
            return
        self._values[key] = value
        self._changed(key)
        self._notify(key, old, value)

    def __delitem__(self, key: str) -> None:
        old = self._values.pop(key)
        self._changed(key)
        self._notify(key, old, None)

    def __iter__(self):
        return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key) -> bool:
        return key in self._values

    # One state is one app's live session: equal only to itself (and usable in sets).
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<AppState app={self.app!r} user={self.user!r} keys={sorted(self._values)}>"

    @property
    def page(self):
        """The current page of a multi-page app; part of the state, so a reload lands on it."""
        return self._values.get(PAGE)

    @page.setter
    def page(self, value) -> None:
        self[PAGE] = value

    # -- widgets and callbacks -------------------------------------------------------------------
    def observe(self, key: str, callback: Callable) -> None:
        """Call ``callback(change)`` when ``key`` changes; ``change.name``, ``.old``, ``.new``
        (``new`` is None when the key was removed, as by ``new_session``)."""
        self._observers.setdefault(key, []).append(callback)

    def unobserve(self, key: str, callback: Callable) -> None:
        self._observers.get(key, []).remove(callback)

    def _notify(self, key: str, old, new) -> None:
        change = Bunch(name=key, old=None if old is _REMOVED else old, new=new, owner=self)
        for callback in list(self._observers.get(key, [])):
            try:
                callback(change)
            except Exception:  # one broken callback must not stop the others, nor the change
                log.exception("%s/%s: a callback observing %r failed", self.user, self.app, key)

    def link(self, widget, trait: str, key: str):
        """Bind ``widget.<trait>`` to ``key`` both ways: the widget shows the saved value now, and
        every change of the widget is autosaved. Returns the widget."""
        check_name(key, "key")
        self._defaults.setdefault(key, getattr(widget, trait))

        def show(change):
            new = self._defaults.get(key) if change.new is None and key not in self else change.new
            try:
                setattr(widget, trait, new)
            except TraitError as exc:
                log.warning("%s/%s: %r cannot show %r: %s", self.user, self.app, key, new, exc)

        self.observe(key, show)
        widget.observe(lambda change: self.__setitem__(key, change["new"]), names=trait)
        if key in self:
            show(Bunch(new=self[key]))
        else:
            self[key] = getattr(widget, trait)
        return widget

    # -- autosave --------------------------------------------------------------------------------
    def _changed(self, key: str) -> None:
        with self._cond:
            if not self._pending:
                self._since = time.monotonic()
            self._pending[key] = True
            self._cond.notify()

    def _housekeeping(self) -> None:
        """After a load, off the kernel's thread: keep the index that loaded as the fallback if a
        later one is damaged, and remove blobs nothing refers to any more."""
        try:
            if self._loaded_cleanly:
                self._index.save_good_copy()
            self._index.collect_garbage()
        except Exception as exc:  # housekeeping must never stop the autosave
            log.warning("%s/%s: housekeeping failed: %s", self.user, self.app, exc)

    def _autosave_loop(self) -> None:
        self._housekeeping()
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed and not self._pending:
                    return
                # Debounce: changes within autosave_delay of the first one go in one commit.
                while not self._closed and (left := self._since + self.autosave_delay - time.monotonic()) > 0:
                    self._cond.wait(left)
            try:
                self.autosave()
            except Exception:  # already recorded in last_error; retry after a pause
                time.sleep(1.0)
                continue
            if time.monotonic() - self._collected > GC_GRACE:  # replaced large values leave blobs
                self._collected = time.monotonic()
                self._index.collect_garbage()

    def autosave(self) -> None:
        """Write the pending changes now (the background thread does it within
        ``autosave_delay``; call this before handing the files to someone else)."""
        with self._writing:
            with self._cond:
                keys, self._pending = list(self._pending), {}
            if not keys:
                return
            changes, failed = {}, []
            for key in keys:
                try:
                    changes[key] = encode(self._values[key], self.allow_pickle) if key in self._values else None
                except Exception as exc:  # this value cannot be stored as it is: say so, save the rest
                    failed.append(f"{key!r} was not saved ({type(exc).__name__}: {exc})")
            try:
                self._index.write(changes)
            except Exception as exc:  # the disk or the index: keep the changes and try again
                with self._cond:
                    for key in changes:
                        self._pending.setdefault(key, True)
                self._report(f"Autosave failed, retrying: {exc}")
                raise
            self._report("Autosave: " + "; ".join(failed) + "." if failed else None)

    def on_autosave_error(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(message)`` when an autosave fails (a full disk, a value that cannot be
        stored), so the app can show it; ``state.last_error`` holds it until a save succeeds."""
        self._error_callbacks.append(callback)

    def _report(self, error: str | None) -> None:
        if error == self.last_error:  # a retry failing the same way: said already
            return
        self.last_error = error
        if error is None:
            return
        log.error("%s/%s: %s", self.user, self.app, error)
        for callback in list(self._error_callbacks):
            try:
                callback(error)
            except Exception:
                log.exception("%s/%s: an autosave error callback failed", self.user, self.app)

    def close(self) -> None:
        """Write what is pending and stop the autosave thread (done at exit, too)."""
        if self._closed:
            return
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        self.autosave()
        self._index.close()
        _open_states.discard(self)

    # -- sessions and snapshots ------------------------------------------------------------------
    def _replace_values(self, values: dict[str, Any]) -> None:
        old, self._values = self._values, values
        for key in sorted(set(old) | set(values)):
            before, after = old.get(key, _REMOVED), values.get(key, _REMOVED)
            if not _same(before, after):
                self._notify(key, before, None if after is _REMOVED else after)

    def new_session(self) -> None:
        """Start clean: forget the autosaved state (snapshots stay); linked widgets go back to
        the values they had before anything was restored."""
        with self._writing:
            with self._cond:
                self._pending = {}
            self._index.clear()
        self._replace_values({})
        self.restored, self.warnings, self.message = False, [], "Started a new session."

    def save_snapshot(self, name: str, overwrite: bool = False) -> dict:
        """Save the whole state under ``name``; returns its name, time, size and summary."""
        self.autosave()
        return self._snapshots.save(name, overwrite=overwrite)

    def snapshots(self) -> list[dict]:
        """The saved snapshots, newest first."""
        return self._snapshots.list()

    def load_snapshot(self, name: str) -> None:
        """Make snapshot ``name`` the current state; linked widgets show it at once. If it does
        not exist: ``NotFound`` and the current state is untouched."""
        with self._writing:
            with self._cond:
                pending, self._pending = self._pending, {}
            try:
                self._snapshots.load(name)
            except MLAppError:
                with self._cond:
                    self._pending.update(pending)
                raise
            notices: list[str] = []
            values = self._read_rows(notices)
        self._replace_values(values)
        self.warnings = notices
        self.message = " ".join([f"Loaded snapshot {name!r}.", *notices])

    def rename_snapshot(self, name: str, new_name: str) -> dict:
        return self._snapshots.rename(name, new_name)

    def delete_snapshot(self, name: str) -> None:
        self._snapshots.delete(name)


def _same(a, b) -> bool:
    """Unchanged? Plain values by value; frames, arrays and models by identity (comparing a
    DataFrame's cells on every set would cost more than saving it)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return type(a) in (bool, int, float, str, tuple, list, dict, type(None)) and bool(a == b)
    except Exception:
        return False


def end_session(user: str, home=None) -> int:
    """Forget the autosaved state of every app of ``user`` (snapshots stay): "logging out starts
    clean". Returns how many apps had state."""
    apps = user_folder(check_name(user, "user name"), home) / "apps"
    cleared = 0
    for folder in sorted(apps.iterdir()) if apps.exists() else []:
        if folder.is_dir() and (folder / StateIndex.FILE).exists():
            index = StateIndex(user, folder.name, home)
            try:
                cleared += bool(index.rows(LIVE))
                index.clear()
            finally:
                index.close()
    return cleared


_open_states: weakref.WeakSet[AppState] = weakref.WeakSet()


@atexit.register
def _autosave_all() -> None:
    """A kernel that shuts down keeps its last changes."""
    for state in list(_open_states):
        try:
            state.close()
        except Exception as exc:
            log.error("autosave at exit failed: %s", exc)
