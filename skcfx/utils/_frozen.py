"""The one place that takes a model out of ``FrozenEstimator``."""

from sklearn.frozen import FrozenEstimator

__all__ = ["unwrap_frozen"]


def unwrap_frozen(estimator):
    """Return the model inside a FrozenEstimator (recursively)."""
    while isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    return estimator
