"""Search problems and the one cost function (``_engine/problem.py``)."""

import numpy as np

from skcfx.counterfactual._tabular.queries import make_problem, prepare


def test_a_query_draws_the_same_stream_in_any_batch(captured):
    cfx, problem, *_ = captured
    X = cfx.feature_space_.decode(problem.Zq)
    alone = make_problem(cfx, prepare(cfx, X.iloc[[3]]))
    batch = make_problem(cfx, prepare(cfx, X.iloc[[5, 3, 1]]))
    np.testing.assert_array_equal(alone.rngs[0].random(8), batch.rngs[1].random(8))


def test_cost_is_weighted_distance_plus_changed_fraction(captured):
    cfx, problem, *_ = captured
    space = problem.space
    Z = problem.Zq[:2].copy()
    a = space.names.index("a")
    Z[:, a] += space.mad[a]  # one MAD on one feature
    cost = problem.cost(Z, np.arange(2))
    d = space.n_features
    expected = problem.proximity_weight * (1.0 / d) + problem.sparsity_weight / d
    np.testing.assert_allclose(cost, expected)
    assert (problem.cost(problem.Zq[:2], np.arange(2)) == 0).all()
