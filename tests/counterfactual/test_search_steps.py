"""The shared search steps (``skcfx.counterfactual._search``) on known models.

The explainer's ``Problem`` (queries, bounds, the oracle over the user's
model) is captured from a real ``explain`` call, then the steps are run on it
directly and checked against what they promise.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

import skcfx.counterfactual._explainer as explainer_module
from skcfx import CounterfactualExplainer
from skcfx.counterfactual._search import nudges, pair_changes, single_changes, sparsify


def _data(n=400, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(
        {
            "a": rng.uniform(0, 10, n).round(2),
            "b": rng.uniform(0, 10, n).round(2),
            "frozen": rng.uniform(0, 10, n).round(2),
            "colour": rng.choice(["red", "green", "blue", "grey"], n),
        }
    )
    logit = X["a"] + X["b"] - 10 + 3 * (X["colour"] == "blue")
    return X, (logit > 0).astype(int)


@pytest.fixture(scope="module")
def captured():
    """A fitted explainer and the Problem of one explain call on rejected rows."""
    X, y = _data()
    Xm = pd.get_dummies(X, columns=["colour"], dtype=float)
    model = LogisticRegression(C=100.0, max_iter=2000).fit(Xm, y)

    class OnDummies(LogisticRegression):
        """The model above, on the raw frame (a stand-in for a Pipeline)."""

        def _m(self, X):
            return pd.get_dummies(X, columns=["colour"], dtype=float).reindex(
                columns=Xm.columns, fill_value=0.0
            )

        def predict_proba(self, X):
            return model.predict_proba(self._m(X))

        def predict(self, X):
            return model.predict(self._m(X))

    wrapped = OnDummies()
    wrapped.classes_ = model.classes_
    wrapped.n_features_in_ = X.shape[1]
    wrapped.feature_names_in_ = np.asarray(X.columns, dtype=object)
    cfx = CounterfactualExplainer(
        FrozenEstimator(wrapped),
        features_to_vary=["a", "b", "colour"],
        permitted_range={"a": (0, 10), "b": (0, 10)},
        random_state=0,
    ).fit(X)
    queries = X[(wrapped.predict(X) == 0) & (X["colour"] != "blue")].iloc[:8]
    seen = {}
    original = explainer_module.finalize

    def spy(problem, pools, **kwargs):
        seen["problem"], seen["pools"] = problem, pools
        return original(problem, pools, **kwargs)

    explainer_module.finalize = spy
    try:
        cfx.explain(queries)
    finally:
        explainer_module.finalize = original
    return cfx, seen["problem"], seen["pools"], model, Xm.columns


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


def test_pair_changes_combine_two_features_several_values_each(captured):
    _, problem, _, _, _ = captured
    qidx = np.arange(problem.n)
    singles = single_changes(problem, qidx)
    q, m, d = singles.shape
    _, loss = problem.evaluate(singles.reshape(-1, d), np.repeat(qidx, m))
    loss = loss.reshape(q, m)
    pairs = pair_changes(problem, qidx, singles, loss, top=8, per_feature=3)
    assert pairs.shape == (q, 28, d)
    Zq = problem.Zq[:, None, :]
    n_changed = problem.space.changed(Zq, pairs).sum(axis=-1)
    # real pairs change exactly two features; padding rows are the query
    assert set(np.unique(n_changed)) <= {0, 2}
    assert (n_changed == 2).sum(axis=1).min() > 0
    # several values of one feature appear across a query's pairs
    a = problem.space.names.index("a")
    values = {v for v in pairs[0][:, a] if v != problem.Zq[0, a]}
    assert 1 < len(values) <= 3
    # per_feature=1 (the random search's setting) keeps one value per feature
    one = pair_changes(problem, qidx, singles, loss, top=3, per_feature=1)
    assert len({v for v in one[0][:, a] if v != problem.Zq[0, a]}) <= 1


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


def test_gradient_branches_are_invalid_category_only_changes(captured):
    from skcfx.counterfactual._gradient import _categorical_branches

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
