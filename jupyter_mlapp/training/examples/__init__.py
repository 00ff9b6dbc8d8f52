"""Example training scripts, runnable as jobs: ``python -m jupyter_mlapp.training.examples.train_sgd``."""

from __future__ import annotations

import sys

TRAIN_SGD_MODULE = "jupyter_mlapp.training.examples.train_sgd"


def train_sgd_command(
    epochs: int = 20, delay: float = 0.5, lr: float = 0.01, fmt: str = "kv", seed: int = 0
) -> list[str]:
    """The argv that runs the example SGD training with this kernel's Python."""
    return [
        sys.executable,
        "-u",
        "-m",
        TRAIN_SGD_MODULE,
        "--epochs",
        str(epochs),
        "--delay",
        str(delay),
        "--lr",
        str(lr),
        "--format",
        fmt,
        "--seed",
        str(seed),
    ]
