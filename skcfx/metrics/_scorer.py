"""Scorers built from counterfactual metrics."""

import math
import warnings
import weakref

from skcfx.exceptions import NoCounterfactualWarning
from skcfx.metrics import _counterfactual as _m

__all__ = ["COUNTERFACTUAL_SCORERS", "make_counterfactual_scorer"]

_GREATER_IS_BETTER = {
    "validity": True,
    "coverage": True,
    "diversity": True,
    "proximity": False,
    "proximity_continuous": False,
    "proximity_categorical": False,
    "sparsity": False,
    "plausibility": False,
    "knn_distance": False,
    "local_outlier_factor": False,
    "ynn": True,
    "causal_consistency": True,
    "constraint_violations": False,
    "score": True,
    "seconds_per_query": False,
}


# metrics that cannot be scored without arguments (left out of
# COUNTERFACTUAL_SCORERS)
_NEEDS_ARGUMENTS = {"causal_consistency": {"scm"}}

# The last explanation made by a scorer, so that the scorers of one
# multi-metric search step (``scoring={...}``), which GridSearchCV calls one
# after another on the same fitted explainer and the same X, explain once.
_LAST = {"key": None, "explanations": None}


def _explain_once(explainer, X):
    # the same fitted explainer (a refit makes a new feature space), the same
    # parameters (set_params between calls changes the search) and the same X
    key = (
        id(explainer),
        id(getattr(explainer, "feature_space_", None)),
        repr(explainer.get_params(deep=False)),
        id(X),
        getattr(X, "shape", None),
    )
    if _LAST["key"] == key and _LAST["ref"]() is explainer and _LAST["X"]() is X:
        return _LAST["explanations"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        expl = explainer.explain(X)
    try:
        refs = weakref.ref(explainer), weakref.ref(X)
    except TypeError:  # X cannot be weakly referenced (a list): no cache
        return expl
    _LAST.update(key=key, ref=refs[0], X=refs[1], explanations=expl)
    return expl


def _score(explanations, **kwargs):
    return explanations.score(**kwargs)


def _seconds_per_query(explanations):
    return explanations.seconds / max(explanations.n_queries, 1)


_EXTRA = {"score": _score, "seconds_per_query": _seconds_per_query}


class _CounterfactualScorer:
    """Callable ``scorer(explainer, X, y=None) -> float`` (picklable)."""

    def __init__(self, metric, greater_is_better, missing, kwargs=None):
        self.metric = metric
        self.greater_is_better = greater_is_better
        self.missing = missing
        self.kwargs = dict(kwargs or {})

    def __call__(self, explainer, X, y=None):
        expl = _explain_once(explainer, X)
        fn = _EXTRA.get(self.metric) or getattr(_m, self.metric)
        value = fn(expl, **self.kwargs)
        if math.isnan(value):
            value = self.missing
        return value if self.greater_is_better else -value

    def __repr__(self):
        extra = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"make_counterfactual_scorer({self.metric!r}{extra})"


def make_counterfactual_scorer(metric, *, missing=None, **kwargs):
    """Scorer that explains ``X`` and returns one metric, higher is better.

    Parameters
    ----------
    metric : str
        One of ``"validity"``, ``"coverage"``, ``"diversity"``,
        ``"proximity"``, ``"proximity_continuous"``,
        ``"proximity_categorical"``, ``"sparsity"``, ``"plausibility"``,
        ``"knn_distance"``, ``"local_outlier_factor"``, ``"ynn"``,
        ``"causal_consistency"`` (needs ``scm=``),
        ``"constraint_violations"``, ``"score"`` (the fixed ruler of
        :meth:`~skcfx.CounterfactualExplainer.score`) or
        ``"seconds_per_query"`` (wall time of ``explain`` per query, so
        that ``cv_results_`` reports speed beside quality). Cost-like
        metrics are negated, as scikit-learn's ``neg_*`` scorers are. In a
        multi-metric search the scorers of one fitted explainer share one
        ``explain`` call.
    missing : float, default=None
        Value used when the metric is undefined (no valid counterfactual):
        0 for higher-is-better metrics, a large cost (1e3) otherwise.
    **kwargs
        Passed to the metric: ``k`` of ``"knn_distance"`` and ``"ynn"``,
        ``n_neighbors`` of ``"local_outlier_factor"``, ``scm`` and
        ``tolerance`` of ``"causal_consistency"``,
        ``plausibility_weight`` of ``"score"`` (a fixed ruler that also
        charges the distance to the data, to tune the explainer's
        ``plausibility_weight``).

    Returns
    -------
    scorer : callable
        ``scorer(explainer, X, y=None)``.

    Examples
    --------
    >>> from skcfx.metrics import make_counterfactual_scorer
    >>> scorer = make_counterfactual_scorer("proximity")
    >>> scorer
    make_counterfactual_scorer('proximity')
    >>> scorer.greater_is_better  # the scorer returns minus the proximity
    False
    """
    if metric not in _GREATER_IS_BETTER:
        raise ValueError(
            f"metric={metric!r} is not a counterfactual metric; choose from "
            f"{sorted(_GREATER_IS_BETTER)}."
        )
    gib = _GREATER_IS_BETTER[metric]
    if missing is None:
        missing = 0.0 if gib else 1e3
    if metric in _NEEDS_ARGUMENTS and _NEEDS_ARGUMENTS[metric] - set(kwargs):
        raise TypeError(
            f"make_counterfactual_scorer({metric!r}) needs the keyword "
            f"arguments {sorted(_NEEDS_ARGUMENTS[metric])}."
        )
    if kwargs:
        import inspect

        fn = _EXTRA.get(metric) or getattr(_m, metric)
        target = fn if metric != "score" else _score_signature
        allowed = set(inspect.signature(target).parameters) - {"explanations"}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(
                f"make_counterfactual_scorer({metric!r}) got unknown keyword "
                f"arguments {unknown}; {metric!r} takes {sorted(allowed)}."
            )
    return _CounterfactualScorer(metric, gib, missing, kwargs)


def _score_signature(explanations, plausibility_weight=0.0):
    """Keywords of ``CounterfactualExplanations.score``."""


COUNTERFACTUAL_SCORERS = {
    ("" if gib else "neg_") + name: make_counterfactual_scorer(name)
    for name, gib in _GREATER_IS_BETTER.items()
    if name not in _NEEDS_ARGUMENTS
}
