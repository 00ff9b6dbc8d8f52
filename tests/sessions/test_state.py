"""AppState on real files: values of every kind, autosave, widgets, snapshots, users, damage."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import shutil
import sqlite3
import time

import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from jupyter_mlapp.errors import Conflict, InvalidInput, NotFound
from jupyter_mlapp.sessions import AppState, end_session
from jupyter_mlapp.sessions.store import app_folder


@pytest.fixture
def open_state(mlapp_home):
    """AppStates that are closed (autosaved) at the end of the test."""
    states = []

    def make(app="churn", user="alice", **kwargs) -> AppState:
        state = AppState(app, user=user, **kwargs)
        states.append(state)
        return state

    yield make
    for state in states:
        state.close()


def reopen(state: AppState, **kwargs) -> AppState:
    """What a new kernel of the same user and app sees (a refresh, a restarted server)."""
    state.close()
    return AppState(state.app, user=state.user, **kwargs)


def frame(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "label": rng.integers(0, 2, n), "name": [f"r{i}" for i in range(n)]})


def test_a_new_state_is_empty_and_says_nothing_was_restored(open_state):
    state = open_state()
    assert len(state) == 0 and not state.restored and state.message == "" and state.page is None


def test_values_of_every_kind_come_back_exactly(open_state):
    state = open_state()
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    values = {
        "int": 3,
        "float": 0.01,
        "text": "héllo",
        "none": None,
        "flag": True,
        "list": [1, "a", [2]],
        "dict": {"a": {"b": [1.5]}},
        "range": (2, 8),
        "day": dt.date(2024, 5, 4),
        "when": dt.datetime(2024, 5, 4, 12, 30),
        "path": pathlib.Path("/data/train.csv"),
        "posix": pathlib.PurePosixPath("a/b"),
        "raw": b"\x00\xffpng",
        "frame": frame(),
        "series": pd.Series([1.0, 2.0], name="y"),
        "array": np.arange(12).reshape(3, 4),
        "scalar": np.float32(1.5),
        "bundle": ({"auc": 0.9}, frame(20), [np.arange(3), pathlib.Path("x")]),
    }
    for key, value in values.items():
        state[key] = value
    state["model"] = model
    loaded = reopen(state)
    try:
        assert loaded.restored and "Restored 19 values" in loaded.message
        for key, value in values.items():
            got = loaded[key]
            assert type(got) is type(value), key
            if key == "bundle":
                assert got[0] == value[0] and got[2][1] == value[2][1]
                pd.testing.assert_frame_equal(got[1], value[1])
                np.testing.assert_array_equal(got[2][0], value[2][0])
            elif isinstance(value, pd.DataFrame):
                pd.testing.assert_frame_equal(got, value)
            elif isinstance(value, pd.Series):
                pd.testing.assert_series_equal(got, value)
            elif isinstance(value, np.ndarray):
                np.testing.assert_array_equal(got, value)
            else:
                assert got == value, key
        assert isinstance(loaded["model"], LogisticRegression)
        assert loaded["model"].predict([[2.5]]).tolist() == [1]
    finally:
        loaded.close()


def test_values_that_cannot_be_saved_safely_are_refused_at_once(open_state):
    state = open_state()
    with pytest.raises(InvalidInput, match="allow_pickle=True"):
        state["f"] = lambda x: x
    with pytest.raises(InvalidInput, match="key"):
        state[""] = 1
    assert "f" not in state


class Opaque:
    def __init__(self, n):
        self.n = n


def test_pickles_only_when_opted_in_and_never_from_another_users_files(open_state, mlapp_home):
    alice = open_state(user="alice", allow_pickle=True)
    alice["thing"] = Opaque(7)
    alice.close()
    reopened = AppState("churn", user="alice", allow_pickle=True)
    assert reopened["thing"].n == 7
    reopened.close()  # its autosave thread keeps a good copy of the files: done before they are copied
    without = AppState("churn", user="alice")
    assert "thing" not in without and "allow_pickle=True" in without.message
    without.close()
    # Someone copies alice's files into bob's folder: bob never unpickles them.
    shutil.copytree(app_folder("alice", "churn", mlapp_home), app_folder("bob", "churn", mlapp_home))
    bob = open_state(user="bob", allow_pickle=True)
    assert "thing" not in bob and "written by 'alice'" in bob.message


def doubled(x):
    return x * 2


def test_a_model_loads_with_the_types_it_was_saved_with_and_no_others(open_state, mlapp_home):
    state = open_state()
    model = make_pipeline(FunctionTransformer(doubled), LogisticRegression()).fit(np.array([[0.0], [1.0]]), [0, 1])
    state["model"] = model
    state = reopen(state)  # the custom function is trusted: this user saved it
    assert state["model"].predict(np.array([[1.0]])).tolist() == [1]
    state.close()
    # The same files in bob's folder: bob does not trust what alice recorded.
    bob_folder = app_folder("bob", "churn", mlapp_home)
    shutil.copytree(app_folder("alice", "churn", mlapp_home), bob_folder)
    bob = open_state(user="bob")
    assert "model" not in bob and "not saved with it" in bob.message
    conn = sqlite3.connect(app_folder("alice", "churn", mlapp_home) / "state.db")
    conn.execute("""UPDATE entries SET meta=json_set(meta, '$.trusted', json('[]')) WHERE key='model'""")
    conn.commit()
    conn.close()
    loaded = open_state()
    assert "model" not in loaded and "not saved with it" in loaded.message


def poll(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def disk_values(home, user="alice", app="churn") -> dict:
    conn = sqlite3.connect(app_folder(user, app, home) / "state.db")
    try:
        return {
            k: (bytes(v) if v is not None else None)
            for k, v in conn.execute("SELECT key, inline FROM entries WHERE slot=0")
        }
    finally:
        conn.close()


def test_a_change_is_on_disk_within_300_ms_without_any_call(open_state, mlapp_home):
    state = open_state()
    state["lr"] = 0.5
    assert poll(lambda: disk_values(mlapp_home).get("lr") == b"0.5", timeout=5)
    started = time.monotonic()
    state["lr"] = 0.25
    assert poll(lambda: disk_values(mlapp_home).get("lr") == b"0.25", timeout=5)
    # Under load the machine may be slow; the design bound is autosave_delay (0.1 s) + one commit.
    assert time.monotonic() - started < 3.0


def test_a_one_key_autosave_leaves_large_values_untouched(open_state, mlapp_home):
    state = open_state()
    state["data"] = frame(100_000)
    state["lr"] = 0.1
    state.autosave()
    blobs = sorted((app_folder("alice", "churn", mlapp_home) / "blobs").rglob("*"))
    files = [p for p in blobs if p.is_file()]
    assert len(files) == 1
    before = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in files]
    updated = {
        r: t
        for r, t in sqlite3.connect(app_folder("alice", "churn", mlapp_home) / "state.db").execute(
            "SELECT key, updated FROM entries"
        )
    }
    state["lr"] = 0.2
    state.autosave()
    assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in files] == before
    after = {
        r: t
        for r, t in sqlite3.connect(app_folder("alice", "churn", mlapp_home) / "state.db").execute(
            "SELECT key, updated FROM entries"
        )
    }
    assert after["data"] == updated["data"] and after["lr"] > updated["lr"]


def test_link_restores_the_widget_and_autosaves_its_changes(open_state):
    state = open_state()
    slider = state.link(widgets.IntSlider(value=3, max=100), "value", "n")
    text = widgets.Text(value="hi")
    state.link(text, "value", "title")
    assert state["n"] == 3
    slider.value, text.value = 42, "churn model"
    state = reopen(state)
    try:
        fresh_slider, fresh_text = widgets.IntSlider(value=3, max=100), widgets.Text(value="hi")
        state.link(fresh_slider, "value", "n")
        state.link(fresh_text, "value", "title")
        assert (fresh_slider.value, fresh_text.value) == (42, "churn model")
        # Setting the state from code moves the widget too.
        state["n"] = 7
        assert fresh_slider.value == 7
        # A new session puts widgets back to their defaults (the values before the restore).
        state.new_session()
        assert (fresh_slider.value, fresh_text.value) == (3, "hi")
        assert state["n"] == 3 and "Started a new session" in state.message
    finally:
        state.close()


def test_observe_reports_old_and_new_and_the_page_is_state(open_state):
    state = open_state()
    seen = []
    state.observe("page", lambda change: seen.append((change.name, change.old, change.new)))
    state.page = "Data"
    state.page = "Train"
    state.page = "Train"  # unchanged: no call
    assert seen == [("page", None, "Data"), ("page", "Data", "Train")]
    assert reopen(state).page == "Train"


def test_snapshots_save_list_load_rename_delete(open_state):
    state = open_state()
    slider = state.link(widgets.FloatSlider(value=0.1), "value", "lr")
    state["data"] = frame(500)
    slider.value = 0.5
    info = state.save_snapshot("baseline")
    assert info["name"] == "baseline" and info["keys"] == 2 and info["size"] > 1000
    assert "lr=0.5" in info["summary"] and "DataFrame 500x3" in info["summary"]
    slider.value = 0.9
    state["data"] = frame(10)
    state.save_snapshot("later")
    assert [s["name"] for s in state.snapshots()] == ["later", "baseline"]
    dt.datetime.fromisoformat(state.snapshots()[0]["created"])

    state.load_snapshot("baseline")
    assert slider.value == 0.5 and len(state["data"]) == 500  # at once, no reload
    assert reopen(state)["lr"] == 0.5  # and it is the saved state now
    state = open_state()
    with pytest.raises(Conflict):
        state.save_snapshot("later")
    assert state.save_snapshot("later", overwrite=True)["summary"].startswith("2 values: data=DataFrame 500x3")
    assert state.rename_snapshot("later", "final")["name"] == "final"
    with pytest.raises(Conflict):
        state.rename_snapshot("final", "baseline")
    state.delete_snapshot("final")
    assert [s["name"] for s in state.snapshots()] == ["baseline"]


def test_loading_a_missing_snapshot_leaves_the_state_untouched(open_state, mlapp_home):
    state = open_state()
    state["lr"] = 0.3
    state["n"] = 1
    with pytest.raises(NotFound, match="no snapshot named 'gone'"):
        state.load_snapshot("gone")
    assert dict(state) == {"lr": 0.3, "n": 1}
    state.autosave()
    assert disk_values(mlapp_home) == {"lr": b"0.3", "n": b"1"}
    for op in (state.delete_snapshot, lambda n: state.rename_snapshot(n, "x")):
        with pytest.raises(NotFound):
            op("gone")


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "x" * 129,
        "a/b",
        "a\\b",
        "..",
        "a..b",
        ".hidden",
        "nul\x00",
        "line\nbreak",
        "tab\t",
        " padded",
        "rtl\u202e",
    ],
)
def test_bad_names_are_refused_with_a_clear_message(open_state, name):
    state = open_state()
    with pytest.raises(InvalidInput) as err:
        state.save_snapshot(name)
    assert "snapshot name" in str(err.value)
    with pytest.raises(InvalidInput):
        AppState(name, user="alice")
    with pytest.raises(InvalidInput):
        state[name] = 1
    assert state.snapshots() == []


def test_two_tabs_last_write_wins_per_key_and_no_snapshot_is_lost(open_state):
    tab1, tab2 = open_state(), open_state()
    tab1["x"], tab1["y"] = 1, 1
    tab1.autosave()
    tab2["y"] = 2
    tab2.autosave()
    tab1.save_snapshot("from-tab1")
    tab2.save_snapshot("from-tab2")
    tab1.close()
    tab2.close()
    fresh = open_state()
    assert dict(fresh) == {"x": 1, "y": 2}
    assert {s["name"] for s in fresh.snapshots()} == {"from-tab1", "from-tab2"}


def test_one_users_state_and_snapshots_are_invisible_to_another(open_state, monkeypatch):
    monkeypatch.setenv("MLAPP_USER", "alice")
    alice = open_state(user=None)
    assert alice.user == "alice"
    alice["secret"] = "alice's"
    alice.save_snapshot("mine")
    alice.close()
    monkeypatch.setenv("MLAPP_USER", "bob")
    bob = open_state(user=None)
    assert bob.user == "bob" and len(bob) == 0 and bob.snapshots() == []
    with pytest.raises(NotFound):
        bob.load_snapshot("mine")


def test_end_session_clears_every_autosave_of_that_user_only(open_state):
    for app in ("churn", "fraud"):
        state = open_state(app=app)
        state["x"] = 1
        state.save_snapshot("keep")
        state.close()
    other = open_state(user="bob")
    other["x"] = 2
    other.close()
    assert end_session("alice") == 2
    for app in ("churn", "fraud"):
        state = open_state(app=app)
        assert len(state) == 0 and [s["name"] for s in state.snapshots()] == ["keep"]
    assert open_state(user="bob")["x"] == 2
    assert end_session("nobody") == 0


def test_a_damaged_value_is_set_aside_and_the_rest_loads(open_state, mlapp_home):
    state = open_state()
    state["data"] = frame(5000)
    state["lr"] = 0.1
    state.close()
    folder = app_folder("alice", "churn", mlapp_home)
    (blob,) = [p for p in (folder / "blobs").rglob("*") if p.is_file()]
    blob.write_bytes(blob.read_bytes()[:100])  # truncated, as by a full disk
    loaded = open_state()
    assert dict(loaded) == {"lr": 0.1}
    assert "'data' could not be read" in loaded.message and loaded.warnings
    assert list((folder / "corrupt").iterdir()) and not blob.exists()
    assert "data" not in reopen(loaded)  # told once; the damaged value is gone from the state


def test_a_damaged_state_file_is_set_aside_and_the_last_good_state_loads(open_state, mlapp_home):
    state = open_state()
    state["lr"] = 0.1
    state["data"] = frame(5000)
    state = reopen(state)  # a successful load keeps a good copy
    state["lr"] = 0.2
    state.close()
    folder = app_folder("alice", "churn", mlapp_home)
    (folder / "state.db").write_bytes(b"this is not a database" * 100)
    for extra in ("state.db-wal", "state.db-shm"):
        (folder / extra).unlink(missing_ok=True)
    loaded = open_state()
    assert loaded["lr"] == 0.1 and len(loaded["data"]) == 5000  # the last good state
    assert "damaged" in loaded.message and "restored the last good state" in loaded.message
    assert any(p.name.startswith("state.db") for p in (folder / "corrupt").iterdir())


def test_a_damaged_state_file_without_a_good_copy_starts_clean_and_says_so(open_state, mlapp_home):
    folder = app_folder("alice", "churn", mlapp_home)
    folder.mkdir(parents=True)
    (folder / "state.db").write_bytes(b"\x00garbage" * 50)
    state = open_state()
    assert len(state) == 0 and "starting clean" in state.message
    state["x"] = 1
    assert reopen(state)["x"] == 1


def test_unused_blobs_are_collected(open_state, mlapp_home):
    state = open_state()
    state["data"] = frame(5000, seed=1)
    state.save_snapshot("one")
    state["data"] = frame(5000, seed=2)
    state.autosave()
    folder = app_folder("alice", "churn", mlapp_home) / "blobs"
    blobs = lambda: sorted(p for p in folder.rglob("*") if p.is_file())  # noqa: E731
    assert len(blobs()) == 2
    # What killed writers leave behind: a half-written blob, a half-made good copy.
    leftovers = [folder / "ab" / ".deadbeef.1234.tmp", folder.parent / ".state.good.db.x1y2.tmp"]
    for path in leftovers:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"partial")
    for path in blobs() + leftovers:  # older than the grace that protects writers about to commit
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    state.delete_snapshot("one")
    assert len(blobs()) == 1 and not any(p.exists() for p in leftovers)
    pd.testing.assert_frame_equal(reopen(state)["data"], frame(5000, seed=2))


def test_a_truncated_state_file_is_found_at_load_not_half_way(open_state, mlapp_home):
    state = open_state()
    for i in range(300):  # an index of many pages
        state[f"setting_{i}"] = "x" * 500
    state = reopen(state)
    state.close()
    path = app_folder("alice", "churn", mlapp_home) / "state.db"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    loaded = open_state()
    assert len(loaded) == 300 and "restored the last good state" in loaded.message


def test_a_users_folder_is_private(open_state, mlapp_home):
    open_state()["x"] = 1
    user = app_folder("alice", "churn", mlapp_home).parent.parent
    assert user.stat().st_mode & 0o077 == 0
    assert (app_folder("alice", "churn", mlapp_home) / "state.db").stat().st_mode & 0o077 == 0


def test_two_kernels_writing_at_once_lose_no_key_and_no_snapshot(mlapp_home, tmp_path):
    """Two tabs of one app are two kernels: real processes, writing and snapshotting together."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from jupyter_mlapp.sessions import AppState\n"
        "tab = sys.argv[1]\n"
        "state = AppState('churn', user='alice', autosave_delay=0.01)\n"
        "for i in range(40):\n"
        "    state[f'own_{tab}'] = i\n"
        "    state['shared'] = f'{tab}-{i}'\n"
        "    state.save_snapshot(f'{tab}-{i}')\n"
        "state.close()\n"
    )
    env = {**os.environ, "MLAPP_HOME": str(mlapp_home)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code, tab], env=env, stderr=subprocess.PIPE, text=True)
        for tab in ("a", "b")
    ]
    for proc in procs:
        _, errors = proc.communicate(timeout=120)  # and closes the pipe
        assert proc.returncode == 0, errors
    state = AppState("churn", user="alice")
    try:
        assert state["own_a"] == 39 and state["own_b"] == 39
        assert state["shared"] in ("a-39", "b-39")  # whichever tab wrote last
        assert len(state.snapshots()) == 80
    finally:
        state.close()


def test_a_value_whose_file_changed_is_not_loaded_with_wrong_numbers(open_state, mlapp_home):
    """A flipped byte in the middle of a large array would still parse: its hash tells."""
    state = open_state()
    state["weights"] = np.arange(100_000, dtype=np.float64)
    state["lr"] = 0.1
    state.close()
    folder = app_folder("alice", "churn", mlapp_home)
    (blob,) = [p for p in (folder / "blobs").rglob("*") if p.is_file()]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    loaded = open_state()
    assert dict(loaded) == {"lr": 0.1}
    assert "'weights' could not be read (DamagedBlob: its file does not hold what was saved" in loaded.message
    assert list((folder / "corrupt").iterdir())
