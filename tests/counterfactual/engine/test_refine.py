"""Exploration around valid candidates (``_engine/refine.py``)."""

import numpy as np

from skcfx.counterfactual._engine.refine import nudges


def test_nudges_are_valid_one_feature_moves(captured):
    _, problem, pools, _, _ = captured
    space = problem.space
    out = nudges(problem, pools, top=4)
    numeric = set(space.numeric.tolist())
    frozen = space.names.index("frozen")
    for i, (before, after) in enumerate(zip(pools, out)):
        assert len(after) >= len(before)
        new = after[len(before) :]
        if not len(new):
            continue
        owner = np.full(len(new), i)
        valid, _ = problem.evaluate(new, owner)
        assert valid.all()
        # within the query's box, the frozen feature untouched
        assert (new >= problem.bounds.lo[i] - 1e-9).all()
        assert (new <= problem.bounds.hi[i] + 1e-9).all()
        np.testing.assert_array_equal(new[:, frozen], problem.Zq[i, frozen])
        # each is a pool row with one feature moved: a numeric one, or a
        # category the pool row changes set to another one (as sparse)
        num_mask = np.isin(np.arange(space.n_features), sorted(numeric))
        colour = space.names.index("colour")
        for row in new:
            diff = space.changed(before, row[None, :])
            one = diff.sum(axis=1) == 1
            by_number = one & (diff & num_mask).any(axis=1)
            by_swap = (
                one
                & diff[:, colour]
                & (before[:, colour] != problem.Zq[i, colour])
                & (row[colour] != problem.Zq[i, colour])
            )
            assert (by_number | by_swap).any()
        n_changed = space.changed(problem.Zq[i], new).sum(axis=1)
        n_before = space.changed(problem.Zq[i], before).sum(axis=1)
        assert n_changed.min() >= 1 and n_changed.max() <= n_before.max() + 1
