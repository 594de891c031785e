"""The gradient method's categorical branches (``_engine/methods/gradient.py``)."""

import numpy as np

from skcfx.counterfactual._engine.candidates import single_changes
from skcfx.counterfactual._engine.methods.gradient import _categorical_branches


def test_gradient_branches_are_invalid_category_only_changes(captured):
    _, problem, _, _, _ = captured
    space = problem.space
    qidx = np.arange(problem.n)
    singles = single_changes(problem, qidx)
    q, m, d = singles.shape
    valid, loss = problem.evaluate(singles.reshape(-1, d), np.repeat(qidx, m))
    loss = np.where(valid.reshape(q, m), np.inf, loss.reshape(q, m))
    branch = _categorical_branches(problem, qidx, singles, loss, 2)
    assert branch.shape == (q, 2, d)
    colour = space.names.index("colour")
    changed = space.changed(problem.Zq[:, None, :], branch)
    # only the categorical column moves (or the row is the query: padding)
    assert not np.delete(changed, colour, axis=-1).any()
    for r in range(q):
        rows = branch[r][changed[r, :, colour]]
        if not len(rows):
            continue
        assert not problem.evaluate(rows, np.full(len(rows), r))[0].any()
        # the lowest-loss invalid colour changes, best first
        cands = singles[r][space.changed(problem.Zq[r], singles[r])[:, colour]]
        cl = loss[r][space.changed(problem.Zq[r], singles[r])[:, colour]]
        best = cands[np.argsort(cl, kind="stable")[: len(rows)]]
        np.testing.assert_array_equal(rows, best)
