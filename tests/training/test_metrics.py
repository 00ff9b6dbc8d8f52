"""MetricStore: x axes, carried steps, chart families, downsampling that keeps what matters."""

from __future__ import annotations

import json

import numpy as np

from jupyter_mlapp.training.metrics import MetricStore, downsample, family, read_metrics
from jupyter_mlapp.training.parsers import default_parsers


def test_families_pair_training_and_validation_metrics():
    assert family("val_loss") == family("loss") == family("train_loss") == "loss"
    assert family("val_accuracy") == "accuracy"
    assert family("acc/val") == family("acc/train") == "acc"
    assert family("val_") == "val_"


def test_steps_carry_forward_to_validation_lines_even_across_chunks():
    store = MetricStore(default_parsers())
    store.add_lines(["step=1 loss=1.0", "step=2 loss=0.8"])
    store.add_lines(["val_loss=0.9", "step=3 loss=0.7", "val_loss=0.85"])
    assert store.series["val_loss"].x("step").tolist() == [2, 3]
    assert store.series["val_loss"].x("line").tolist() == [3, 5]
    families = store.families()
    assert [s.name for s in families["loss"]] == ["loss", "val_loss"]
    assert store.axis(families["loss"]) == "step"


def test_axis_falls_back_to_epoch_then_to_log_line():
    store = MetricStore(default_parsers())
    store.add_lines(["epoch=1 loss=1", "epoch=2 loss=0.5"])
    assert store.axis([store.series["loss"]]) == "epoch"
    bare = MetricStore(default_parsers())
    bare.add_lines(["loss=1", "epoch=1 loss=0.5"])  # the first point has no epoch
    assert bare.axis([bare.series["loss"]]) == "line"


def test_new_metrics_are_reported_once():
    store = MetricStore(default_parsers())
    assert store.add_lines(["loss=1"]) == ["loss"]
    assert store.add_lines(["loss=0.9 lr=0.1"]) == ["lr"]
    assert store.add_lines(["loss=0.8 lr=0.1"]) == []


def test_non_finite_values_are_counted_and_not_drawn():
    store = MetricStore(default_parsers())
    store.add_lines(["epoch=1 loss=1", "epoch=2 loss=nan", "epoch=3 loss=inf", "epoch=4 loss=0.5"])
    series = store.series["loss"]
    assert series.nonfinite == 2 and len(series) == 4
    x, y = series.points("epoch")
    assert x.tolist() == [1, 4] and y.tolist() == [1, 0.5]


def test_downsampling_keeps_first_last_and_extremes():
    rng = np.random.default_rng(0)
    y = rng.normal(size=1_000_000)
    y[123_457] = 50.0
    y[876_543] = -50.0
    x = np.arange(len(y), dtype=float)
    dx, dy = downsample(x, y, 2000)
    assert len(dy) <= 2000
    assert dx[0] == 0 and dx[-1] == len(y) - 1 and dy[-1] == y[-1]
    assert dy.max() == 50.0 and dy.min() == -50.0
    assert np.all(np.diff(dx) > 0)  # still in order
    small = np.arange(10.0)
    assert downsample(small, small, 2000)[1] is small


def test_read_metrics_is_json_with_non_finite_values_spelled_out(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("step=1 loss=nan\nstep=2 loss=-inf\nval_loss=0.5\npartial=")
    result = read_metrics(log)
    text = json.dumps(result, allow_nan=False)  # valid JSON for any client
    assert json.loads(text)["series"]["loss"]["value"] == ["NaN", "-Infinity"]
    assert result["series"]["val_loss"] == {"family": "loss", "value": [0.5], "step": [2.0], "epoch": [None]}
    assert result["next"] == len("step=1 loss=nan\nstep=2 loss=-inf\nval_loss=0.5\n")
    again = read_metrics(log, since=result["next"])
    assert again["series"] == {} and again["next"] == result["next"]


def test_read_metrics_in_pieces_carries_the_epoch_between_calls(tmp_path):
    log = tmp_path / "keras.log"
    log.write_text("Epoch 1/2\n4/4 [====] - 0s - loss: 0.9\nEpoch 2/2\n")
    first = read_metrics(log)
    assert first["series"]["loss"]["epoch"] == [1.0] and first["carry"] == {"step": None, "epoch": 2.0}
    with open(log, "a") as fh:
        fh.write("4/4 [====] - 0s - loss: 0.5\n")
    second = read_metrics(log, since=first["next"], **first["carry"])
    assert second["series"]["loss"] == {"family": "loss", "value": [0.5], "step": [None], "epoch": [2.0]}
