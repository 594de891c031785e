"""Metrics of explanation quality, and scorers for model selection.

Feature-selection criteria (:func:`median_rank`, :func:`posthoc_accuracy`)
take masks or scores. Counterfactual criteria take a
:class:`~skcfx.CounterfactualExplanations`;
:func:`make_counterfactual_scorer` turns any of them into a scorer for
:class:`~sklearn.model_selection.GridSearchCV` or
:func:`~sklearn.model_selection.cross_validate`.
"""

from skcfx.metrics._counterfactual import (
    causal_consistency,
    constraint_violations,
    coverage,
    diversity,
    knn_distance,
    local_outlier_factor,
    plausibility,
    proximity,
    proximity_categorical,
    proximity_continuous,
    sparsity,
    validity,
    ynn,
)
from skcfx.metrics._feature_selection import median_rank, posthoc_accuracy
from skcfx.metrics._interpretability import im1, im2
from skcfx.metrics._scorer import COUNTERFACTUAL_SCORERS, make_counterfactual_scorer

__all__ = [
    "COUNTERFACTUAL_SCORERS",
    "causal_consistency",
    "constraint_violations",
    "coverage",
    "diversity",
    "im1",
    "im2",
    "knn_distance",
    "local_outlier_factor",
    "make_counterfactual_scorer",
    "median_rank",
    "plausibility",
    "posthoc_accuracy",
    "proximity",
    "proximity_categorical",
    "proximity_continuous",
    "sparsity",
    "validity",
    "ynn",
]
