"""Nothing lost: a writer killed with SIGKILL at random moments leaves the old or the new state.

A helper process imports everything once, then forks a writer per round (forking keeps each round
cheap) and kills it with SIGKILL after a random delay: while it loads, autosaves a frame and
three small keys in one commit, saves, renames or deletes snapshots, or collects garbage. After
each kill this test loads the state as a new kernel would and checks it whole.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time

import pytest

from jupyter_mlapp.sessions import AppState
from jupyter_mlapp.sessions.snapshots import Snapshots
from jupyter_mlapp.sessions.store import StateIndex
from jupyter_mlapp.sessions.values import decode

ROUNDS = int(os.environ.get("MLAPP_CRASH_ROUNDS", "200"))

WRITER = textwrap.dedent("""
    import os, random, signal, sys, time
    import numpy as np, pandas as pd
    from jupyter_mlapp.errors import MLAppError
    from jupyter_mlapp.sessions import AppState

    def write_forever(rng):
        # A long autosave delay: only our explicit autosave() commits, one whole batch at a time.
        state = AppState("crash", user="alice", autosave_delay=3600)
        i = state.get("counter", 0)
        while True:
            i += 1
            n = rng.randrange(1000, 30000)
            state["frame"] = pd.DataFrame({"gen": np.full(n, i), "v": np.arange(n, dtype="float64")})
            state["counter"] = i
            state["items"] = list(range(i % 37))
            state["check"] = {"gen": i, "n": n}
            state.autosave()
            try:
                op = rng.randrange(4)
                if op == 0:
                    state.save_snapshot(f"s{i % 4}", overwrite=True)
                elif op == 1:
                    state.rename_snapshot(f"s{i % 4}", f"r{i}")
                elif op == 2:
                    state.delete_snapshot(rng.choice([s["name"] for s in state.snapshots()] or ["none"]))
            except MLAppError:  # no such snapshot: fine
                pass

    # Warm up (imports, Parquet, SQLite) so that each forked writer starts writing at once.
    warm = AppState("warm-up", user="alice")
    warm["frame"] = pd.DataFrame({"gen": np.arange(10)})
    warm.close()
    AppState("warm-up", user="alice").close()
    print("ready", flush=True)
    for line in sys.stdin:
        seed, delay = line.split()
        rng = random.Random(int(seed))
        pid = os.fork()
        if pid == 0:
            try:
                write_forever(rng)
            finally:
                os._exit(1)
        time.sleep(float(delay))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("killed", flush=True)
""")


def check_values(values: dict, where: str) -> int:
    """The keys written in one commit agree with each other; returns the counter."""
    if not values:
        return 0
    assert set(values) == {"frame", "counter", "items", "check"}, where
    frame, check = values["frame"], values["check"]
    assert len(frame) == check["n"] and (frame["gen"] == check["gen"]).all(), where
    assert values["counter"] == check["gen"] and values["items"] == list(range(check["gen"] % 37)), where
    return values["counter"]


@pytest.mark.timeout(240)
def test_sigkill_at_random_moments_never_breaks_the_state(mlapp_home):
    helper = subprocess.Popen(
        [sys.executable, "-c", WRITER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "MLAPP_HOME": str(mlapp_home)},
    )
    try:
        assert helper.stdout.readline().strip() == "ready"
        last = advanced = 0
        # Kill moments spread over the writer's life whatever the machine's speed: the window
        # widens while kills land before any commit and narrows once they land after some.
        window, rng = 0.1, random.Random(4)
        started = time.monotonic()
        for round_ in range(ROUNDS):
            helper.stdin.write(f"{round_} {rng.uniform(0.0, window)}\n")
            helper.stdin.flush()
            assert helper.stdout.readline().strip() == "killed"
            state = AppState("crash", user="alice")
            try:
                assert state.warnings == [], state.message
                counter = check_values(dict(state), f"round {round_}")
                assert counter >= last, f"round {round_}: the state went back from {last} to {counter}"
                advanced += counter > last
                window = min(1.0, max(0.03, window * (0.8 if counter > last else 1.04)))
                last = counter
                index = StateIndex("alice", "crash")
                try:
                    for snapshot in Snapshots(index).list():
                        slot = index.conn.execute(
                            "SELECT id FROM snapshots WHERE name=?", (snapshot["name"],)
                        ).fetchone()[0]
                        values = {
                            row["key"]: decode(index.read(row), owner=row["writer"], user="alice")
                            for row in index.rows(slot)
                        }
                        check_values(values, f"round {round_}, snapshot {snapshot['name']}")
                finally:
                    index.close()
            finally:
                state.close()
        print(
            f"{ROUNDS} kills in {time.monotonic() - started:.1f}s; {advanced} rounds committed, "
            f"the writer got to counter {last}"
        )
        # Most kills land mid-load or mid-write; some rounds must have committed, or the test
        # proved nothing about writes.
        assert advanced >= min(5, ROUNDS // 10), "the writer hardly ever committed"
    finally:
        helper.stdin.close()
        helper.wait(30)
        helper.stdout.close()
