"""Quality criteria of counterfactual explanations.

Every function takes a :class:`~skcfx.CounterfactualExplanations` (returned
by :meth:`CounterfactualExplainer.explain` or
:meth:`CounterfactualExplainer.evaluate`) and returns a float. Notation: a
query ``x`` has counterfactuals ``c_1 .. c_r`` (``r <= k``, the number
requested); ``d`` features of which ``N`` are numeric and ``C``
categorical; ``MAD_j`` is the median absolute deviation of numeric feature
``j`` on the training data. The mixed distance used throughout is

.. math::

    \\mathrm{dist}(x, c) = \\frac{1}{d}\\Big(\\sum_{j \\in N}
    \\frac{|x_j - c_j|}{\\mathrm{MAD}_j} + \\sum_{j \\in C} [x_j \\ne c_j]\\Big).
"""

import numpy as np

from skcfx.utils._docstrings import substitute

__all__ = [
    "causal_consistency",
    "constraint_violations",
    "coverage",
    "diversity",
    "knn_distance",
    "local_outlier_factor",
    "plausibility",
    "proximity",
    "proximity_categorical",
    "proximity_continuous",
    "sparsity",
    "validity",
    "ynn",
]


def _valid_rows(expl):
    return np.flatnonzero(expl.valid)


@substitute()
def validity(explanations):
    """Fraction of requested counterfactuals that are distinct and valid.

    ``validity = (number of distinct valid counterfactuals) / (n_queries *
    k)``, where valid means the model, re-run on the final (rounded) row,
    predicts the desired class (or a value in the desired range). Missing
    counterfactuals count as invalid, as in the DiCE paper. Queries that
    already have the desired outcome need no counterfactual and are left
    out (NaN when no query needs one).

    {explanations}

    Returns
    -------
    float in [0, 1]
    """
    return explanations.validity()


@substitute()
def coverage(explanations):
    """Fraction of queries with at least one valid counterfactual.

    Queries that already have the desired outcome are left out (NaN when
    no query needs a counterfactual).

    {explanations}

    Returns
    -------
    float in [0, 1]
    """
    return explanations.coverage()


def _mean_over_valid(explanations, values):
    rows = _valid_rows(explanations)
    if len(rows) == 0:
        return float("nan")
    return float(np.mean(values[rows]))


@substitute()
def proximity(explanations):
    """Mean mixed distance ``dist(x, c)`` of valid counterfactuals to their
    query (lower is closer).

    {explanations}

    Returns
    -------
    float, NaN when there is no valid counterfactual.
    """
    e = explanations
    d = e.space.distance(e.query_codes[e.owner], e.action_codes)
    return _mean_over_valid(e, d)


@substitute()
def proximity_continuous(explanations):
    """Mean over valid counterfactuals of ``(1/N) sum_{j in N} |x_j - c_j| /
    MAD_j`` (DiCE's continuous proximity, as a distance).

    {explanations}

    Returns
    -------
    float, NaN when there is no valid counterfactual.
    """
    e = explanations
    num = e.space.numeric
    if len(num) == 0:
        return 0.0
    gap = e.space.numeric_gap(
        e.query_codes[e.owner], e.action_codes
    )  # a filled NaN: 1 MAD
    diff = gap[:, num] / e.space.mad[num]
    return _mean_over_valid(e, diff.mean(axis=1))


@substitute()
def proximity_categorical(explanations):
    """Mean over valid counterfactuals of the fraction of categorical
    features changed, ``(1/C) sum_{j in C} [x_j != c_j]``.

    {explanations}

    Returns
    -------
    float in [0, 1], NaN when there is no valid counterfactual.
    """
    e = explanations
    cat = e.space.categorical
    if len(cat) == 0:
        return 0.0
    diff = np.abs(e.query_codes[e.owner][:, cat] - e.action_codes[:, cat]) > 0.5
    return _mean_over_valid(e, diff.mean(axis=1))


@substitute()
def sparsity(explanations):
    """Mean number of features changed by a valid counterfactual (lower is
    sparser).

    {explanations}

    Returns
    -------
    float, NaN when there is no valid counterfactual.
    """
    e = explanations
    n_changed = e.space.changed(e.query_codes[e.owner], e.action_codes).sum(axis=1)
    return _mean_over_valid(e, n_changed.astype(float))


@substitute()
def diversity(explanations):
    """Mean pairwise distance between the valid counterfactuals of a query,
    averaged over the queries that have at least two.

    ``diversity = mean_q [ 2 / (r (r-1)) sum_{a < b} dist(c_a, c_b) ]``.

    {explanations}

    Returns
    -------
    float, NaN when no query has two valid counterfactuals.
    """
    e = explanations
    per_query = e.per_query_diversity()
    per_query = per_query[~np.isnan(per_query)]
    return float(per_query.mean()) if len(per_query) else float("nan")


@substitute()
def plausibility(explanations):
    """Mean distance of valid counterfactuals to the nearest training row
    that the model predicts as the desired outcome (closeness to the data
    manifold; lower is more plausible).

    {explanations}

    Returns
    -------
    float, NaN when there is no valid counterfactual.
    """
    e = explanations
    return _mean_over_valid(e, e.nearest_distance)


@substitute()
def knn_distance(explanations, k=5):
    """Mean over valid counterfactuals of their mean distance to the ``k``
    nearest training rows that the model predicts as the desired outcome
    (the k-nearest-neighbour closeness to the data manifold used by FACE
    and by the plausibility term; lower is more plausible).

    {explanations}
    k : int, default=5
        Neighbours averaged.

    Returns
    -------
    float, NaN when there is no valid counterfactual.
    """
    return _mean_over_valid(explanations, explanations.knn_distance(k))


@substitute()
def local_outlier_factor(explanations, n_neighbors=20):
    """Mean over valid counterfactuals of their local outlier factor among
    the training rows of the desired outcome (Breunig et al. 2000; about 1
    inside the data, larger for outliers; the LOF criterion of CARLA and
    of DiCE's evaluations).

    {explanations}
    n_neighbors : int, default=20
        Neighbourhood size of the LOF.

    Returns
    -------
    float, NaN when there is no valid counterfactual.
    """
    return _mean_over_valid(
        explanations, explanations.local_outlier_factor(n_neighbors)
    )


@substitute()
def ynn(explanations, k=5):
    """CARLA's yNN: mean over valid counterfactuals of the fraction of their
    ``k`` nearest training rows that the model gives the counterfactual's
    own predicted outcome (higher is more plausible; 1 when every
    neighbour agrees).

    ``yNN = 1 - (1 / (n k)) sum_c sum_{j in kNN(c)} [f(c) != f(x_j)]``.

    {explanations}
    k : int, default=5
        Neighbours.

    Returns
    -------
    float in [0, 1], NaN when there is no valid counterfactual.
    """
    return _mean_over_valid(explanations, explanations.ynn(k))


@substitute()
def causal_consistency(explanations, scm, tolerance=1.0):
    """Fraction of valid counterfactuals that a structural causal model
    reproduces: rows whose columns downstream of their changes are within
    ``tolerance`` noise standard deviations of the SCM's consequence of
    those changes (see
    :meth:`~skcfx.CounterfactualExplanations.causal_gap`). Causal recourse
    against its own SCM scores 1; a counterfactual that raises education
    but not the income it causes does not count.

    {explanations}
    scm : StructuralCausalModel
        A fitted SCM over the explanation's columns (the true one, in a
        benchmark).
    tolerance : float, default=1.0
        Allowed gap, in noise standard deviations.

    Returns
    -------
    float in [0, 1], NaN when there is no valid counterfactual.
    """
    gap = explanations.causal_gap(scm)
    return _mean_over_valid(explanations, (gap <= tolerance).astype(float))


@substitute()
def constraint_violations(explanations):
    """Number of constraint violations among all returned counterfactuals.

    Counts cells that break a constraint (a frozen feature changed, a value
    outside its permitted range or category set, a one-direction feature
    moved the wrong way, a value off its integer or decimal grid) plus rows
    that fail a user predicate. Valid or not, every returned row counts.

    {explanations}

    Returns
    -------
    int
    """
    e = explanations
    return int(e.cell_violations.sum() + (~e.predicate_ok).sum())
