"""Progress from the end of a training log: Keras, tqdm, step counts; the ETA at the pace so far."""

from __future__ import annotations

import pytest

from jupyter_mlapp.training.progress import TAIL_BYTES, Progress, log_progress, parse_progress

KERAS = [
    "Epoch 1/10",
    "32/32 [==============================] - 1s 5ms/step - loss: 0.69 - accuracy: 0.52",
    "Epoch 2/10",
    "32/32 [==============================] - 0s 4ms/step - loss: 0.55 - accuracy: 0.71",
    "Epoch 3/10",
    "\r 8/32 [======>.......................] - ETA: 0s - loss: 0.50"
    "\r16/32 [==============>...............] - ETA: 0s - loss: 0.49",
]


@pytest.mark.parametrize(
    "lines, fraction, label",
    [
        (KERAS, 0.25, "epoch 3/10"),  # two epochs done, half of the third
        (KERAS[:5], 0.2, "epoch 3/10"),  # the third just started
        (KERAS[:4], 0.2, "epoch 2/10"),  # the second's bar is complete
        (["Epoch 4/8 - loss=0.3 acc=0.9"], 0.5, "epoch 4/8"),  # a summary line: printed when the epoch ends
        ([" 45%|████▌     | 45/100 [00:12<00:15,  3.60it/s]"], 0.45, "step 45/100"),
        (["Epoch 3/10:  50%|█████     | 50/100 [00:10<00:10]"], 0.25, "epoch 3/10"),
        (["step 30/120 loss=0.2"], 0.25, "step 30/120"),
        (['{"step": 30, "total": 120, "loss": 0.2}'], 0.25, "step 30/120"),
        (["iteration 7/7 done"], 1.0, "step 7/7"),
    ],
)
def test_where_a_training_is(lines, fraction, label):
    progress = parse_progress(lines)
    assert progress is not None and progress.label == label and progress.fraction == pytest.approx(fraction)


def test_a_log_that_says_nothing_of_its_progress_has_none():
    assert parse_progress(["loading data", "loss=0.4 acc=0.8", "3 / 4 workers ready?"]) is None
    assert parse_progress([]) is None


def test_the_eta_follows_the_pace_so_far():
    assert Progress(0.25, "epoch 3/10").with_eta(30).eta == 90  # 30 s for a quarter: 90 s to go
    assert Progress(0.5, "x").with_eta(30, since_fraction=0.25).eta == 60
    assert Progress(0.0, "x").with_eta(30).eta is None and Progress(0.5, "x").with_eta(None).eta is None


def test_only_the_end_of_a_large_log_is_read(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("Epoch 1/5\n" + "x" * (TAIL_BYTES * 4) + "\nEpoch 4/5\n")
    progress = log_progress(log, elapsed=60)
    assert progress.label == "epoch 4/5" and progress.fraction == 0.6 and progress.eta == 40
    assert log_progress(tmp_path / "missing.log") is None
