"""A classifier's outputs as probabilities, for every explainer alike."""

import numpy as np

__all__ = ["class_probabilities"]


def class_probabilities(estimator, X):
    """Class probabilities of a classifier on ``X`` in one call: its
    ``predict_proba``, else the softmax of its ``decision_function`` (a
    binary model's single score ``s`` as the logits ``[-s/2, s/2]``, so
    that the positive class gets ``sigmoid(s)``); the arg-max is the
    model's decision either way."""
    if hasattr(estimator, "predict_proba"):
        return np.asarray(estimator.predict_proba(X), dtype=float)
    s = np.asarray(estimator.decision_function(X), dtype=float)
    if s.ndim == 1:
        s = np.column_stack([-s / 2, s / 2])
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
