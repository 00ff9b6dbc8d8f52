"""JobManager with real processes: output, exit codes, stdin, kills, queue, users, logs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

from jupyter_mlapp.errors import Conflict, InvalidInput, NotFound
from jupyter_mlapp.jobs import JobManager
from jupyter_mlapp.jobs.backend import SAME_PROCESS

PY = sys.executable


def until(condition, timeout=30.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture
def jobs(mlapp_home, tmp_path):
    return JobManager(home=mlapp_home, user="alice", grace=1.0, limit=4, workspace=tmp_path)


def python(code: str) -> list[str]:
    return [PY, "-c", textwrap.dedent(code)]


def test_output_exit_code_and_times(jobs):
    job = jobs.start(
        python("""
        import sys
        print("to stdout")
        print("to stderr", file=sys.stderr)
        print("again stdout")
        sys.exit(3)
    """),
        name="fails",
    )
    assert job.user == "alice" and job.name == "fails" and job.state in ("queued", "running")
    done = jobs.wait(job.id, timeout=30)
    assert (done.state, done.exit_code, done.signal) == ("failed", 3, None)
    assert done.created_at <= done.started_at <= done.ended_at
    assert jobs.read_log(job.id).text == "to stdout\nto stderr\nagain stdout\n"

    ok = jobs.wait(jobs.start(["true"]).id, timeout=30)
    assert (ok.state, ok.exit_code) == ("succeeded", 0)


def test_stdin_lines_answer_the_questions(jobs):
    job = jobs.start(
        python("""
        name = input("name? ")
        epochs = int(input("epochs? "))
        print(f"training {name} for {epochs} epochs")
    """),
        stdin=["resnet", "5"],
    )
    assert jobs.wait(job.id, timeout=30).state == "succeeded"
    assert "training resnet for 5 epochs" in jobs.read_log(job.id).text


def test_environment_variables_and_working_folder(jobs, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.py").write_text(
        "import os; print(os.getcwd(), os.environ['EPOCHS'], os.environ['MLAPP_JOB_ID'], os.environ['MLAPP_USER'])\n"
    )
    job = jobs.start(["train.py"], cwd="data", env={"EPOCHS": "7"})
    assert jobs.wait(job.id, timeout=30).state == "succeeded"
    assert job.argv[0] == PY  # a script runs with the (here: the server's) interpreter
    assert jobs.read_log(job.id).text.split() == [str(tmp_path / "data"), "7", job.id, "alice"]


def test_kill_ends_the_whole_group_and_records_the_signal(jobs):
    job = jobs.start(["sh", "-c", "sleep 300 & sleep 300 & wait"])
    leader = until(lambda: jobs.get(job.id).pid)
    children = until(lambda: len(found := psutil.Process(leader).children()) == 2 and found)
    result = jobs.kill(job.id)
    assert result.killed and "being stopped" in result.message
    done = jobs.wait(job.id, timeout=30)
    assert done.state == "killed" and done.signal == "SIGTERM"
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children)


def test_a_job_ignoring_sigterm_is_killed_after_the_grace_period(jobs):
    job = jobs.start(
        python("""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(300)
    """)
    )
    assert until(lambda: "ready" in jobs.read_log(job.id).text)
    started = time.monotonic()
    jobs.kill(job.id)
    done = jobs.wait(job.id, timeout=30, interval=0.01)
    took = time.monotonic() - started
    assert done.state == "killed" and done.signal == "SIGKILL"
    assert 1.0 <= took < 1.0 + 3.0  # the grace period, then at once (generous for a loaded machine)


def test_children_left_behind_by_a_finished_job_are_stopped(jobs):
    job = jobs.start(["sh", "-c", "sleep 300 & echo $! > orphan.pid"])
    assert jobs.wait(job.id, timeout=30).state == "succeeded"
    orphan = int((jobs.workspace / "orphan.pid").read_text())
    assert until(lambda: not psutil.pid_exists(orphan) or psutil.Process(orphan).status() == psutil.STATUS_ZOMBIE, 10)


def test_killing_a_finished_job_is_a_no_op_and_a_reused_pid_is_never_signalled(jobs):
    job = jobs.wait(jobs.start(["true"]).id, timeout=30)
    result = jobs.kill(job.id)
    assert not result.killed and "already ended (succeeded)" in result.message
    # A process that now holds the job's recorded PID (simulated by pointing the record at a
    # live process of ours) survives a kill of the lost job: its start time differs.
    until(lambda: not psutil.pid_exists(job.supervisor_pid))  # as for any lost job: no supervisor
    # A PID is reused only after the PID space wraps: never within the start-time tolerance of
    # the process that had it. Start the bystander outside that window, as a reuse would be.
    time.sleep(2 * SAME_PROCESS)
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        jobs.store.update(job.id, only_if_state=("succeeded",), state="lost", pid=bystander.pid)
        assert not jobs.kill(job.id).killed
        time.sleep(0.3)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_job_whose_supervisor_dies_is_lost(jobs):
    job = jobs.start(["sleep", "300"])
    running = until(lambda: (j := jobs.get(job.id)).pid and j)
    os.kill(running.supervisor_pid, signal.SIGKILL)
    lost = until(lambda: (j := jobs.get(job.id)).state == "lost" and j, timeout=10)
    assert lost and "supervisor" in lost.reason
    result = jobs.kill(job.id)  # the child still runs: kill ends it although nobody supervises it
    assert result.killed and "was lost" in result.message
    assert until(
        lambda: not psutil.pid_exists(running.pid) or psutil.Process(running.pid).status() == psutil.STATUS_ZOMBIE, 10
    )


def test_queue_keeps_the_limit_and_the_order(mlapp_home, tmp_path):
    jobs = JobManager(home=mlapp_home, user="alice", limit=2, workspace=tmp_path)
    started = [jobs.start(["sleep", "0.4"], name=f"job{i}") for i in range(5)]
    assert [j.state for j in started] == ["running", "running", "queued", "queued", "queued"]
    finished = [jobs.wait(j.id, timeout=60) for j in started]
    assert all(j.state == "succeeded" for j in finished)
    # Never more than two at once, and in the order they were asked for.
    spans = sorted((j.started_at, j.ended_at) for j in finished)
    for i, (start, _) in enumerate(spans):
        assert sum(s <= start < e for s, e in spans[:i]) <= 1
    assert [j.name for j in sorted(finished, key=lambda j: j.claimed_at)] == [f"job{i}" for i in range(5)]


def test_the_limit_holds_across_processes(mlapp_home, tmp_path):
    """Two processes (a kernel and the server, say) start jobs on one home: 2 at a time in all."""
    jobs = JobManager(home=mlapp_home, user="alice", limit=2, workspace=tmp_path)
    other = subprocess.run(
        [
            PY,
            "-c",
            textwrap.dedent(f"""
        from jupyter_mlapp.jobs import JobManager
        jobs = JobManager(home={str(mlapp_home)!r}, user="bob", limit=2)
        for i in range(3):
            jobs.start(["sleep", "0.3"], name=f"bob{{i}}")
    """),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 0, other.stderr
    mine = [jobs.start(["sleep", "0.3"], name=f"alice{i}") for i in range(3)]
    admin = jobs.as_user("root", admin=True)
    assert until(lambda: all(j.finished for j in admin.list()), timeout=60)
    everything = admin.list()
    assert len(everything) == 6 and {j.state for j in everything} == {"succeeded"}
    spans = sorted((j.started_at, j.ended_at) for j in everything)
    for i, (start, _) in enumerate(spans):
        assert sum(s <= start < e for s, e in spans[:i]) <= 1
    assert {j.user for j in jobs.list()} == {"alice"} and len(jobs.list()) == len(mine)


def test_killing_a_queued_job_means_it_never_runs(mlapp_home, tmp_path):
    jobs = JobManager(home=mlapp_home, user="alice", limit=1, grace=1, workspace=tmp_path)
    first = jobs.start(["sleep", "300"])
    queued = jobs.start(["touch", "ran"])
    assert queued.state == "queued"
    assert jobs.kill(queued.id).job.state == "killed"
    results = jobs.kill_all()
    assert [r.job.id for r in results if r.killed] == [first.id]
    assert jobs.wait(first.id, timeout=30).state == "killed"
    time.sleep(0.3)
    assert not (tmp_path / "ran").exists() and jobs.get(queued.id).started_at is None


def test_users_see_and_control_only_their_own_jobs(jobs):
    bob = jobs.as_user("bob")
    job = bob.start(["sleep", "300"])
    for action in (jobs.get, jobs.read_log, jobs.kill):
        with pytest.raises(NotFound):
            action(job.id)
    assert jobs.kill_all() == [] and jobs.list() == []
    admin = jobs.as_user("root", admin=True)
    assert [j.id for j in admin.list()] == [job.id]
    assert admin.kill(job.id).killed
    assert bob.wait(job.id, timeout=30).state == "killed"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"command": []}, "the command is empty"),
        ({"command": "   "}, "the command is empty"),
        ({"command": ["no-such-program-xyz"]}, "not found on the PATH"),
        ({"command": ["./missing.sh"]}, "not found"),
        ({"command": ["missing.py"]}, "script missing.py not found"),
        ({"command": ["true"], "cwd": "no/such/folder"}, "does not exist"),
        ({"command": ["true"], "environment": "no-such-env"}, "unknown environment"),
        ({"command": ["true"], "env": {"BAD NAME": "x"}}, "not a valid environment variable name"),
        ({"command": ["true"], "env": {"A": None}}, "must be a string"),
        ({"command": "echo 'unclosed"}, "cannot read the command line"),
        ({"command": ["true"], "name": "  "}, "blank"),
        ({"command": ["true"], "stdin": 5}, "stdin is a string or a list of lines"),
    ],
)
def test_bad_input_is_refused_and_leaves_nothing(jobs, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        jobs.start(**kwargs)
    assert jobs.list() == []
    assert sorted(p.name for p in jobs.root.iterdir() if p.is_dir()) == []


def test_a_job_that_cannot_start_is_failed_with_the_reason_in_its_log(jobs, tmp_path):
    program = tmp_path / "not-a-program"
    program.write_bytes(b"\x00\x01binary garbage")
    program.chmod(0o755)
    job = jobs.wait(jobs.start([str(program)]).id, timeout=30)
    assert job.state == "failed" and job.exit_code is None
    assert "could not start" in job.reason and "could not start" in jobs.read_log(job.id).text


def test_log_reads_are_bounded_and_resume_on_character_boundaries(jobs):
    job = jobs.start(
        python("""
        import sys
        sys.stdout.write("é" * 3_000_000)  # 6 MB of two-byte characters
    """)
    )
    assert jobs.wait(job.id, timeout=60).state == "succeeded"
    first = jobs.read_log(job.id, limit=10**9)
    assert first.size == 6_000_000 and first.next_offset - first.offset == 4 * 1024 * 1024
    odd = jobs.read_log(job.id, offset=0, limit=5)
    assert odd.text == "éé" and odd.next_offset == 4
    tail = jobs.read_log(job.id, tail=7)
    assert tail.text == "ééé" and tail.next_offset == tail.size
    with pytest.raises(InvalidInput):
        jobs.read_log(job.id, offset=-1)


def test_cpu_and_memory_of_a_running_job(jobs):
    job = jobs.start(
        python("""
        data = bytearray(50 * 1024 * 1024)
        while True:
            pass
    """)
    )
    assert until(lambda: (j := jobs.get(job.id)).memory and j.memory > 50 * 1024 * 1024)
    assert until(lambda: (jobs.list()[0].cpu_percent or 0) > 10, interval=0.3)
    jobs.kill(job.id)
    assert jobs.wait(job.id, timeout=30).state == "killed"


def test_the_notebook_api_acts_for_the_kernels_user(monkeypatch, tmp_path):
    from jupyter_mlapp import jobs as notebook

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLAPP_USER", "dana")
    monkeypatch.setenv("MLAPP_ROLE", "editor")
    job = notebook.start("sleep 60", name="dana's")
    assert job.user == "dana" and [j.id for j in notebook.list()] == [job.id]
    assert any(env.kind == "server" for env in notebook.envs())
    monkeypatch.setenv("MLAPP_USER", "erin")
    assert notebook.list() == [] and notebook.kill_all() == []
    monkeypatch.setenv("MLAPP_ROLE", "admin")
    assert [r.job.id for r in notebook.kill_all()] == [job.id]
    assert notebook.wait(job.id, timeout=30).state == "killed"


def test_a_job_outlives_the_kernel_that_started_it(mlapp_home, tmp_path):
    """A notebook kernel starts a job and dies (SIGKILL): the job runs on and its end is recorded."""
    kernel = subprocess.Popen(
        [
            PY,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from jupyter_mlapp.jobs import JobManager
        job = JobManager(home={str(mlapp_home)!r}, user="alice").start(
            ["sh", "-c", "sleep 1; echo survived"], cwd={str(tmp_path)!r})
        print(job.id, flush=True)
        time.sleep(300)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    job_id = kernel.stdout.readline().strip()
    kernel.kill()
    kernel.wait()
    kernel.stdout.close()
    jobs = JobManager(home=mlapp_home, user="alice")
    done = jobs.wait(job_id, timeout=30)
    assert (done.state, done.exit_code) == ("succeeded", 0)
    assert jobs.read_log(job_id).text == "survived\n"


# -- removing finished jobs ------------------------------------------------------------------
def ended_days_ago(jobs, job_id: str, days: float) -> None:
    """Back-date a job's end in the SQLite file itself, as if it had ended ``days`` ago."""
    with sqlite3.connect(jobs.store.path) as conn:
        conn.execute(
            "UPDATE jobs SET ended_at = ?, created_at = ? WHERE id = ?",
            (time.time() - days * 86400, time.time() - days * 86400 - 60, job_id),
        )


def finished(jobs, *names: str) -> list[str]:
    ids = [jobs.start(["echo", name], name=name).id for name in names]
    assert all(jobs.wait(job_id, timeout=30).state == "succeeded" for job_id in ids)
    return ids


def running(jobs, command=("sleep", "300")):
    job = jobs.start(list(command))
    return until(lambda: (j := jobs.get(job.id)).pid and j)


def test_removing_a_finished_job_deletes_its_record_and_its_log(jobs):
    kept, gone = finished(jobs, "kept", "gone")
    folder = jobs.root / gone
    assert (folder / "output.log").read_text() == "gone\n"
    removed = jobs.remove(gone)
    assert removed.id == gone and removed.state == "succeeded"
    assert [j.id for j in jobs.list()] == [kept]
    assert not folder.exists() and jobs.read_log(kept).text == "kept\n"
    assert (jobs.root / "jobs.sqlite").is_file()
    for action in (jobs.get, jobs.remove):
        with pytest.raises(NotFound):
            action(gone)


def test_a_queued_or_running_job_is_not_removed(mlapp_home, tmp_path):
    jobs = JobManager(home=mlapp_home, user="alice", limit=1, grace=1.0, workspace=tmp_path)
    job = running(jobs, ["sh", "-c", "echo started; exec sleep 300"])
    queued = jobs.start(["true"])
    assert until(lambda: jobs.read_log(job.id).text == "started\n")
    with pytest.raises(Conflict, match=f"job {job.name} is running: kill it first"):
        jobs.remove(job.id)
    with pytest.raises(Conflict, match="is queued: kill it first"):
        jobs.remove(queued.id)
    assert jobs.clear_finished() == 0
    assert jobs.get(job.id).state == "running" and psutil.pid_exists(job.pid)
    assert jobs.read_log(job.id).text == "started\n" and jobs.get(queued.id).state == "queued"
    jobs.kill_all()
    assert jobs.wait(job.id, timeout=30).state == "killed"
    jobs.remove(job.id)
    jobs.remove(queued.id)
    assert jobs.list() == []


def test_a_lost_job_whose_command_still_runs_is_not_removed(jobs):
    job = running(jobs)
    os.kill(job.supervisor_pid, signal.SIGKILL)
    assert until(lambda: jobs.get(job.id).state == "lost", timeout=10)
    with pytest.raises(Conflict, match="was lost but its command still runs: kill it first"):
        jobs.remove(job.id)
    assert jobs.clear_finished() == 0
    jobs.kill(job.id)
    assert until(lambda: not psutil.pid_exists(job.pid) or psutil.Process(job.pid).status() == psutil.STATUS_ZOMBIE, 10)
    assert until(lambda: not jobs.backend.still_runs(job), 10)
    assert jobs.remove(job.id).state == "lost"


def test_only_the_owner_or_an_admin_removes_a_job(jobs):
    (job_id,) = finished(jobs.as_user("bob"), "bob's")
    with pytest.raises(NotFound, match=f"no job {job_id}"):
        jobs.remove(job_id)
    assert jobs.clear_finished() == 0
    assert (jobs.root / job_id / "output.log").read_text() == "bob's\n"
    assert jobs.as_user("root", admin=True).remove(job_id).user == "bob"
    assert not (jobs.root / job_id).exists()


def test_removing_never_deletes_outside_the_jobs_folder(jobs, tmp_path):
    (job_id,) = finished(jobs, "pointed")
    elsewhere = tmp_path / "precious.log"
    elsewhere.write_text("keep me")
    with sqlite3.connect(jobs.store.path) as conn:  # a record edited to point outside
        conn.execute(
            "UPDATE jobs SET log_path = ?, stdin_path = ? WHERE id = ?", (str(elsewhere), str(tmp_path), job_id)
        )
    jobs.remove(job_id)
    assert elsewhere.read_text() == "keep me" and tmp_path.is_dir() and not (jobs.root / job_id).exists()


def test_clear_finished_removes_the_callers_finished_jobs_older_than_asked(jobs):
    old, recent, also_recent = finished(jobs, "old", "recent", "also-recent")
    ended_days_ago(jobs, old, 2)
    active = running(jobs)
    (bobs,) = finished(jobs.as_user("bob"), "bob's")
    ended_days_ago(jobs, bobs, 2)
    with pytest.raises(InvalidInput, match="older_than is a number of seconds"):
        jobs.clear_finished(older_than=-1)
    assert jobs.clear_finished(older_than=86400) == 1
    assert [j.id for j in jobs.list()] == [recent, also_recent, active.id] and not (jobs.root / old).exists()
    assert jobs.clear_finished() == 2
    assert [j.id for j in jobs.list()] == [active.id] and jobs.read_log(active.id).size == 0
    admin = jobs.as_user("root", admin=True)
    assert admin.clear_finished() == 1 and [j.id for j in admin.list()] == [active.id]
    jobs.kill(active.id)


def test_the_notebook_api_removes_and_clears(monkeypatch, tmp_path):
    from jupyter_mlapp import jobs as notebook

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLAPP_USER", "dana")
    monkeypatch.setenv("MLAPP_ROLE", "editor")
    first, second, third = (notebook.wait(notebook.start("true").id, timeout=30).id for _ in range(3))
    assert notebook.remove(first).id == first
    ended_days_ago(notebook.manager(), second, 1)
    assert notebook.clear_finished(older_than=3600) == 1
    assert [j.id for j in notebook.list()] == [third]
    assert notebook.clear_finished() == 1 and notebook.list() == []


def test_the_history_keeps_recent_and_active_jobs_and_prunes_the_rest_at_once(jobs):
    old, recent = finished(jobs, "old", "recent")
    ended_days_ago(jobs, old, 10)
    (bobs_old,) = finished(jobs.as_user("bob"), "bob's old")
    ended_days_ago(jobs, bobs_old, 8)
    active = running(jobs)
    with sqlite3.connect(jobs.store.path) as conn:  # started long ago, runs still: never pruned
        conn.execute(
            "UPDATE jobs SET created_at = ?, started_at = ? WHERE id = ?",
            (time.time() - 30 * 86400, time.time() - 30 * 86400, active.id),
        )
    stop = jobs.keep_history(7)
    try:
        admin = jobs.as_user("root", admin=True)
        assert until(lambda: {j.id for j in admin.list()} == {recent, active.id}, timeout=10)
        assert not (jobs.root / old).exists() and not (jobs.root / bobs_old).exists()
        assert jobs.get(active.id).state == "running"
    finally:
        stop.set()
        jobs.kill(active.id)
    with pytest.raises(InvalidInput):
        jobs.keep_history(0)


def test_closing_the_manager_stops_the_history_pruning(jobs):
    jobs.keep_history(7, every=0.05)
    pruning = lambda: [t for t in threading.enumerate() if t.name == "mlapp-job-history" and t.is_alive()]  # noqa: E731
    assert pruning()
    jobs.close()
    assert until(lambda: not pruning(), timeout=5)


def test_processes_that_leave_the_jobs_group_are_killed_with_it(jobs):
    """A job that starts a daemon in a session of its own (setsid) cannot leave it running."""
    job = jobs.start(
        python("""
        import subprocess, time
        daemon = subprocess.Popen(["sleep", "300"], start_new_session=True)
        open("daemon.pid", "w").write(str(daemon.pid))
        print("ready", flush=True)
        time.sleep(300)
    """)
    )
    assert until(lambda: "ready" in jobs.read_log(job.id).text)
    daemon = int((jobs.workspace / "daemon.pid").read_text())
    assert os.getpgid(daemon) != os.getpgid(jobs.get(job.id).pid)  # out of the job's group indeed
    jobs.kill(job.id)
    assert jobs.wait(job.id, timeout=30).state == "killed"
    assert until(lambda: not psutil.pid_exists(daemon) or psutil.Process(daemon).status() == psutil.STATUS_ZOMBIE, 10)


def test_a_daemon_left_behind_by_a_finished_job_is_stopped(jobs):
    job = jobs.start(
        python("""
        import subprocess
        daemon = subprocess.Popen(["sleep", "300"], start_new_session=True)
        open("daemon.pid", "w").write(str(daemon.pid))
    """)
    )
    assert jobs.wait(job.id, timeout=30).state == "succeeded"
    daemon = int((jobs.workspace / "daemon.pid").read_text())
    assert until(lambda: not psutil.pid_exists(daemon) or psutil.Process(daemon).status() == psutil.STATUS_ZOMBIE, 10)
    assert "stopping processes the job left running" in jobs.read_log(job.id).text
