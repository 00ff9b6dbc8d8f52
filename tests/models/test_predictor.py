"""The predictor's own path for scikit-learn's forests answers what the forest's predict_proba does."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

from jupyter_mlapp.errors import InvalidInput
from jupyter_mlapp.models.predictor import Predictor, tree_sum

from .conftest import IRIS_COLUMNS

SCHEMA = {"type": "table", "columns": [{"name": c, "type": "number"} for c in IRIS_COLUMNS]}


@pytest.mark.parametrize("kind", [RandomForestClassifier, ExtraTreesClassifier])
def test_a_forest_answers_its_own_predict_proba_exactly(iris, kind):
    X, y, _ = iris
    forest = kind(n_estimators=30, random_state=0).fit(X.values, y)
    predictor = Predictor(forest, SCHEMA, "classification")
    assert predictor._tree_sum is not None
    for rows in (X.values[:1], X.values[40:57], X.values):  # the first batch is the one compared
        assert np.array_equal(np.array(predictor.run(rows.tolist())), forest.predict_proba(rows))
    assert predictor._tree_sum is not None  # it passed the comparison and is the path used


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


def test_rows_of_another_width_are_refused_as_scikit_learn_refuses_them(iris):
    X, y, _ = iris
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X.values, y)
    predictor = Predictor(forest, SCHEMA, "classification")
    predictor.run(X.values[:2].tolist())
    with pytest.raises(InvalidInput, match="features"):
        predictor.run([[1.0, 2.0, 3.0]])
