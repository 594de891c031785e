"""Diverse selection and the final ranking (``_engine/selection.py``)."""

import numpy as np
import pytest

from skcfx.counterfactual._engine import candidates
from skcfx.counterfactual._engine.selection import (
    finalize,
    select_diverse,
    select_diverse_grouped,
)


def _l1(A, b):
    return np.abs(A - b).sum(axis=-1)


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


@pytest.mark.parametrize("limit", [None, 40])
@pytest.mark.parametrize("weight, separation", [(0.0, 0.0), (1.0, 0.0), (0.7, 1.5)])
def test_grouped_selection_picks_what_each_pool_alone_picks(
    weight, separation, limit, monkeypatch
):
    """Picking for all queries at once (padded pools, one pick per step)
    gives each query's :func:`select_diverse` picks, in order, with empty
    pools, one-row pools, ties in cost and repeated rows among them."""
    rng = np.random.default_rng(0)
    sizes = [0, 1, 2, 7, 30, 0, 12, 3]
    pools = [rng.integers(0, 4, size=(m, 3)).astype(float) for m in sizes]
    costs = [np.round(rng.random(m), 1) for m in sizes]  # ties
    Z, cost = np.vstack(pools), np.concatenate(costs)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    if limit is not None:  # padded in runs of a few pools
        monkeypatch.setattr(candidates, "BLOCK_ROWS", limit)
    picks = select_diverse_grouped(
        Z, cost, owner, len(sizes), 4, _l1, weight, separation
    )
    start = 0
    for i, m in enumerate(sizes):
        alone = select_diverse(pools[i], costs[i], 4, _l1, weight, separation)
        np.testing.assert_array_equal(picks[i], start + alone)
        start += m


def test_finalize_results_do_not_depend_on_the_other_queries(captured):
    """Finalize groups its work over all queries; each query's results are
    those it gets alone."""
    _, problem, pools, *_ = captured
    together = finalize(problem, pools)
    for i in range(min(problem.n, 4)):
        alone = finalize(problem, [p if j == i else p[:0] for j, p in enumerate(pools)])
        np.testing.assert_array_equal(alone[i], together[i])
