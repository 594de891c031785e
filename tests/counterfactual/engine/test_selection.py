"""Diverse selection and the final ranking (``_engine/selection.py``)."""

import numpy as np

from skcfx.counterfactual._engine.selection import finalize, select_diverse


def _l1(A, b):
    return np.abs(A - b).sum(axis=1)


def test_cheapest_first_then_far_from_the_picked():
    Z = np.array([[0.0], [0.1], [5.0], [2.0]])
    cost = np.array([1.0, 1.05, 1.3, 1.2])
    picks = select_diverse(Z, cost, 3, _l1, diversity_weight=1.0)
    assert picks[0] == 0  # the cheapest
    assert picks[1] == 2  # far from it beats the near-duplicate
    # near-duplicates within min_separation are never picked together
    picks = select_diverse(Z, cost, 4, _l1, 0.0, min_separation=0.5)
    assert 1 not in picks and len(picks) == 3


def test_finalize_returns_k_distinct_valid_rows_best_first(captured):
    _, problem, pools, *_ = captured
    results = finalize(problem, pools)
    for i, rows in enumerate(results):
        assert len(rows) <= problem.k
        if not len(rows):
            continue
        assert len(np.unique(rows, axis=0)) == len(rows)
        valid, _ = problem.evaluate(rows, np.full(len(rows), i))
        assert valid.all()
        cost = problem.cost(rows, np.full(len(rows), i))
        assert cost[0] == cost.min()
