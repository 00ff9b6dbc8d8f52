"""One loaded model version as a callable: checked inputs in, results in the shape of the original
Flask service out; and the check that a model about to be saved predicts its own sample."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable

import numpy as np

from ..errors import InvalidInput
from .inputs import check_rows

ROIS = "rois [y_min, x_min, y_max, x_max]"
FORESTS = ("RandomForestClassifier", "ExtraTreesClassifier")

log = logging.getLogger(__name__)


def tree_sum(model):
    """``predict_proba`` of scikit-learn's random forest (or extra trees) classifier, without joblib.

    scikit-learn asks joblib for one task per tree, each in its own config and warnings context:
    for the few rows of a request batch that costs ~15x the trees themselves (31 ms against 2 ms
    of CPU for 200 trees and one row). This adds the trees' probabilities in the order its
    sequential path does, so the answer is the same array. None for any other model (a subclass
    may predict otherwise).
    """
    kind = type(model)
    if kind.__module__ != "sklearn.ensemble._forest" or kind.__name__ not in FORESTS or model.n_outputs_ != 1:
        return None
    trees = model.estimators_

    def predict_proba(X):
        X = np.asarray(X, dtype=np.float32)  # the trees' dtype, as scikit-learn's own check converts
        if X.ndim != 2 or X.shape[1] != model.n_features_in_:  # unchecked, the trees would read past the row
            return model.predict_proba(X)  # which says what is wrong
        total = np.zeros((X.shape[0], model.n_classes_), dtype=np.float64)
        for tree in trees:
            total += tree.predict_proba(X, check_input=False)
        total /= len(trees)
        return total

    return predict_proba


def linear_proba(model) -> list[Callable]:
    """``predict_proba`` of scikit-learn's LogisticRegression without its input checks, in both of
    its forms: multinomial (a softmax) and one-vs-rest, computed as scikit-learn computes them.

    For the few rows of a request batch, its checks (data frame detection, validation) took about
    200 us a call, the arithmetic a few. Which form a model uses depends on its solver, its classes
    and the scikit-learn release, so the first batch's comparison with ``predict_proba`` picks it.
    Empty for any other model (a subclass may predict otherwise).
    """
    kind = type(model)
    if kind.__module__ != "sklearn.linear_model._logistic" or kind.__name__ != "LogisticRegression":
        return []
    from scipy.special import expit
    from sklearn.utils.extmath import softmax

    coef_t, intercept = model.coef_.T, model.intercept_

    def decision(X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != coef_t.shape[0]:
            return None
        return X @ coef_t + intercept

    def multinomial(X):
        scores = decision(X)
        if scores is None:
            return model.predict_proba(X)  # which says what is wrong
        if scores.shape[1] == 1:  # two classes
            scores = np.c_[-scores[:, 0], scores[:, 0]]
        return softmax(scores, copy=False)

    def one_vs_rest(X):
        scores = decision(X)
        if scores is None:
            return model.predict_proba(X)
        expit(scores, out=scores)
        if scores.shape[1] == 1:
            return np.vstack([1 - scores[:, 0], scores[:, 0]]).T
        scores /= scores.sum(axis=1).reshape((scores.shape[0], -1))
        return scores

    return [multinomial, one_vs_rest]


def direct_proba(model) -> list[Callable]:
    """The predictor's own ways to a model's ``predict_proba``, to be checked against it."""
    forest = tree_sum(model)
    return [forest] if forest is not None else linear_proba(model)


class Predictor:
    """One loaded model version: turns checked inputs into raw outputs, and raw outputs into results."""

    def __init__(self, model, schema: dict, task: str, classes: list[str] | None = None):
        self.model = model
        self.schema = schema
        self.task = task
        self.classes = classes or [str(c) for c in getattr(model, "classes_", [])]
        self._feature_names = getattr(model, "feature_names_in_", None)
        self._numeric = self.schema.get("type") == "table" and all(
            c["type"] in ("number", "integer") for c in self.schema["columns"]
        )
        # Checked against the model's own predict_proba on the first batch (see _probabilities).
        self._direct = direct_proba(model) if self._numeric and task == "classification" else []
        self._direct_checked = False

    def features(self, rows: list[list]):
        """The batch as the model reads it: a float array for numeric columns (already checked by
        name, in the model's order), else a DataFrame with the column names and types."""
        if self._numeric:
            return np.asarray(rows, dtype=np.float64)
        import pandas as pd

        return pd.DataFrame(rows, columns=[c["name"] for c in self.schema["columns"]]).infer_objects()

    def _call(self, method, X):
        if self._numeric and self._feature_names is not None:
            # A DataFrame costs ~5x the model call itself; the names were checked in check_rows.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "X does not have valid feature names", UserWarning)
                return method(X)
        return method(X)

    def run(self, inputs: list) -> list:
        """Raw outputs for a batch (called in a worker thread): probabilities, labels or detections.

        Inputs passed the schema; what the model still refuses of them (a value out of its
        range, a category it never saw) is the input's problem, told as such: a 400, never a 500.
        """
        try:
            return self._run(inputs)
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
            raise InvalidInput(f"the model cannot predict this input: {type(exc).__name__}: {exc}"[:500]) from exc

    def _run(self, inputs: list) -> list:
        if self.task == "detection":
            return list(self.model.detect(inputs))
        if self.schema.get("type") == "image":
            X = np.stack([x.reshape(-1) if self.schema.get("flatten", True) else x for x in inputs])
        else:
            X = self.features(inputs)
        if self.task == "classification" and hasattr(self.model, "predict_proba"):
            return list(self._probabilities(X))
        return list(self._call(self.model.predict, X))

    def _probabilities(self, X):
        if not self._direct:
            return self._call(self.model.predict_proba, X)
        if self._direct_checked:
            return self._direct[0](X)
        # Once: a scikit-learn release that computes otherwise keeps its own path.
        expected = self._call(self.model.predict_proba, X)
        self._direct = [way for way in self._direct if np.array_equal(way(X), expected)][:1]
        if not self._direct:
            log.warning(
                "%s: the predictor's own path differs from predict_proba; using predict_proba",
                type(self.model).__name__,
            )
        self._direct_checked = True
        return expected

    def result(self, raw, config: dict) -> dict:
        """One raw output in the response shape of the original Flask service."""
        min_confidence = float(config.get("DETECTION_MIN_CONFIDENCE") or 0.0)
        if self.task == "detection":
            keep = [i for i, s in enumerate(raw["scores"]) if s >= min_confidence]
            return {
                "class_name": [str(raw["class_name"][i]) for i in keep],
                "scores": [round(float(raw["scores"][i]), 6) for i in keep],
                ROIS: [[int(v) for v in raw["rois"][i]] for i in keep],
            }
        if self.task == "classification":
            if np.ndim(raw) == 0:  # a classifier without predict_proba: its label, fully confident
                label = str(raw)
                names = self.classes
                if label in [str(c) for c in getattr(self.model, "classes_", [])]:
                    label = names[[str(c) for c in self.model.classes_].index(label)]
                return {"class_name": [label], "scores": [1.0]}
            top_k = int(config.get("TOP_K") or 1)
            # The best class alone (the default) needs no sort: a tenth of a tiny model's answer.
            order = [int(np.argmax(raw))] if top_k == 1 else np.argsort(-raw, kind="stable")[:top_k]
            keep = [i for i in order if raw[i] >= min_confidence]
            return {"class_name": [self.classes[i] for i in keep], "scores": [round(float(raw[i]), 6) for i in keep]}
        return {"class_name": [], "scores": [], "value": float(raw)}


def check_sample_prediction(model, schema: dict, examples: list[dict], task: str) -> None:
    """Refuse to save a model that its own sample does not fit (an ``X`` with other columns than
    it was trained on): saved, every prediction would fail. The sample (``X``'s first rows, or a
    row of zeros for numbers only) takes the path a prediction takes."""
    if schema.get("type") != "table" or not hasattr(model, "predict"):
        return
    columns = [c["name"] for c in schema["columns"]]
    trained = getattr(model, "feature_names_in_", None)
    if trained is not None and [str(c) for c in trained] != columns:
        raise InvalidInput(
            f"X has the columns {', '.join(columns)} but the model was trained on {', '.join(map(str, trained))}: "
            "save it with the X it was trained on"[:500]
        )
    rows = None
    if examples:
        with contextlib.suppress(InvalidInput):  # missing values in the sample: not the model's fault
            rows = check_rows(examples, schema)
    if rows is None and all(c["type"] in ("number", "integer") for c in schema["columns"]):
        rows = [[0] * len(columns)]
    if rows is None:
        return
    try:
        Predictor(model, schema, task).run(rows)
    except InvalidInput as exc:
        raise InvalidInput(
            f"the model cannot predict a sample of X ({exc.message}): save it with the X it was trained on"[:500]
        ) from exc
