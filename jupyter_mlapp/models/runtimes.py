"""Models a user brings as ONNX or TorchScript, behind the same ``predict_proba`` as scikit-learn.

The runtimes are optional: without onnxruntime (or torch) such a model is listed as unavailable
with the reason, and the rest of the registry serves as usual.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInput


def _probabilities(scores) -> np.ndarray:
    """Scores as rows of probabilities: ONNX classifiers converted from scikit-learn give a list
    of {class: probability}; networks give logits, turned into probabilities with a softmax."""
    if isinstance(scores, list) and scores and isinstance(scores[0], dict):
        return np.array([[row[k] for k in sorted(row)] for row in scores], dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64).reshape(len(scores), -1)
    if np.all(scores >= 0) and np.allclose(scores.sum(axis=1), 1, atol=1e-3):
        return scores
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


class OnnxModel:
    def __init__(self, data: bytes, classes: list[str]):
        try:
            import onnxruntime
        except ImportError:
            raise InvalidInput("onnxruntime is not installed: `pip install onnxruntime` to serve ONNX models") from None
        try:
            self.session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own error types; the message says what is wrong
            raise InvalidInput(f"the weights are not an ONNX model onnxruntime can load ({exc})") from exc
        self.input = self.session.get_inputs()[0].name
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X) -> np.ndarray:
        outputs = self.session.run(None, {self.input: np.asarray(X, dtype=np.float32)})
        return _probabilities(outputs[-1])


class TorchScriptModel:
    def __init__(self, source, classes: list[str]):
        try:
            import torch
        except ImportError:
            raise InvalidInput("torch is not installed: `pip install torch` to serve TorchScript models") from None
        self.torch = torch
        self.module = torch.jit.load(source, map_location="cpu").eval()
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X) -> np.ndarray:
        with self.torch.no_grad():
            scores = self.module(self.torch.from_numpy(np.asarray(X, dtype=np.float32)))
        return _probabilities(scores.numpy())
