"""The explicit cache on real files and real processes: keys, schedules, compute-once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
from fixtures import predecessor_home

from jupyter_mlapp.errors import InvalidInput, NotFound
from jupyter_mlapp.home import schema_version
from jupyter_mlapp.sessions import Cache, Expiry, fingerprint
from jupyter_mlapp.sessions.cache import CacheIndex

FRIDAY = dt.datetime(2026, 11, 20, 18, 0)  # a Friday evening, local time


class Clock:
    def __init__(self, moment: dt.datetime):
        self.moment = moment

    def __call__(self) -> float:
        return self.moment.timestamp()


@pytest.fixture
def counted():
    calls = []

    def compute(value="result"):
        calls.append(value)
        return value

    compute.calls = calls
    return compute


def test_computes_once_then_reads_from_disk_even_in_a_new_cache(counted):
    assert Cache(user="alice").get_or_compute("model", lambda: counted({"auc": 0.9})) == {"auc": 0.9}
    assert Cache(user="alice").get_or_compute("model", lambda: counted("other")) == {"auc": 0.9}
    assert counted.calls == [{"auc": 0.9}]
    assert Cache(user="bob").get_or_compute("model", lambda: counted("bob's")) == "bob's"  # per user


def test_neither_edited_code_nor_an_unrelated_input_recomputes(counted):
    cache = Cache(user="alice")

    @cache(key=lambda data, verbose: ("forest", fingerprint(data)))
    def train(data, verbose):
        return counted(len(data))

    data = pd.DataFrame({"x": range(10)})
    assert train(data, verbose=False) == 10
    assert train(data.copy(), verbose=True) == 10  # same content, other object, unrelated flag

    @cache(key=lambda data, verbose: ("forest", fingerprint(data)))
    def train(data, verbose):
        return counted(-1)

    assert train(data, verbose=False) == 10
    assert counted.calls == [10]
    assert train(pd.DataFrame({"x": range(11)}), verbose=False) == -1  # the data changed: the key did


def test_without_a_key_the_arguments_are_the_key(counted):
    cache = Cache(user="alice")

    @cache
    def square(x):
        return counted(x * x)

    assert [square(3), square(3), square(4)] == [9, 9, 16]
    assert counted.calls == [9, 16]


def test_frames_models_and_arrays_are_cached_in_safe_formats(counted):
    from sklearn.linear_model import LinearRegression

    cache = Cache(user="alice")
    frame = pd.DataFrame({"a": np.arange(1000), "b": np.linspace(0, 1, 1000)})
    model = LinearRegression().fit(frame[["a"]], frame["b"])
    cache.get_or_compute("frame", lambda: frame)
    cache.get_or_compute("model", lambda: model)
    pd.testing.assert_frame_equal(Cache(user="alice").get_or_compute("frame", counted), frame)
    assert Cache(user="alice").get_or_compute("model", counted).coef_ == pytest.approx(model.coef_)
    assert counted.calls == []
    cache.get_or_compute("model and score", lambda: (model, {"r2": 0.5}))  # a tuple of both kinds
    got_model, score = Cache(user="alice").get_or_compute("model and score", counted)
    assert got_model.coef_ == pytest.approx(model.coef_) and score == {"r2": 0.5}
    with pytest.raises(InvalidInput, match="allow_pickle"):
        cache.get_or_compute("lambda", lambda: lambda: 1)
    assert Cache(user="alice", allow_pickle=True).get_or_compute("lambda", lambda: threading.Lock) is threading.Lock


def test_weekends_keeps_fridays_result_all_week_and_recomputes_on_saturday(counted):
    clock = Clock(FRIDAY)
    cache = Cache(user="alice", clock=clock)
    get = lambda value: cache.get_or_compute("model", lambda: counted(value), expires="weekends")  # noqa: E731
    assert get("friday") == "friday"
    clock.moment = FRIDAY + dt.timedelta(hours=5)  # Friday 23:00
    assert get("late friday") == "friday"
    clock.moment = FRIDAY + dt.timedelta(days=1)  # Saturday: recompute once
    assert get("saturday") == "saturday"
    clock.moment += dt.timedelta(hours=3)
    assert get("saturday again") == "saturday"
    clock.moment = FRIDAY + dt.timedelta(days=2)  # Sunday is the weekend too: at most once a day
    assert get("sunday") == "sunday"
    for days in range(3, 8):  # Monday to the next Friday: never, however much time passed
        clock.moment = FRIDAY + dt.timedelta(days=days)
        assert get(f"day {days}") == "sunday"
    assert counted.calls == ["friday", "saturday", "sunday"]


@pytest.mark.parametrize(
    "expires, later, stale",
    [
        ("daily", dt.timedelta(hours=5), False),  # 23:00 the same day
        ("daily", dt.timedelta(hours=7), True),  # 01:00 the next day
        ("2h", dt.timedelta(minutes=119), False),
        ("2h", dt.timedelta(minutes=121), True),
        (3600, dt.timedelta(minutes=61), True),
        (dt.timedelta(days=1), dt.timedelta(hours=23), False),
        ("hourly", dt.timedelta(minutes=29), False),  # 18:30 -> 18:59
        ("hourly", dt.timedelta(minutes=31), True),  # 18:30 -> 19:01
        ("weekly", dt.timedelta(days=2), False),  # Sunday: same week
        ("weekly", dt.timedelta(days=3), True),  # Monday: a new week
        ("mon, wed", dt.timedelta(days=3), True),
        ("tuesday", dt.timedelta(days=3), False),
        ("weekdays", dt.timedelta(days=1), False),
        (None, dt.timedelta(days=400), False),
    ],
)
def test_schedules(expires, later, stale):
    computed = FRIDAY.replace(minute=30) if expires == "hourly" else FRIDAY
    assert Expiry.parse(expires).is_stale(computed.timestamp(), (computed + later).timestamp()) is stale


def test_a_custom_schedule_and_bad_ones():
    first_of_month = Expiry.parse(lambda computed, now: now.month != computed.month)
    assert first_of_month.is_stale(FRIDAY.timestamp(), (FRIDAY + dt.timedelta(days=11)).timestamp())
    for bad in ("sometimes", "fortnightly", -5, 0, [1]):
        with pytest.raises(InvalidInput):
            Expiry.parse(bad)


def test_info_and_clear(counted):
    cache = Cache(user="alice")
    cache.get_or_compute("a", lambda: counted(1), expires="daily")
    cache.get_or_compute(("b", 2), lambda: counted([2]))
    cache.get_or_compute("a", counted)
    info = {e["key"]: e for e in cache.info()}
    assert set(info) == {"a", '["b", 2]'}
    assert info["a"]["hits"] == 1 and info["a"]["expires"] == "daily" and not info["a"]["stale"]
    assert cache.clear(("b", 2)) == 1
    assert cache.clear(info["a"]["id"]) == 1
    with pytest.raises(NotFound):
        cache.clear("a")
    cache.get_or_compute("c", lambda: counted(3))
    assert cache.clear() == 1 and cache.info() == []


def test_concurrent_threads_compute_once():
    cache = Cache(user="alice")
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return "done"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["done"] * 6 and len(calls) == 1


def test_concurrent_processes_compute_once(tmp_path, mlapp_home):
    log = tmp_path / "computed.log"
    code = (
        "import os, time, sys\n"
        "from jupyter_mlapp.sessions import Cache\n"
        "def slow():\n"
        f"    with open({str(log)!r}, 'a') as fh: fh.write(f'{{os.getpid()}}\\n')\n"
        "    time.sleep(1.0)\n"
        "    return {'auc': 0.91}\n"
        "print(Cache(user='alice').get_or_compute('shared', slow)['auc'])\n"
    )
    env = {**os.environ, "MLAPP_HOME": str(mlapp_home)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env) for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert outputs == ["0.91"] * 3
    assert len(log.read_text().splitlines()) == 1


def test_a_damaged_result_is_recomputed(counted, mlapp_home):
    cache = Cache(user="alice")
    cache.get_or_compute("frame", lambda: pd.DataFrame({"x": np.arange(50_000)}))
    (blob,) = [p for p in (mlapp_home / "sessions" / "alice" / "cache" / "blobs").rglob("*") if p.is_file()]
    blob.write_bytes(b"garbage")
    assert cache.get_or_compute("frame", lambda: counted("again")) == "again"


def test_fingerprints_follow_content(tmp_path):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    assert fingerprint(frame) == fingerprint(frame.copy())
    assert fingerprint(frame) != fingerprint(frame.assign(a=[1, 2, 4]))
    assert fingerprint(frame) != fingerprint(frame.rename(columns={"a": "c"}))
    assert fingerprint(frame) != fingerprint(frame.astype({"a": "float64"}))
    assert fingerprint(np.arange(3)) != fingerprint(np.arange(3).astype("int32"))
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    first = fingerprint(path)
    os.utime(path, (time.time() + 10, time.time() + 10))  # touched, same content
    assert fingerprint(path) == first
    path.write_text("a,b\n1,3\n")
    assert fingerprint(path) != first
    assert fingerprint(tmp_path) != fingerprint(tmp_path / "data.csv")
    with pytest.raises(InvalidInput):
        fingerprint(tmp_path / "missing.csv")


def test_info_says_which_results_are_stale_now(counted):
    clock = Clock(FRIDAY)
    cache = Cache(user="alice", clock=clock)
    cache.get_or_compute("hourly report", lambda: counted(1), expires="2h")
    cache.get_or_compute("custom", lambda: counted(2), expires=lambda computed, now: True)
    clock.moment += dt.timedelta(hours=3)
    info = {e["key"]: e for e in cache.info()}
    assert info["hourly report"]["stale"] and info["hourly report"]["expires"] == "2h"
    assert info["custom"]["expires"] == "custom: <lambda>" and not info["custom"]["stale"]
    with pytest.raises(InvalidInput, match="@cache\\(key='model'\\)"):
        cache("model")


def test_two_cached_functions_with_one_key_keep_their_own_results():
    cache = Cache(user="alice")

    @cache(key=lambda xs: "numbers")
    def mean(xs):
        return sum(xs) / len(xs)

    @cache(key=lambda xs: "numbers")
    def max_(xs):
        return max(xs)

    assert mean([1, 2, 6]) == 3 and max_([1, 2, 6]) == 6
    assert mean([1, 2, 6]) == 3 and max_([1, 2, 6]) == 6  # now both from the cache
    assert {e["namespace"] for e in cache.info()} == {f"{__name__}.{f.__qualname__}" for f in (mean, max_)}

    @cache(key="prep", namespace="shared prep")
    def prepare_a():
        return "a"

    @cache(key="prep", namespace="shared prep")
    def prepare_b():
        return "b"

    assert prepare_a() == "a" and prepare_b() == "a"  # one namespace asked for: one result


def test_version_recomputes_on_purpose_and_origin_says_where_a_result_came_from(counted):
    cache = Cache(user="alice")

    def make(version):
        @cache(key="model", version=version)
        def train():
            return counted(f"v{version}")

        return train

    train = make(1)
    assert train() == "v1" and not train.origin().from_cache
    assert train() == "v1"
    origin = train.origin()
    assert origin.from_cache and origin.key == "model" and origin.version == "1" and origin.namespace.endswith("train")
    assert str(origin).startswith("from the cache: computed ") and "'model'" in str(origin)
    assert make(2)() == "v2" and make(2)() == "v2"  # the author changed the code and said so
    assert counted.calls == ["v1", "v2"]
    assert [(e["key"], e["version"]) for e in cache.info()] == [("model", "2")]  # replaced, not piled up
    cache.get_or_compute("direct", lambda: 1)
    assert cache.last.key == "direct" and not cache.last.from_cache and cache.last.namespace == ""


def test_a_shared_cache_is_paid_once_for_every_user_of_an_app_and_per_user_by_default(counted):
    def prepare_for(user):
        cache = Cache(user=user)

        @cache(key="airquality", shared="dashboard")
        def prepare():
            return counted(f"prepared by {user}")

        @cache(key="airquality")
        def mine():
            return counted(f"{user}'s own")

        return prepare, mine

    alice, bob = prepare_for("alice"), prepare_for("bob")
    assert alice[0]() == "prepared by alice" and bob[0]() == "prepared by alice"
    assert bob[0].origin().from_cache and bob[0].origin().shared == "dashboard"
    assert alice[1]() == "alice's own" and bob[1]() == "bob's own"
    assert counted.calls == ["prepared by alice", "alice's own", "bob's own"]
    shared = Cache(user="carol", shared="dashboard")
    assert [(e["key"], e["writer"], e["shared"]) for e in shared.info()] == [("airquality", "alice", "dashboard")]
    assert len(Cache(user="carol").info()) == 0
    with pytest.raises(InvalidInput, match="pickle"):
        Cache(user="alice", shared="dashboard", allow_pickle=True)
    with pytest.raises(InvalidInput):
        Cache(user="alice", shared="../escape")


def test_an_index_of_the_first_schema_gains_the_new_columns(mlapp_home):
    import sqlite3

    folder = mlapp_home / "sessions" / "alice" / "cache"
    folder.mkdir(parents=True)
    conn = sqlite3.connect(folder / "cache.db")
    conn.execute(
        "CREATE TABLE cache (id TEXT PRIMARY KEY, label TEXT NOT NULL, kind TEXT NOT NULL, meta TEXT, inline BLOB,"
        " blob TEXT, size INTEGER NOT NULL, created REAL NOT NULL, used REAL NOT NULL,"
        " hits INTEGER NOT NULL DEFAULT 0, expires TEXT NOT NULL, seconds REAL NOT NULL, writer TEXT NOT NULL)"
    )
    conn.commit()
    conn.close()
    cache = Cache(user="alice")
    assert cache.get_or_compute("old", lambda: 1) == 1 and cache.get_or_compute("old", lambda: 2) == 1


def test_a_cache_of_the_release_before_versions_keeps_its_results(tmp_path):
    """cache.db as ab86b98 wrote it: no schema version, no namespace or version columns."""
    home, held = predecessor_home(tmp_path)
    cache = Cache(user=held["cache"]["user"], home=home)
    try:
        (entry,) = cache.info()
        assert (entry["key"], entry["namespace"], entry["version"]) == (held["cache"]["key"], "", "")
        assert cache.get_or_compute(held["cache"]["key"], lambda: pytest.fail("recomputed")) == held["cache"]["value"]
        assert cache.last.from_cache
        assert schema_version(cache._index().conn) == CacheIndex.SCHEMA.version
    finally:
        cache.close()
