"""Post-hoc sparsity (``_engine/sparsity.py``)."""

import numpy as np

from skcfx.counterfactual._engine.sparsity import sparsify


def test_sparsify_refinement_lands_next_to_the_boundary(captured):
    """On a linear model the exact boundary along one feature is known: the
    refined grid gets within (range / grid**2) of it, never on the invalid
    side, and never farther than the unrefined grid."""
    cfx, problem, _, model, columns = captured
    space = problem.space
    a = space.names.index("a")
    b = space.names.index("b")
    # a far counterfactual per query: feature a at its maximum
    Z = problem.Zq.copy()
    Z[:, a] = 10.0
    owner = np.arange(problem.n)
    valid, _ = problem.evaluate(Z, owner)
    assert valid.any()
    Z, owner = Z[valid], owner[valid]
    coarse = sparsify(problem, Z, owner, refine=0)
    fine = sparsify(problem, Z, owner, refine=1)
    assert problem.evaluate(fine, owner)[0].all()
    gap_fine = np.abs(fine[:, a] - problem.Zq[owner, a])
    gap_coarse = np.abs(coarse[:, a] - problem.Zq[owner, a])
    assert (gap_fine <= gap_coarse + 1e-9).all()
    # exact boundary of the logistic model along a, the other features fixed
    coef = dict(zip(columns, model.coef_[0]))
    rest = (
        model.intercept_[0]
        + coef["b"] * problem.Zq[owner, b]
        + coef["frozen"] * problem.Zq[owner, space.names.index("frozen")]
    )
    colour = space.decode(problem.Zq[owner])["colour"].to_numpy()
    rest = rest + np.array([coef[f"colour_{c}"] for c in colour])
    boundary = -rest / coef["a"]
    span = 10.0 - problem.Zq[owner, a]
    assert (fine[:, a] >= boundary - 1e-6).all()
    assert (fine[:, a] - boundary <= span / 64 + 0.011).all()
