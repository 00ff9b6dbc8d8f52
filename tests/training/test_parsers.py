"""Metric parsers on logs shaped like real ones, and the fast paths agreeing with the slow ones."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from jupyter_mlapp.errors import InvalidInput
from jupyter_mlapp.training.parsers import (
    JSONLinesParser,
    KerasParser,
    KeyValueParser,
    LineBatch,
    MetricParser,
    RegexParser,
    default_parsers,
    make_parsers,
    parse_lines,
)


def as_dict(columns):
    return {name: (rows.tolist(), values.tolist()) for name, (rows, values) in columns.items()}


def test_json_lines_with_nesting_nan_and_prose_around():
    lines = [
        "2024-05-01 12:00:00 INFO starting run 17",
        '{"epoch": 1, "step": 100, "loss": 0.91, "metrics": {"acc": 0.61}, "tag": "warmup"}',
        '{"epoch": 2, "step": 200, "loss": NaN, "metrics": {"acc": 0.70}}',
        '  {"epoch": 3, "global_step": 300, "loss": 0.42, "lr": 1e-3, "done": false}',
        "checkpoint saved to /tmp/ckpt-300.pt",
    ]
    found = as_dict(parse_lines(lines, default_parsers()))
    assert found["epoch"] == ([1, 2, 3], [1.0, 2.0, 3.0])
    assert found["step"] == ([1, 2, 3], [100.0, 200.0, 300.0])  # global_step is the step
    assert found["metrics.acc"] == ([1, 2], [0.61, 0.70])
    rows, values = found["loss"]
    assert rows == [1, 2, 3] and values[0] == 0.91 and math.isnan(values[1]) and values[2] == 0.42
    assert found["lr"] == ([3], [1e-3])
    assert "done" not in found and "tag" not in found  # booleans and strings are not metrics


def test_json_batch_with_one_broken_line_keeps_the_others():
    lines = [json.dumps({"step": i, "loss": 1 / (i + 1)}) for i in range(200)]
    lines[57] = '{"step": 57, "loss": 0.3'  # cut off mid-line (a crashed writer)
    found = as_dict(parse_lines(lines, [JSONLinesParser()]))
    assert len(found["loss"][0]) == 199 and 57 not in found["loss"][0]


def test_hugging_face_dict_reprs_are_read_as_key_value():
    lines = [
        "{'loss': 2.3026, 'grad_norm': 1.734, 'learning_rate': 4.9e-05, 'epoch': 0.01}",
        "{'loss': 1.8711, 'grad_norm': 1.201, 'learning_rate': 4.8e-05, 'epoch': 0.02}",
        "{'eval_loss': 1.6, 'eval_runtime': 3.2, 'epoch': 0.02}",
    ]
    found = as_dict(parse_lines(lines, default_parsers()))
    assert found["loss"] == ([0, 1], [2.3026, 1.8711])
    assert found["epoch"] == ([0, 1, 2], [0.01, 0.02, 0.02])
    assert found["eval_loss"] == ([2], [1.6])


KERAS_TF2 = """\
Epoch 1/3
  1/32 [..............................] - ETA: 30s - loss: 2.3102 - accuracy: 0.0938
 32/32 [==============================] - 2s 12ms/step - loss: 1.2040 - accuracy: 0.6210 - val_loss: 0.8123 - val_accuracy: 0.7400
Epoch 2/3
32/32 [==============================] - 0s 5ms/step - loss: 0.7001 - accuracy: 0.7930 - val_loss: 0.6502 - val_accuracy: 0.8100
Epoch 3/3
32/32 [==============================] - 0s 5ms/step - loss: 0.5120 - accuracy: 0.8450 - val_loss: 0.5901 - val_accuracy: 0.8300
"""
KERAS_3 = """\
Epoch 1/2
\x1b[1m32/32\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b[0m 8ms/step - accuracy: 0.6210 - loss: 1.2040 - val_accuracy: 0.7400 - val_loss: 0.8123
Epoch 2/2
32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 4ms/step - accuracy: 0.7930 - loss: 0.7001 - val_accuracy: 0.8100 - val_loss: 0.6502
"""


def test_keras_progress_lines_take_their_epoch_from_the_epoch_line():
    from jupyter_mlapp.training.metrics import MetricStore

    store = MetricStore(default_parsers())
    store.add_lines(KERAS_TF2.splitlines())
    assert store.series["loss"].values.tolist() == [1.2040, 0.7001, 0.5120]  # the ETA update is skipped
    assert store.series["val_accuracy"].x("epoch").tolist() == [1, 2, 3]
    assert store.axis(store.families()["loss"]) == "epoch"


def test_keras_3_coloured_bars_are_read_too(tmp_path):
    from jupyter_mlapp.training.metrics import MetricStore
    from jupyter_mlapp.training.tail import LogTail

    log = tmp_path / "keras3.log"
    log.write_text(KERAS_3, encoding="utf-8")
    store = MetricStore(default_parsers())
    store.add_lines(LogTail(log).read().lines)  # the tail drops the colour codes, as a terminal would
    assert store.series["val_loss"].values.tolist() == [0.8123, 0.6502]
    assert store.series["val_loss"].x("epoch").tolist() == [1, 2]


def test_key_value_styles_and_prose_that_is_not_a_metric():
    lines = [
        "Loading data: 5 files",  # prose with a colon: not a metric
        "Epoch 3 | loss: 0.41 | acc: 0.87 | lr: 1.0e-04",
        "step=10 loss=0.9 val/loss=1.1 time=0.02s",  # '0.02s' has a unit: not a number
        "iter: 20, loss: -inf, acc: 87%",  # 87% is not taken
        "Using seed: 42",
    ]
    found = as_dict(parse_lines(lines, default_parsers()))
    assert "data" not in found and "time" not in found and "acc" in found
    assert found["acc"] == ([1], [0.87])
    assert found["val/loss"] == ([2], [1.1])
    assert found["step"] == ([2, 3], [10.0, 20.0])  # iter is a step
    assert found["loss"][1][2] == -math.inf
    assert found["seed"] == ([4], [42.0])


def test_key_value_fast_path_agrees_with_line_by_line():
    rng = random.Random(7)
    lines = []
    for i in range(3000):
        kind = rng.random()
        if kind < 0.6:
            lines.append(f"epoch={i // 100} step={i} loss={rng.random():.6f} acc={rng.random():.4f}")
        elif kind < 0.7:
            lines.append(
                f"[val] Epoch {i // 100}: val_loss: {rng.random():.5e}, val_acc: {rng.choice(['nan', 'inf', '0.5'])}"
            )
        elif kind < 0.8:
            lines.append(f"lr={rng.random() * 1e-3:.3g}")
        elif kind < 0.85:
            lines.append(f"a{i}=1 b{i}=2")  # a new shape every line: line-by-line after a few shapes
        else:
            lines.append(f"some prose about batch {i} of the run")
    parser = KeyValueParser()
    rows = np.arange(len(lines))
    used, fast = parser.parse_many(LineBatch(lines), rows)
    slow_used, slow = MetricParser.parse_many(parser, LineBatch(lines), rows)
    assert used.tolist() == slow_used.tolist()
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name][0].tolist() == slow[name][0].tolist(), name
        np.testing.assert_array_equal(fast[name][1], slow[name][1], err_msg=name)


def test_user_regex_goes_first_and_invalid_ones_are_refused():
    lines = ["it 120 | train 0.3312 | eval 0.41", "loss=0.5"]
    parsers = make_parsers([r"it (?P<step>\d+) \| train (?P<loss>\S+) \| eval (?P<val_loss>\S+)", *default_parsers()])
    found = as_dict(parse_lines(lines, parsers))
    assert found["step"] == ([0], [120.0])
    assert found["loss"] == ([0, 1], [0.3312, 0.5])
    with pytest.raises(InvalidInput, match="not a valid regular expression"):
        RegexParser(r"(?P<loss>[")
    with pytest.raises(InvalidInput, match="no named group"):
        RegexParser(r"loss (\d+)")
    with pytest.raises(InvalidInput, match="not a metric parser"):
        make_parsers([42])


def test_a_failing_user_function_passes_its_line_on():
    def picky(line):
        if "boom" in line:
            raise ValueError("cannot read boom")
        return {"x": 1.0} if line.startswith("x") else None

    parsers = make_parsers([picky, *default_parsers()])
    found = as_dict(parse_lines(["x", "boom loss=1", "loss=2"], parsers))
    assert found["x"] == ([0], [1.0])
    assert found["loss"] == ([1, 2], [1.0, 2.0])  # the next parsers still get the line
    assert parsers[0].failures == 1 and "cannot read boom" in parsers[0].last_error


def test_binary_and_huge_garbage_is_not_a_metric():
    garbage = bytes(random.Random(1).randrange(256) for _ in range(4000)).decode("utf-8", "replace")
    lines = [garbage.replace("\n", " ")] * 80 + ["\ufffd\x00{" * 10, "loss=1"]
    found = as_dict(parse_lines(lines, default_parsers()))
    assert found.get("loss") == ([81], [1.0])


def test_keras_parser_alone_recognizes_its_lines_only():
    parser = KerasParser()
    assert parser.parse("Epoch 4/10") == {"epoch": 4.0}
    assert parser.parse(" 3/32 [>....] - ETA: 3s - loss: 0.9") == {}  # consumed, nothing to plot
    assert parser.parse("loss: 0.4") is None


def test_json_types_that_change_mid_log_fall_back_line_by_line():
    lines = [json.dumps({"step": i, "loss": 0.5}) for i in range(100)] + [
        json.dumps({"step": 100 + i, "loss": "n/a" if i % 2 else 1}) for i in range(100)
    ]
    found = as_dict(parse_lines(lines, [JSONLinesParser()]))
    assert len(found["step"][0]) == 200
    assert len(found["loss"][0]) == 150  # the strings are not metrics; every number is kept
