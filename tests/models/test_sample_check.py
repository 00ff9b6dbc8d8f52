"""Saving a model checks that it predicts the sample it is saved with: an X that does not fit the
model is refused at save time with the reason, never accepted to fail every prediction later."""

from __future__ import annotations

import pytest

from jupyter_mlapp.errors import InvalidInput

from .conftest import IRIS_COLUMNS


def test_an_x_with_other_columns_than_the_model_was_trained_on_is_refused_at_save(registry, iris):
    X, _, clf = iris
    with pytest.raises(InvalidInput, match=r"trained on Sepal.Length, Sepal.Width, Petal.Length, Petal.Width"):
        registry.save(clf, "iris", X=X[IRIS_COLUMNS[:3]], user="alice")
    with pytest.raises(InvalidInput, match="save it with the X it was trained on"):  # same columns, other order
        registry.save(clf, "iris", X=X[IRIS_COLUMNS[::-1]], user="alice")
    assert registry.list() == []  # nothing half-saved


def test_a_model_without_column_names_is_checked_by_predicting_the_sample(registry, iris):
    from sklearn.linear_model import LogisticRegression

    X, y, _ = iris
    unnamed = LogisticRegression(max_iter=500).fit(X.to_numpy(), y)
    with pytest.raises(InvalidInput, match=r"cannot predict a sample of X .*expecting 4 features"):
        registry.save(unnamed, "iris", X=X[IRIS_COLUMNS[:3]], user="alice")
    version = registry.save(unnamed, "iris", X=X, user="alice")  # the X it was trained on
    assert [c["name"] for c in version.input_schema["columns"]] == IRIS_COLUMNS
