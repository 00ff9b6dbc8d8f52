"""The queue is fair between users, and one user's queue has a cap (real jobs, real supervisors)."""

from __future__ import annotations

import time

import pytest

from jupyter_mlapp.errors import TooLarge
from jupyter_mlapp.jobs import JobManager


def until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def alice(mlapp_home, tmp_path):
    manager = JobManager(home=mlapp_home, user="alice", limit=1, grace=1.0, max_queued=6, workspace=tmp_path)
    yield manager
    manager.as_user("root", admin=True).kill_all()


def test_one_users_queue_does_not_hold_anothers_job(alice):
    bob = alice.as_user("bob")
    first = alice.start(["sleep", "60"], name="alice 1")
    assert alice.wait(first.id, timeout=0).state == "running"
    queued = [alice.start(["sleep", "60"], name=f"alice {i}") for i in range(2, 7)]
    theirs = bob.start(["sleep", "60"], name="bob 1")
    assert theirs.state == "queued"
    alice.kill(first.id)
    # The slot goes to bob, who has none running, not to alice's next one (queued before his).
    until(lambda: bob.get(theirs.id).state == "running")
    assert [alice.get(job.id).state for job in queued] == ["queued"] * 5
    bob.kill(theirs.id)
    until(lambda: alice.get(queued[0].id).state == "running")  # then alice's, oldest first
    assert [alice.get(job.id).state for job in queued[1:]] == ["queued"] * 4


def test_a_user_queues_at_most_max_queued_jobs(alice):
    alice.start(["sleep", "60"], name="running")
    for i in range(6):
        alice.start(["sleep", "60"], name=f"queued {i}")
    with pytest.raises(TooLarge, match="you have 6 jobs queued, the most one user may") as refused:
        alice.start(["sleep", "60"], name="one too many")
    assert refused.value.detail == {"queued": 6, "max_queued": 6}
    folders = [p for p in alice.root.iterdir() if p.is_dir()]
    assert len(alice.list()) == 7 and len(folders) == 7  # nothing left of the refused one
    assert alice.as_user("bob").start(["true"]).state == "queued"  # another user's cap is their own
