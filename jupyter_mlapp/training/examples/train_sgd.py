"""Train a logistic-regression SGD classifier on scikit-learn's bundled digits, one epoch at a time.

Nothing is downloaded (the digits ship with scikit-learn). Each epoch prints one metric line with
``loss``, ``val_loss``, ``accuracy`` and ``val_accuracy``, as key=value pairs (default), a JSON
object or a Keras-style progress line, so every parser of the training monitor has a real source::

    python -m jupyter_mlapp.training.examples.train_sgd --epochs 20 --delay 0.5 --lr 0.01
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="train_sgd", description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set (default 20)")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds to wait after each epoch (default 0.5)")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    parser.add_argument("--batch-size", type=int, default=64, help="samples per partial_fit call (default 64)")
    parser.add_argument("--format", choices=("kv", "json", "keras"), default="kv", help="metric line format")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0 or args.delay < 0:
        parser.error("--epochs and --batch-size must be >= 1, --lr > 0, --delay >= 0")
    return args


def metric_line(fmt: str, epoch: int, epochs: int, steps: int, metrics: dict[str, float]) -> str:
    if fmt == "json":
        return json.dumps({"epoch": epoch, **{k: round(v, 6) for k, v in metrics.items()}})
    if fmt == "keras":
        pairs = " - ".join(f"{k}: {v:.4f}" for k, v in metrics.items())
        return f"Epoch {epoch}/{epochs}\n{steps}/{steps} [==============================] - 0s 1ms/step - {pairs}"
    return f"epoch={epoch} " + " ".join(f"{k}={v:.6f}" for k, v in metrics.items())


def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=args.seed, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    classes = np.unique(y)
    model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=args.lr, alpha=1e-4, random_state=args.seed)
    rng = np.random.default_rng(args.seed)
    steps = -(-len(x_train) // args.batch_size)
    print(
        f"training SGDClassifier on digits: {len(x_train)} train / {len(x_val)} validation samples, "
        f"{args.epochs} epochs, lr {args.lr}",
        flush=True,
    )
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), args.batch_size):
            batch = order[start : start + args.batch_size]
            model.partial_fit(x_train[batch], y_train[batch], classes=classes)
        metrics = {
            "loss": log_loss(y_train, model.predict_proba(x_train), labels=classes),
            "val_loss": log_loss(y_val, model.predict_proba(x_val), labels=classes),
            "accuracy": accuracy_score(y_train, model.predict(x_train)),
            "val_accuracy": accuracy_score(y_val, model.predict(x_val)),
        }
        print(metric_line(args.format, epoch, args.epochs, steps, metrics), flush=True)
        if args.delay and epoch < args.epochs:
            time.sleep(args.delay)
    print(f"done: val_accuracy {metrics['val_accuracy']:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
