"""The app state index across releases: a home folder of the release before versioned schemas."""

from __future__ import annotations

import numpy as np
from fixtures import predecessor_home

from jupyter_mlapp.home import schema_version
from jupyter_mlapp.sessions import AppState
from jupyter_mlapp.sessions.store import StateIndex


def test_state_of_the_release_before_versions_restores_with_its_snapshot(tmp_path):
    home, held = predecessor_home(tmp_path)
    app, user = held["state"]["app"], held["state"]["user"]
    state = AppState(app, user=user, home=home)
    try:
        assert state.restored and state.warnings == []
        assert state["threshold"] == held["state"]["threshold"]
        np.testing.assert_array_equal(state["weights"], np.arange(2000, dtype="float64"))  # a blob
        assert [s["name"] for s in state.snapshots()] == [held["state"]["snapshot"]]
        state["threshold"] = 0.9
        state.load_snapshot(held["state"]["snapshot"])
        assert state["threshold"] == held["state"]["threshold"]
    finally:
        state.close()


def test_the_servers_readonly_opening_of_an_older_index_migrates_it(tmp_path):
    home, held = predecessor_home(tmp_path)
    index = StateIndex(held["state"]["user"], held["state"]["app"], home, readonly=True)
    try:
        assert {row["key"] for row in index.rows()} == {"threshold", "weights"}
        assert schema_version(index.conn) == StateIndex.SCHEMA.version
        assert index.readonly and index.notices == []
    finally:
        index.close()
