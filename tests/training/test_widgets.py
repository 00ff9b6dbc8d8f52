"""TrainingMonitor on plain log files and on real background jobs running the example training."""

from __future__ import annotations

import time

import pytest

from jupyter_mlapp.errors import InvalidInput
from jupyter_mlapp.jobs import JobManager
from jupyter_mlapp.training.examples import train_sgd_command
from jupyter_mlapp.training.widgets import INTERVALS, TrainingMonitor


def wait_until(predicate, timeout=60.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def figures(monitor):
    return [box.children[1] for box in monitor.charts.children]  # each chart: its legend, its figure


def charts(monitor):
    return {figure.title: [mark.labels[0] for mark in figure.marks] for figure in figures(monitor)}


@pytest.fixture
def monitors():
    made = []
    yield made
    for monitor in made:
        monitor.close()


def test_one_chart_per_family_with_x_by_epoch(tmp_path, monitors):
    log = tmp_path / "train.log"
    log.write_text(
        "starting\n"
        + "".join(
            f"epoch={e} loss={1 / e:.4f} val_loss={1.2 / e:.4f} accuracy={e / 10} val_accuracy={e / 11:.4f}\n"
            for e in range(1, 6)
        )
    )
    monitor = TrainingMonitor(log, interval=0)
    monitors.append(monitor)
    assert charts(monitor) == {"loss": ["loss", "val_loss"], "accuracy": ["accuracy", "val_accuracy"]}
    loss_chart = figures(monitor)[0]
    assert loss_chart.axes[0].label == "epoch"
    assert list(loss_chart.marks[0].x) == [1, 2, 3, 4, 5]
    assert list(loss_chart.marks[1].y) == pytest.approx([1.2 / e for e in range(1, 6)], abs=1e-4)
    assert "data-points='5'" in monitor.summary.value
    assert "starting" in monitor.log_view.value
    assert [label for label, _ in monitor.interval.options] == [label for label, _ in INTERVALS]
    assert monitor.download.value == ""  # outside a server there is nothing to link to


def test_appends_new_metrics_and_bad_input_show_up_as_notes(tmp_path, monitors):
    log = tmp_path / "train.log"
    log.write_text("step=1 loss=1.0\n")
    monitor = TrainingMonitor(log, interval=0)
    monitors.append(monitor)
    with open(log, "ab") as fh:
        fh.write(
            b"step=2 loss=nan lr=0.1\n\x00\xff\xfe junk\n" + b"z" * (1024 * 1024 + 5) + b"\nstep=3 loss=0.5 lr=0.05\n"
        )
    monitor.refresh()
    assert charts(monitor) == {"loss": ["loss"], "lr": ["lr"]}
    assert list(figures(monitor)[0].marks[0].y) == [1.0, 0.5]  # NaN kept in the store, not drawn
    notes = monitor.notes.value
    assert "new metric <b>lr</b>" in notes
    assert "loss: 1 NaN/inf value not plotted" in notes
    assert "binary data" in notes and "longer than 1.0 MB" in notes
    log.unlink()
    monitor.refresh()
    assert "disappeared" in monitor.notes.value
    log.write_text("step=1 loss=3\n")
    monitor.refresh()
    assert "disappeared" not in monitor.notes.value and "is back" in monitor.notes.value
    assert monitor.series("loss").values.tolist() == [3.0]


def test_polling_follows_the_log_and_stops_when_closed(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("")
    monitor = TrainingMonitor(log, interval=1)
    try:
        assert "No metrics yet" in monitor.summary.value
        with open(log, "a") as fh:
            fh.write("epoch=1 loss=0.7\n")
        assert wait_until(lambda: "loss" in monitor.store.series, timeout=10)
        monitor.interval.value = 0  # off: the thread ends
        assert wait_until(lambda: not monitor._thread.is_alive(), timeout=10)
        monitor.interval.value = 2
        assert monitor._thread.is_alive()
    finally:
        monitor.close()
    assert wait_until(lambda: not monitor._thread.is_alive(), timeout=10)


def test_a_missing_log_and_an_unknown_job_are_messages_not_errors(tmp_path, mlapp_home, monitors):
    monitor = TrainingMonitor(tmp_path / "later.log", interval=0)
    monitors.append(monitor)
    assert "does not exist yet" in monitor.notes.value
    jobs = JobManager(home=mlapp_home, user="alice")
    unknown = TrainingMonitor("0123456789ab", jobs=jobs, interval=0)
    assert "no job 0123456789ab" in unknown.message.value
    assert "cannot monitor" in TrainingMonitor(None, interval=0).message.value
    with pytest.raises(InvalidInput, match="interval is one of 0, 1, 2, 5, 10, 30"):
        TrainingMonitor(tmp_path / "later.log", interval=3)


def test_long_histories_are_downsampled_not_cut(tmp_path, monitors):
    log = tmp_path / "long.log"
    log.write_text("".join(f"step={i} loss={1 + (i % 97) / 97:.4f}\n" for i in range(20_000)) + "step=20000 loss=-5\n")
    monitor = TrainingMonitor(log, max_points=200, interval=0)
    monitors.append(monitor)
    mark = figures(monitor)[0].marks[0]
    assert len(monitor.series("loss")) == 20_001
    assert len(mark.y) <= 200 and mark.x[-1] == 20_000 and mark.y[-1] == -5  # the latest point, an extreme
    assert max(mark.y) == pytest.approx(1 + 96 / 97, abs=1e-4)


def test_a_user_regex_parser(tmp_path, monitors):
    log = tmp_path / "custom.log"
    log.write_text("it 10 | train 0.91\nit 20 | train 0.72\n")
    monitor = TrainingMonitor(log, parsers=[r"it (?P<step>\d+) \| train (?P<loss>\S+)"], interval=0)
    monitors.append(monitor)
    assert monitor.series("loss").x("step").tolist() == [10, 20]


def test_attaches_to_a_running_job_and_a_later_monitor_rebuilds_the_history(
    mlapp_home, tmp_path, monitors, monkeypatch
):
    monkeypatch.setenv("MLAPP_BASE_URL", "/base/")  # as the server hands it to its kernels
    jobs = JobManager(home=mlapp_home, user="alice", workspace=tmp_path)
    job = jobs.start(train_sgd_command(epochs=6, delay=0.3, fmt="json"), name="sgd")
    live = TrainingMonitor(job, jobs=jobs, interval=1)
    monitors.append(live)
    assert f"href='/base/mlapp/api/jobs/{job.id}/log/download'" in live.download.value
    # Points arrive while the job runs...
    assert wait_until(lambda: "loss" in live.store.series and 0 < len(live.series("loss")) < 6, timeout=60)
    assert "running" in live.state.value
    # ...and the monitor ends on its own once the job is over and its log read.
    assert wait_until(lambda: live.done, timeout=60)
    assert len(live.series("loss")) == 6 and len(live.series("val_accuracy")) == 6
    assert "succeeded" in live.state.value and "exit 0" in live.state.value
    assert live.job_state == "succeeded"
    assert not live._thread.is_alive() or wait_until(lambda: not live._thread.is_alive(), timeout=5)
    # Another kernel (or the page after a reload) attaches by id and gets the whole history.
    later = TrainingMonitor(job.id, jobs=JobManager(home=mlapp_home, user="alice"), interval=1)
    monitors.append(later)
    assert later.series("loss").values.tolist() == live.series("loss").values.tolist()
    assert later.series("loss").x("epoch").tolist() == [1, 2, 3, 4, 5, 6]
    assert later.done
    # Another user cannot watch alice's job.
    assert "no job" in TrainingMonitor(job.id, jobs=JobManager(home=mlapp_home, user="bob"), interval=0).message.value


def test_a_progress_bar_with_an_eta_follows_a_keras_log(tmp_path, monitors):
    log = tmp_path / "train.log"
    log.write_text("loading the data\n")
    monitor = TrainingMonitor(log, interval=0)
    monitors.append(monitor)
    assert monitor.progress_row.layout.display == "none"  # nothing says where it is yet
    bar = "32/32 [==============================] - 0s 1ms/step - loss: {:.2f}\n"
    with log.open("a") as fh:
        fh.write("Epoch 1/4\n" + bar.format(0.9))
    monitor.refresh()
    assert monitor.progress_row.layout.display is None and monitor.progress.value == 0.25
    assert monitor.progress_text.value == "epoch 1/4 · 25%"  # no pace yet: no ETA
    time.sleep(0.2)
    with log.open("a") as fh:
        fh.write("Epoch 2/4\n" + bar.format(0.7) + "Epoch 3/4\n")
    monitor.refresh()
    assert monitor.progress.value == 0.5 and monitor.progress_text.value.startswith("epoch 3/4 · 50% · about ")
    assert monitor.progress_text.value.endswith(" left")


def test_charts_tick_whole_epochs_label_the_y_axis_apart_and_keep_the_legend_off_the_lines(tmp_path, monitors):
    log = tmp_path / "train.log"
    log.write_text("".join(f"epoch={e} loss={0.5391 + e / 10000:.5f} val_loss=0.54\n" for e in range(1, 4)))
    monitor = TrainingMonitor(log, interval=0)
    monitors.append(monitor)
    (box,) = monitor.charts.children
    legend, figure = box.children
    x_axis, y_axis = figure.axes
    assert list(x_axis.tick_values) == [1, 2, 3] and x_axis.tick_format == "d"  # no 1.2, 1.4
    assert y_axis.tick_format is None  # as many digits as the ticks need (".3g" gave 0.539, 0.539)
    assert "data-label='loss'" in legend.value and "data-label='val_loss'" in legend.value
    assert "stroke-dasharray" in legend.value  # val_loss is dashed, as its line
    with log.open("a") as fh:
        fh.write("".join(f"epoch={e} loss=0.5\n" for e in range(4, 40)))
    monitor.refresh()
    assert x_axis.tick_values is None  # a long run: the scale's own round ticks
