"""The explicit cache: results kept on disk under a key the user chooses, recomputed only when the
key changes, when the user clears it, or when its schedule says so.

>>> from jupyter_mlapp.sessions import cache, fingerprint
>>> @cache(key=lambda data, depth: ("forest", fingerprint(data), depth), expires="weekends")
... def train(data, depth): ...

Unlike caches that hash a function's code and every argument, nothing here is recomputed because
the function was edited or an unrelated input changed: the key is exactly what the user says, in
the function's own namespace (two functions given one key keep two results), and ``version=`` is
how the author says "my code changed, recompute". Concurrent callers of one key (threads, kernels,
processes) compute it once: the others wait on a lock file and read the result.

Each user has their own cache; ``shared="<app>"`` keeps one for every user of an app (data
preparation paid once, not once per viewer).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import logging
import os
import pathlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import current_user
from ..errors import InvalidInput, NotFound
from ..home import Schema, add_columns, room_dir, transaction
from .snapshots import iso
from .store import ROOM, Index, _private_dir, check_name, user_folder
from .values import decode, encode

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SETS = {"daily": DAYS, "weekdays": DAYS[:5], "weekends": DAYS[5:]}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
LABEL_MAX = 300


# -- schedules --------------------------------------------------------------------------------
class Expiry:
    """When a cached value must be recomputed. Build one with ``Expiry.parse(expires)``:

    - ``None``: never (until its key changes or it is cleared);
    - a number of seconds, a ``timedelta`` or ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"``:
      when it is older than that;
    - ``"hourly"``, ``"weekly"``: at most once per clock hour, per week (from Monday);
    - ``"daily"``, ``"weekdays"``, ``"weekends"`` or days such as ``"sat,sun"`` or ``"monday"``:
      only on those days, at most once a day. ``"weekends"`` keeps Friday's model all week long and
      retrains on Saturday (and Sunday) only, however much the data changed;
    - a callable ``stale(computed_at, now) -> bool`` taking two ``datetime``.
    """

    def __init__(self, text: str, stale: Callable[[dt.datetime, dt.datetime], bool]):
        self.text = text
        self._stale = stale

    def __repr__(self) -> str:
        return f"Expiry({self.text!r})"

    def is_stale(self, computed_at: float, now: float) -> bool:
        return bool(self._stale(dt.datetime.fromtimestamp(computed_at), dt.datetime.fromtimestamp(now)))

    @classmethod
    def parse(cls, expires) -> Expiry:
        if isinstance(expires, Expiry):
            return expires
        if expires is None:
            return cls("never", lambda computed, now: False)
        if callable(expires):
            return cls(f"custom: {getattr(expires, '__name__', 'function')}", expires)
        if isinstance(expires, dt.timedelta):
            expires = expires.total_seconds()
        if isinstance(expires, (int, float)) and not isinstance(expires, bool):
            if expires <= 0:
                raise InvalidInput(f"expires must be positive, not {expires}")
            age = dt.timedelta(seconds=expires)
            return cls(f"{expires:g}s", lambda computed, now: now - computed >= age)
        if not isinstance(expires, str):
            raise InvalidInput(
                f"expires must be None, seconds, a timedelta, text or a callable, not {type(expires).__name__}"
            )
        text = expires.strip().lower()
        if match := re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhdw])", text):
            expiry = cls.parse(float(match.group(1)) * UNITS[match.group(2)])
            expiry.text = text  # as the user wrote it, still parseable
            return expiry
        if text == "hourly":
            return cls(text, lambda computed, now: computed < now.replace(minute=0, second=0, microsecond=0))
        if text == "weekly":
            return cls(text, lambda computed, now: computed < _midnight(now) - dt.timedelta(days=now.weekday()))
        days = DAY_SETS.get(text) or _days(text)
        if days is None:
            raise InvalidInput(
                f"unknown schedule {expires!r}: use a duration like '12h', 'hourly', 'daily', 'weekly', "
                f"'weekdays', 'weekends' or days like 'sat,sun'"
            )
        allowed = {DAYS.index(d) for d in days}
        return cls(text, lambda computed, now: now.weekday() in allowed and computed < _midnight(now))


def _midnight(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _days(text: str):
    names = [part[:3] for part in re.split(r"[\s,;]+|\band\b", text) if part]
    return names if names and all(n in DAYS for n in names) else None


# -- fingerprints -----------------------------------------------------------------------------
_file_digests: dict[tuple, str] = {}  # (path, size, mtime_ns, inode) -> content digest


def fingerprint(obj) -> str:
    """A short digest of ``obj``'s content, to put in a cache key.

    DataFrames and Series (values, index, column names and dtypes), numpy arrays, bytes, plain
    values, scikit-learn models, and files or folders given as ``pathlib.Path`` (their content;
    a file is re-read only when its size or modification time changed).
    """
    h = hashlib.blake2b(digest_size=16)
    _feed(h, obj)
    return h.hexdigest()


def _feed(h, obj) -> None:
    import sys

    pd = sys.modules.get("pandas")
    np = sys.modules.get("numpy")
    if pd is not None and isinstance(obj, (pd.DataFrame, pd.Series)):
        h.update(b"pandas")
        if isinstance(obj, pd.DataFrame):
            columns = list(zip(obj.columns, obj.dtypes, strict=True))
        else:
            columns = [(obj.name, obj.dtype)]
        h.update(repr([(str(c), str(t)) for c, t in columns]).encode())
        h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
    elif np is not None and isinstance(obj, np.ndarray):
        h.update(f"ndarray{obj.dtype.str}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).tobytes() if obj.dtype != object else repr(obj.tolist()).encode())
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        h.update(b"bytes")
        h.update(obj)
    elif isinstance(obj, pathlib.Path):
        h.update(b"path")
        h.update(_path_digest(obj).encode())
    elif isinstance(obj, (list, tuple)):
        h.update(f"seq{len(obj)}".encode())
        for item in obj:
            _feed(h, item)
    elif isinstance(obj, dict):
        h.update(f"dict{len(obj)}".encode())
        for k in sorted(obj, key=repr):
            _feed(h, k)
            _feed(h, obj[k])
    elif obj is None or isinstance(obj, (bool, int, float, str, dt.date, dt.time)):
        h.update(repr(obj).encode())
    else:
        encoded = encode(obj)  # models (skops); anything else is refused with a clear message
        h.update(encoded.kind.encode())
        h.update(encoded.data)


def _path_digest(path: pathlib.Path) -> str:
    path = path.expanduser().resolve()
    if path.is_dir():
        h = hashlib.blake2b(digest_size=16)
        for child in sorted(path.rglob("*")):
            if child.is_file():
                h.update(str(child.relative_to(path)).encode())
                h.update(_path_digest(child).encode())
        return h.hexdigest()
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InvalidInput(f"cannot fingerprint {path}: no such file") from None
    stamp = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if stamp not in _file_digests:
        h = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        _file_digests[stamp] = h.hexdigest()
    return _file_digests[stamp]


def key_text(key) -> str:
    """The readable, canonical form of a cache key: text as is; anything else as JSON with
    data (frames, arrays, paths, models) replaced by their fingerprint."""
    text = key if isinstance(key, str) else json.dumps(key, sort_keys=True, default=lambda obj: f"#{fingerprint(obj)}")
    if not text.strip():
        raise InvalidInput("cache key is empty")
    return text


# -- the cache --------------------------------------------------------------------------------
class CacheIndex(Index):
    FILE = "cache.db"
    # Version 1 is the first release's; 2 keeps a function's results apart from another's
    # (namespace) and from its own older code's (version).
    SCHEMA = Schema(
        "cache",
        """
    CREATE TABLE IF NOT EXISTS cache (
        id TEXT PRIMARY KEY, label TEXT NOT NULL, kind TEXT NOT NULL, meta TEXT, inline BLOB,
        blob TEXT, size INTEGER NOT NULL, created REAL NOT NULL, used REAL NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0, expires TEXT NOT NULL, seconds REAL NOT NULL,
        writer TEXT NOT NULL);
    """,
        migrations=(add_columns("cache", namespace="TEXT NOT NULL DEFAULT ''", version="TEXT NOT NULL DEFAULT ''"),),
    )
    BLOB_REFS = "SELECT DISTINCT blob FROM cache WHERE blob IS NOT NULL"


SHARED = ".shared"  # <home>/sessions/.shared/<app>/cache: a name no user folder can have (check_name)


@dataclass(frozen=True)
class Origin:
    """Where a cached function's result came from: ``str(origin)`` says it in a sentence."""

    from_cache: bool
    key: str
    namespace: str
    version: str
    computed: str  # ISO time of the computation
    seconds: float  # how long the computation took
    shared: str | None  # the app whose users share this result, or None (this user's own)

    def __str__(self) -> str:
        how = "from the cache" if self.from_cache else "computed now"
        text = f"{how}: computed {self.computed} in {self.seconds:.1f} s under key {self.key[:80]!r}"
        if self.version:
            text += f", version {self.version}"
        return text + (f", shared by the users of {self.shared}" if self.shared else "")


class Cache:
    """A user's cache on disk (``<home>/sessions/<user>/cache``), or with ``shared="<app>"`` the
    cache every user of that app shares (``<home>/sessions/.shared/<app>/cache``).

    ``cache`` (the module's instance) works for ``current_user()`` in ``$MLAPP_HOME``, resolved
    at each call. ``allow_pickle=True`` lets it keep results no safe format can (only ever read
    back by the same user, so never in a shared cache). ``cache.last`` is the ``Origin`` of the
    last result this thread got.
    """

    def __init__(
        self,
        user: str | None = None,
        home=None,
        *,
        shared: str | None = None,
        allow_pickle: bool = False,
        clock: Callable[[], float] = time.time,
    ):
        if shared is not None:
            check_name(shared, "app name")
            if allow_pickle:
                raise InvalidInput("a shared cache keeps safe formats only: a pickle is never read by another user")
        self._user, self._home, self.shared = user, home, shared
        self.allow_pickle = allow_pickle
        self.clock = clock
        self._indexes: dict[tuple, CacheIndex] = {}
        self._shared: dict[str, Cache] = {}
        self._local = threading.local()

    @property
    def user(self) -> str:
        return check_name(self._user or current_user(), "user name")

    @property
    def last(self) -> Origin | None:
        """Where the last result this thread got from this cache came from."""
        return getattr(self._local, "origin", None)

    def _index(self) -> CacheIndex:
        from ..home import home_dir

        where = (self.shared or self.user, str(home_dir(self._home)))
        if where not in self._indexes:
            if self.shared:
                folder = _private_dir(room_dir(ROOM, where[1]) / SHARED / self.shared)
            else:
                folder = user_folder(where[0], where[1])
            self._indexes[where] = CacheIndex(folder / "cache")
        return self._indexes[where]

    def for_app(self, app: str) -> Cache:
        """The cache shared by every user of ``app`` (same home and clock as this one)."""
        if app not in self._shared:
            self._shared[app] = Cache(self._user, self._home, shared=app, clock=self.clock)
        return self._shared[app]

    def close(self) -> None:
        for index in self._indexes.values():
            index.close()
        self._indexes.clear()
        for shared in self._shared.values():
            shared.close()

    # -- use --------------------------------------------------------------------------------------
    def __call__(
        self,
        fn: Callable | None = None,
        *,
        key=None,
        expires=None,
        version=None,
        namespace: str | None = None,
        shared: str | None = None,
        allow_pickle: bool | None = None,
    ):
        """Decorate a function: ``@cache``, ``@cache(key="model")`` or
        ``@cache(key=lambda data, lr: (fingerprint(data), lr), expires="daily", version=2)``.

        ``key`` is text (one result whatever the arguments), or a callable given the function's
        arguments. Without one, the key is the fingerprint of all its arguments (never its code:
        editing the function does not recompute; raise ``version`` when it should). Keys live in
        the function's namespace (its module and qualified name); functions given the same
        ``namespace="..."`` share their results. ``shared="<app>"`` keeps them for every user of
        that app. ``fn.origin()`` tells where this thread's last result of ``fn`` came from.
        """
        if fn is not None and not callable(fn):
            raise InvalidInput(f"@cache takes the key as a keyword: @cache(key={fn!r})")
        expiry = Expiry.parse(expires)
        store = self.for_app(shared) if shared is not None else self

        def decorate(func):
            space = namespace if namespace is not None else f"{func.__module__}.{func.__qualname__}"
            local = threading.local()

            @functools.wraps(func)
            def cached(*args, **kwargs):
                if key is None:
                    k = [list(args), kwargs]
                elif callable(key):
                    k = key(*args, **kwargs)
                else:
                    k = key
                value = store.get_or_compute(
                    k,
                    lambda: func(*args, **kwargs),
                    expires=expiry,
                    version=version,
                    namespace=space,
                    allow_pickle=allow_pickle,
                )
                local.origin = store.last
                return value

            cached.cache = store
            cached.origin = lambda: getattr(local, "origin", None)
            return cached

        return decorate(fn) if fn is not None else decorate

    def get_or_compute(
        self,
        key,
        compute: Callable[[], Any],
        expires=None,
        *,
        version=None,
        namespace: str = "",
        allow_pickle: bool | None = None,
    ):
        """The cached value of ``key`` (in ``namespace``) if it is there, fresh and of this
        ``version``, else ``compute()``, stored. ``self.last`` then says which it was."""
        expiry = Expiry.parse(expires)
        text = key_text(key)
        wanted = "" if version is None else str(version)
        key_id = _key_id(namespace, text)
        pickle_ok = self.allow_pickle if allow_pickle is None else allow_pickle
        if pickle_ok and self.shared:
            raise InvalidInput("a shared cache keeps safe formats only: a pickle is never read by another user")
        index = self._index()
        found = self._lookup(index, key_id, expiry, wanted, pickle_ok)
        if found is not _MISS:
            return found
        with self._locked(index, key_id, text):
            found = self._lookup(index, key_id, expiry, wanted, pickle_ok)  # another caller computed it
            if found is not _MISS:
                return found
            started = time.perf_counter()
            value = compute()
            seconds = time.perf_counter() - started
            encoded = encode(value, pickle_ok)
            row = index.prepare(encoded)
            now = self.clock()
            with index.lock, transaction(index.conn):
                index.conn.execute(
                    "INSERT OR REPLACE INTO cache (id, label, kind, meta, inline, blob, size, created, used, hits,"
                    " expires, seconds, writer, namespace, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (key_id, text[:LABEL_MAX], *row, now, now, 0, expiry.text, seconds, self.user, namespace, wanted),
                )
            log.info("cache: computed %s in %.1fs", text[:80], seconds)
        self._local.origin = Origin(False, text, namespace, wanted, iso(now), round(seconds, 3), self.shared)
        return value

    def _lookup(self, index: CacheIndex, key_id: str, expiry: Expiry, version: str, allow_pickle: bool):
        with index.lock:
            row = index.conn.execute("SELECT * FROM cache WHERE id=?", (key_id,)).fetchone()
        if row is None or row["version"] != version or expiry.is_stale(row["created"], self.clock()):
            return _MISS
        try:
            value = decode(index.read(row), owner=row["writer"], user=self.user, allow_pickle=allow_pickle)
        except Exception as exc:  # damaged: set it aside and compute again
            log.warning("cache: %s could not be read (%s); recomputing", row["label"][:80], exc)
            if row["blob"] and index.blob_path(row["blob"]).exists():
                index.set_aside(index.blob_path(row["blob"]))
            return _MISS
        with index.lock, transaction(index.conn):
            index.conn.execute("UPDATE cache SET hits=hits+1, used=? WHERE id=?", (self.clock(), key_id))
        self._local.origin = Origin(
            True, row["label"], row["namespace"], version, iso(row["created"]), round(row["seconds"], 3), self.shared
        )
        return value

    @contextlib.contextmanager
    def _locked(self, index: CacheIndex, key_id: str, text: str):
        """One computation per key at a time across threads and processes: an advisory lock on
        a file per key (released by the kernel if the holder dies)."""
        path = _private_dir(index.folder / "locks") / f"{key_id}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("cache: waiting for another process computing %s", text[:80])
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    # -- inspect and control ----------------------------------------------------------------------
    def info(self) -> list[dict]:
        """Every cached result: key, when computed and last used, hits, size, compute time,
        schedule, and whether it is stale now (it is recomputed at its next use)."""
        index = self._index()
        now = self.clock()
        with index.lock:
            rows = index.conn.execute("SELECT * FROM cache ORDER BY used DESC").fetchall()
        return [
            {
                "id": r["id"],
                "key": r["label"],
                "kind": r["kind"],
                "size": r["size"],
                "created": iso(r["created"]),
                "used": iso(r["used"]),
                "hits": r["hits"],
                "seconds": round(r["seconds"], 3),
                "expires": r["expires"],
                "stale": _stale_now(r, now),
                "namespace": r["namespace"],
                "version": r["version"],
                "writer": r["writer"],
                "shared": self.shared,
            }
            for r in rows
        ]

    def clear(self, key=None, *, namespace: str = "") -> int:
        """Forget ``key`` (a key as given to the cache, in ``namespace``, or an ``id`` from
        ``info()``), or every result when ``key`` is None. Returns how many were removed;
        ``NotFound`` for an unknown key. A decorated function's results: ``fn.cache.clear(key,
        namespace=...)`` or the ids of ``info()``."""
        index = self._index()
        with index.lock, transaction(index.conn):
            if key is None:
                removed = index.conn.execute("DELETE FROM cache").rowcount
            else:
                ids = {key} if isinstance(key, str) else set()
                ids.add(_key_id(namespace, key_text(key)))
                removed = sum(index.conn.execute("DELETE FROM cache WHERE id=?", (i,)).rowcount for i in ids)
                if not removed:
                    raise NotFound(f"nothing cached under {key_text(key)[:80]!r}")
        index.collect_garbage()
        return removed


_MISS = object()


def _key_id(namespace: str, text: str) -> str:
    # Without a namespace the id is the key's alone, as it was before namespaces: results cached
    # by get_or_compute before then are still found.
    named = f"{namespace}\0{text}" if namespace else text
    return hashlib.blake2b(named.encode(), digest_size=16).hexdigest()


def _stale_now(row, now: float) -> bool:
    """Whether the schedule stored with a result says it is stale (a custom function's verdict
    is only known to its caller: reported as fresh)."""
    text = row["expires"]
    if text == "never" or text.startswith("custom: "):
        return False
    return Expiry.parse(text).is_stale(row["created"], now)


cache = Cache()
