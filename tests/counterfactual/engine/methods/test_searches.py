"""Each model-agnostic search method alone (``random.py``, ``genetic.py``,
``kdtree.py``): valid rows inside the boxes, restricted to the asked queries,
reproducible."""

import numpy as np
import pytest

from skcfx.counterfactual._engine import methods
from skcfx.counterfactual._tabular.queries import make_problem, prepare

from ..conftest import data


def _fresh(cfx, problem):
    X = cfx.feature_space_.decode(problem.Zq)
    return make_problem(cfx, prepare(cfx, X))


@pytest.mark.parametrize("name", ["random", "genetic", "kdtree"])
def test_method_finds_valid_rows_inside_the_boxes(captured, name):
    cfx, problem, *_ = captured
    problem = _fresh(cfx, problem)
    method = methods.get(name)
    asked = np.array([0, 2, 5])
    pools = method.search(
        problem, cfx._context, asked, method.n_candidates, method.max_rounds
    )
    frozen = problem.space.names.index("frozen")
    for i, rows in enumerate(pools):
        if i not in asked:
            assert len(rows) == 0  # only the asked queries are searched
            continue
        assert len(rows), f"{name} found nothing for query {i}"
        valid, _ = problem.evaluate(rows, np.full(len(rows), i))
        assert valid.all()
        assert (rows >= problem.bounds.lo[i] - 1e-9).all()
        assert (rows <= problem.bounds.hi[i] + 1e-9).all()
        np.testing.assert_array_equal(rows[:, frozen], problem.Zq[i, frozen])


@pytest.mark.parametrize("name", ["random", "genetic", "kdtree"])
def test_method_is_reproducible(captured, name):
    cfx, problem, *_ = captured
    method = methods.get(name)
    runs = []
    for _ in range(2):
        p = _fresh(cfx, problem)
        q = np.flatnonzero(p.bounds.feasible)
        runs.append(
            method.search(p, cfx._context, q, method.n_candidates, method.max_rounds)
        )
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_kdtree_returns_projected_training_rows(captured):
    cfx, problem, *_ = captured
    problem = _fresh(cfx, problem)
    from skcfx.counterfactual._engine.methods.kdtree import projected_neighbors

    Z, count = projected_neighbors(problem, cfx._context.index, np.arange(2), 5)
    assert Z.shape == (2, 5, problem.Zq.shape[1]) and (count == 5).all()
    # frozen feature at the query's value; the others from training rows
    frozen = problem.space.names.index("frozen")
    np.testing.assert_array_equal(
        Z[..., frozen], problem.Zq[:2, None, frozen].repeat(5, 1)
    )


@pytest.mark.parametrize("block", [None, 25])
def test_genetic_archives_are_deduplicated_per_query_in_sorted_order(
    block, monkeypatch
):
    """One sort for many queries' archives (in runs of ``BLOCK_ROWS`` rows)
    gives what ``np.unique(axis=0)`` gives per query (empty archives
    included)."""
    from skcfx.counterfactual._engine import candidates
    from skcfx.counterfactual._engine.methods.genetic import _unique

    if block is not None:
        monkeypatch.setattr(candidates, "BLOCK_ROWS", block)

    rng = np.random.default_rng(0)
    pools = [
        [
            rng.integers(0, 3, size=(rng.integers(1, 20), 5)).astype(float)
            for _ in range(rng.integers(0, 4))
        ]
        for _ in range(60)
    ]
    out = _unique(pools, 5)
    assert len(out) == len(pools)
    for parts, rows in zip(pools, out):
        expected = np.unique(np.vstack(parts), axis=0) if parts else np.zeros((0, 5))
        np.testing.assert_array_equal(rows, expected)


def test_genetic_search_is_unchanged_by_compacting_its_archive(captured, monkeypatch):
    """Dropping repeats from the archive while it grows, and drawing the
    offspring in runs of queries, leave every query's candidates as they
    are."""
    from skcfx.counterfactual._engine import candidates
    from skcfx.counterfactual._engine.methods import genetic

    cfx, *_ = captured
    X, _ = data()
    queries = X[cfx.estimator_.predict(X) == 0].iloc[:12]
    runs = []
    for block in (None, 16):
        if block is not None:  # compact after every generation, tiny runs
            monkeypatch.setattr(candidates, "BLOCK_ROWS", block)
            monkeypatch.setattr(genetic, "BLOCK_ROWS", block)
        problem = make_problem(cfx, prepare(cfx, queries))
        runs.append(genetic.genetic_search(problem, n_candidates=30, max_rounds=12))
    for a, b in zip(*runs):
        assert len(a)
        np.testing.assert_array_equal(a, b)


def test_training_index_holds_each_distinct_row_once():
    """Training data that repeat rows (Adult's eight columns: 30,162 rows,
    23,983 distinct) gave the k nearest as copies of one row: the index
    holds each distinct row of an outcome once."""
    import pandas as pd
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression

    from skcfx import CounterfactualExplainer

    rng = np.random.RandomState(0)
    base = pd.DataFrame({"a": rng.randint(0, 5, 40), "b": rng.randint(0, 5, 40)})
    X = pd.concat([base] * 10, ignore_index=True)  # every row ten times
    y = (X["a"] + X["b"] > 4).astype(int)
    model = FrozenEstimator(LogisticRegression().fit(X, y))
    cfx = CounterfactualExplainer(model, method="kdtree", random_state=0).fit(X)
    index = cfx._context.index
    for rows in index.rows.values():
        Z = index.Z[rows]
        assert len(np.unique(Z, axis=0)) == len(Z)
    q = X[model.predict(X) == 0].head(3)
    Zq = cfx.feature_space_.encode(q)
    near, count = index.neighbors(Zq, [[1]] * 3, 5)
    for r in range(3):
        assert len(np.unique(near[r, : count[r]], axis=0)) == count[r] == 5
