"""The predictor's own paths for scikit-learn's forests and logistic regressions answer what the
model's predict_proba does."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from jupyter_mlapp.errors import InvalidInput
from jupyter_mlapp.models.predictor import Predictor, linear_proba, tree_sum

from .conftest import IRIS_COLUMNS

SCHEMA = {"type": "table", "columns": [{"name": c, "type": "number"} for c in IRIS_COLUMNS]}


@pytest.mark.parametrize("kind", [RandomForestClassifier, ExtraTreesClassifier])
def test_a_forest_answers_its_own_predict_proba_exactly(iris, kind):
    X, y, _ = iris
    forest = kind(n_estimators=30, random_state=0).fit(X.values, y)
    predictor = Predictor(forest, SCHEMA, "classification")
    assert predictor._direct
    for rows in (X.values[:1], X.values[40:57], X.values):  # the first batch is the one compared
        assert np.array_equal(np.array(predictor.run(rows.tolist())), forest.predict_proba(rows))
    assert predictor._direct  # it passed the comparison and is the path used


def test_a_forest_subclass_keeps_its_own_predict_proba(iris):
    X, y, _ = iris

    class Sharpened(RandomForestClassifier):
        def predict_proba(self, X):
            return np.round(super().predict_proba(X))

    forest = Sharpened(n_estimators=10, random_state=0).fit(X.values, y)
    assert tree_sum(forest) is None
    assert np.array_equal(
        np.array(Predictor(forest, SCHEMA, "classification").run(X.values[:20].tolist())),
        forest.predict_proba(X.values[:20]),
    )


@pytest.mark.parametrize(
    ("classes", "options"),
    [
        (3, {}),  # multinomial
        (2, {}),  # two classes: one-vs-rest (an expit)
        (2, {"solver": "liblinear"}),
    ],
)
def test_a_logistic_regression_answers_its_own_predict_proba_exactly(iris, classes, options):
    X, y, _ = iris
    keep = y.isin(sorted(set(y))[:classes]).values
    model = LogisticRegression(max_iter=500, **options).fit(X.values[keep], y[keep])
    predictor = Predictor(model, SCHEMA, "classification")
    rows = X.values[keep]
    for batch in (rows[:1], rows[40:57], rows):
        assert np.array_equal(np.array(predictor.run(batch.tolist())), model.predict_proba(batch))
    assert len(predictor._direct) == 1  # one form passed the comparison and is the path used


def test_a_logistic_regression_of_three_classes_fitted_one_vs_rest_is_answered_as_scikit_learn_does(iris):
    # Releases before 1.5 fitted such models (multi_class="ovr"), and their pickles still load.
    X, y, _ = iris
    model = LogisticRegression(max_iter=500).fit(X.values, y)
    _, one_vs_rest = linear_proba(model)
    assert np.array_equal(one_vs_rest(X.values), model._predict_proba_lr(X.values))


def test_a_logistic_regression_subclass_keeps_its_own_predict_proba(iris):
    X, y, _ = iris

    class Sharpened(LogisticRegression):
        def predict_proba(self, X):
            return np.round(super().predict_proba(X))

    model = Sharpened(max_iter=500).fit(X.values, y)
    assert linear_proba(model) == []
    assert np.array_equal(
        np.array(Predictor(model, SCHEMA, "classification").run(X.values[:20].tolist())),
        model.predict_proba(X.values[:20]),
    )


def test_rows_of_another_width_are_refused_as_scikit_learn_refuses_them(iris):
    X, y, _ = iris
    for model in (
        RandomForestClassifier(n_estimators=10, random_state=0).fit(X.values, y),
        LogisticRegression(max_iter=500).fit(X.values, y),
    ):
        predictor = Predictor(model, SCHEMA, "classification")
        predictor.run(X.values[:2].tolist())
        with pytest.raises(InvalidInput, match="features"):
            predictor.run([[1.0, 2.0, 3.0]])
