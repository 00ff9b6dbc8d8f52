"""The job table and the environment picker over a real JobManager and real jobs."""

from __future__ import annotations

import time

import pytest

from jupyter_mlapp.jobs import JobManager
from jupyter_mlapp.jobs.widgets import EnvPicker, JobLauncher, JobTable


def until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def jobs(mlapp_home, tmp_path):
    return JobManager(home=mlapp_home, user="alice", grace=1.0, workspace=tmp_path)


def cells(row):
    return [cell.value for cell in row.cells]


def test_rows_are_updated_in_place_and_killed_from_their_button(jobs):
    table = JobTable(jobs, autorefresh=False)
    assert table.summary.value == "0 jobs, 0 running, 0 queued" and table.kill_all_button.disabled
    jobs.start(["sleep", "60"], name="sleeper")
    table.refresh()
    (row,) = table.body.children
    labels = list(row.cells)
    assert cells(row)[:4] == ["sleeper", "sleep 60", "(server)", "running"]
    until(lambda: (table.refresh(), "B" in cells(row)[7])[1])  # memory measured
    table.refresh()
    assert table.body.children == (row,) and list(row.cells) == labels  # same widgets: no redraw

    row.kill_button.click()
    assert "being stopped" in table.message.value
    until(lambda: (table.refresh(), row.state == "killed")[1])
    assert cells(row)[8] == "SIGTERM" and row.kill_button.disabled
    assert "mlapp-state-killed" in row.cells[3]._dom_classes and "mlapp-state-running" not in row.cells[3]._dom_classes

    row.log_button.click()
    assert table.log_panel.layout.display == "flex" and "ended by SIGTERM" in table.log_text.value


def test_kill_all_asks_first(jobs):
    table = JobTable(jobs, autorefresh=False)
    ids = [jobs.start(["sleep", "60"]).id for _ in range(2)]
    table.refresh()
    table.kill_all_button.click()
    assert table.confirmation.layout.display == "flex" and table.confirm_text.value == "Kill 2 jobs?"
    table.cancel_button.click()
    assert table.confirmation.layout.display == "none" and not any(jobs.get(i).finished for i in ids)
    table.kill_all_button.click()
    table.confirm_button.click()
    assert table.message.value == "Killing 2 jobs."
    until(lambda: all(jobs.get(i).state == "killed" for i in ids))


def test_launcher_starts_jobs_and_shows_errors(jobs):
    table = JobTable(jobs, autorefresh=False)
    launcher = JobLauncher(jobs, table=table)
    launcher.command.value = "definitely-not-a-program --x"
    assert launcher.start() is None and "not found on the PATH" in launcher.message.value
    launcher.command.value = "cat"
    launcher.stdin.value = "first\nsecond"
    job = launcher.start()
    assert job is not None and "Started" in launcher.message.value and len(table.body.children) == 1
    assert jobs.wait(job.id, timeout=30).state == "succeeded"
    assert jobs.read_log(job.id).text == "first\nsecond\n"


def test_env_picker_lists_environments_with_hints(jobs):
    picker = EnvPicker(jobs.environments)
    labels = [label for label, _ in picker.dropdown.options]
    assert any(label.startswith("server (server, Python 3.") for label in labels)
    assert picker.value == "" and "<code>" in picker.info.value  # the server's own: no environment to pass


def test_clear_finished_and_remove_ask_first(jobs):
    table = JobTable(jobs, autorefresh=False)
    assert table.clear_button.disabled
    done = [jobs.wait(jobs.start(["true"], name=f"done{i}").id, timeout=30) for i in range(3)]
    active = jobs.start(["sleep", "60"], name="sleeper")
    table.refresh()
    assert not table.clear_button.disabled
    rows = {row.job_id: row for row in table.body.children}
    assert rows[active.id].remove_button.disabled and not rows[done[0].id].remove_button.disabled

    rows[done[0].id].log_button.click()
    rows[done[0].id].remove_button.click()
    assert table.confirmation.layout.display == "flex" and table.confirm_text.value == "Remove job done0 and its log?"
    table.cancel_button.click()
    assert len(jobs.list()) == 4
    rows[done[0].id].remove_button.click()
    table.confirm_button.click()
    assert table.message.value == "Removed job done0." and table.log_panel.layout.display == "none"
    assert done[0].id not in {row.job_id for row in table.body.children}
    assert not (jobs.root / done[0].id).exists()

    table.clear_button.click()
    assert table.confirm_text.value == "Remove 2 finished jobs and their logs?"
    assert table.confirm_button.description == "Yes, remove" and table.clear_button.layout.display == "none"
    table.confirm_button.click()
    assert table.message.value == "Removed 2 finished jobs." and table.confirmation.layout.display == "none"
    assert [row.job_id for row in table.body.children] == [active.id] and table.clear_button.disabled
    assert [job.id for job in jobs.list()] == [active.id] and jobs.get(active.id).state == "running"

    table.kill_all_button.click()  # the same confirmation, now asking to kill
    assert table.confirm_text.value == "Kill 1 job?" and table.confirm_button.description == "Yes, kill all"
    table.confirm_button.click()
    until(lambda: jobs.get(active.id).state == "killed")


def test_a_viewer_sees_why_the_launcher_is_greyed_out_and_its_button_starts_nothing(jobs, tmp_path):
    viewer = jobs.as_user("vera", role="viewer")
    launcher = JobLauncher(viewer)
    assert "Starting commands is for editors: you are signed in as a viewer" in launcher.notice.value
    assert launcher.children[0] is launcher.notice and launcher.command.disabled and launcher.start_button.disabled
    marker = tmp_path / "ran"
    launcher.command.value = f"touch {marker}"  # what a hostile browser can still send
    launcher.start_button.click()
    assert "starting a command is for editors" in launcher.message.value and "mlapp-error" in launcher.message.value
    assert viewer.list() == [] and not marker.exists()


def test_a_viewer_kills_their_template_jobs_from_the_table_but_no_others(jobs):
    from jupyter_mlapp.jobs import JobTemplate

    jobs.add_template(JobTemplate("nap", ["sleep", "60"]))
    viewer = jobs.as_user("vera", role="viewer")
    theirs = viewer.start_template("nap")
    other = jobs.as_user("vera").start(["sleep", "60"], name="by an editor")
    table = JobTable(viewer, autorefresh=False)
    rows = {row.job_id: row for row in table.body.children}
    assert rows[other.id].kill_button.disabled and not rows[theirs.id].kill_button.disabled
    table.kill(other.id)  # the button is greyed out; the call is refused anyway
    assert "killing job by an editor is for editors" in table.message.value
    rows[theirs.id].kill_button.click()
    until(lambda: viewer.get(theirs.id).state == "killed")
    jobs.as_user("vera").kill(other.id)


def test_a_running_jobs_progress_bar_follows_its_keras_log(jobs):
    script = (
        "import time\n"
        "for e in range(1, 5):\n"
        "    print(f'Epoch {e}/4'); print('8/8 [==============================] - 0s - loss: 0.5', flush=True)\n"
        "    time.sleep(0.6)\n"
        "time.sleep(30)\n"
    )
    job = jobs.start(["python", "-c", script], name="keras-like")
    table = JobTable(jobs, autorefresh=False)
    table.refresh()
    (row,) = table.body.children
    seen = set()

    def moved():
        table.refresh()
        if row.progress_text.value:
            seen.add(row.progress.value)
        return row.progress.value == 1.0

    until(moved)
    assert len(seen) > 1 and row.progress.layout.visibility == "visible"  # it moved with the log
    assert row.progress_text.value.startswith("100%") and row.progress_text.tooltip == "epoch 4/4"
    jobs.kill(job.id)
    until(lambda: (table.refresh(), row.state == "killed")[1])
    assert row.progress.layout.visibility == "hidden" and row.progress_text.value == ""
