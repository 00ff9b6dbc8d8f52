"""The jobs database across releases: a home folder of the release before versioned schemas."""

from __future__ import annotations

import sys

from fixtures import predecessor_home

from jupyter_mlapp.home import schema_version
from jupyter_mlapp.jobs.job_manager import JobManager
from jupyter_mlapp.jobs.store import SCHEMA


def test_jobs_of_the_release_before_versions_are_still_listed_and_new_ones_run(tmp_path):
    home, held = predecessor_home(tmp_path)
    jobs = JobManager(home, user="alice")
    try:
        (old,) = jobs.list()
        assert (old.id, old.name, old.user, old.state) == tuple(held["job"][k] for k in ("id", "name", "user", "state"))
        assert old.exit_code == 0
        # The columns added since: empty for a job of then (it ran on this machine, from no template).
        assert (old.role, old.template, old.backend, old.resources) == (None, None, None, None)
        assert schema_version(jobs.store.conn) == SCHEMA.version

        new = jobs.wait(jobs.start([sys.executable, "-c", "print('after the upgrade')"], name="new").id, timeout=60)
        assert new.state == "succeeded"
        assert [j.name for j in jobs.list()] == ["hello", "new"]
    finally:
        jobs.close()
