"""Semi-factuals ("even if"): the farthest prediction-keeping change of one
feature, toward the desired outcome, under the explainer's constraints."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression

from skcfx import CounterfactualExplainer
from skcfx.exceptions import InfeasibleConstraintsError
from skcfx.testing import assert_semifactuals_valid, constraint_sets


def _frame(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(
        {
            "a": rng.uniform(0, 10, n).round(3),
            "b": rng.uniform(0, 10, n).round(3),
            "c": rng.uniform(0, 10, n).round(3),
        }
    )
    y = (X["a"] + 0.5 * X["b"] - 0.8 * X["c"] > 4).astype(int)
    return X, y


@pytest.fixture(scope="module")
def linear():
    X, y = _frame()
    model = LogisticRegression(C=100.0, max_iter=5000).fit(X, y)
    return X, model


def test_linear_model_semifactuals_stop_at_the_boundary(linear):
    """On a logistic model the boundary along each feature is exact: the
    semi-factual keeps the prediction, moves toward the boundary (the sign of
    the coefficient) and stops within range / 1000 of it (or at the
    feature's bound when the boundary lies beyond)."""
    X, model = linear
    queries = X[model.predict(X) == 0].iloc[:20]
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    sf = cfx.semifactuals(queries)
    assert len(sf) and set(sf["feature"]) <= {"a", "b", "c"}
    assert (sf["prediction"] == 0).all()
    assert (model.predict(sf[["a", "b", "c"]]) == 0).all()
    assert (sf["margin_gain"] > 0).all()
    coef = dict(zip("abc", model.coef_[0]))
    for _, row in sf.iterrows():
        q = queries.loc[row["query"]]
        f = row["feature"]
        others = [c for c in "abc" if c != f]
        assert (row[others] == q[others]).all()  # one feature changes
        move = row[f] - q[f]
        assert np.sign(move) == np.sign(coef[f])  # toward class 1
        rest = model.intercept_[0] + sum(coef[c] * q[c] for c in others)
        boundary = -rest / coef[f]
        lo, hi = X[f].min(), X[f].max()
        end = hi if coef[f] > 0 else lo
        span = abs(end - q[f])
        if (boundary - end) * np.sign(coef[f]) >= 0:  # beyond the bound
            assert row[f] == pytest.approx(end)
        else:
            assert abs(row[f] - boundary) <= span / 1000 + 1e-3
            assert (row[f] - boundary) * np.sign(coef[f]) < 1e-9  # not across
    # ranked by margin gain (the strongest "even if") within each query
    for _, g in sf.groupby("query"):
        assert list(g["rank"]) == list(range(len(g)))
        assert (np.diff(g["margin_gain"].to_numpy()) <= 1e-12).all()
        for _, row in g.iterrows():  # a readable change, with its unit
            assert row["change"].startswith(row["feature"] + " ")
            assert " -> " in row["change"]
            if row["feature"] in ("age", "hours_per_week"):
                assert row["change"].endswith(f"{row['distance']:.2f} MAD)")


class _Bump(ClassifierMixin, BaseEstimator):
    """Class 1 only for 3 < a < 5 (a smooth bump), class 0 elsewhere."""

    def fit(self, X, y=None):
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        a = np.asarray(X, dtype=float)[:, 0]
        p = 1.0 / (1.0 + np.exp(-(4.0 * (1.0 - np.abs(a - 4.0)))))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


def test_semifactual_does_not_jump_across_a_changed_region():
    """a = 9 also keeps class 0, but getting there crosses the class-1 bump:
    the semi-factual stops before it (at the bump's edge, a = 3)."""
    X, _ = _frame()
    X = X[["a", "b"]]
    model = _Bump().fit(X)
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    query = pd.DataFrame({"a": [1.0], "b": [5.0]})
    sf = cfx.semifactuals(query)
    row = sf[sf["feature"] == "a"].iloc[0]
    assert 2.99 <= row["a"] < 3.0 + 1e-6
    assert row["prediction"] == 0
    # b does not move the model at all: no semi-factual for it
    assert "b" not in set(sf["feature"])


@settings(deadline=None, max_examples=20)
@given(data=st.data())
def test_constraints_hold(linear, data):
    X, model = linear
    constraints = data.draw(constraint_sets(X))
    rows = data.draw(
        st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=5, unique=True)
    )
    queries = X.iloc[rows]
    try:
        cfx = CounterfactualExplainer(FrozenEstimator(model), **constraints).fit(X)
    except InfeasibleConstraintsError:
        return
    before = queries.copy()
    sf = cfx.semifactuals(queries)
    pd.testing.assert_frame_equal(queries, before)  # the caller's frame
    assert_semifactuals_valid(cfx, queries, sf)
    assert set(sf["feature"]) <= set(constraints["features_to_vary"])
    for _, row in sf.iterrows():
        q = queries.loc[row["query"]]
        f = row["feature"]
        lo, hi = (constraints["permitted_range"] or {}).get(f, (X[f].min(), X[f].max()))
        assert min(lo, q[f]) - 1e-9 <= row[f] <= max(hi, q[f]) + 1e-9
        direction = (constraints["monotonic"] or {}).get(f)
        if direction == "increasing":
            assert row[f] >= q[f]
        elif direction == "decreasing":
            assert row[f] <= q[f]
    if len(sf):
        kept = model.predict(sf[["a", "b", "c"]])
        assert (kept == model.predict(queries.loc[sf["query"]])).all()


def test_categorical_semifactual_is_the_closest_category():
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.RandomState(0)
    n = 2000
    X = pd.DataFrame(
        {
            "x": rng.uniform(0, 1, n).round(3),
            "grade": rng.choice(["d", "c", "b", "a"], n).astype(object),
        }
    )
    bonus = X["grade"].map({"d": 0.0, "c": 0.3, "b": 0.6, "a": 1.5})
    y = (X["x"] + bonus > 1.2).astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["grade"]), remainder="passthrough"),
        LogisticRegression(C=100.0, max_iter=5000),
    ).fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    query = pd.DataFrame({"x": [0.2], "grade": ["d"]}).astype({"grade": object})
    assert model.predict(query)[0] == 0
    sf = cfx.semifactuals(query)
    row = sf[sf["feature"] == "grade"].iloc[0]
    # "a" flips the prediction; of those that keep it, "b" is the closest
    assert model.predict(query.assign(grade="a"))[0] == 1
    assert row["grade"] == "b"
    assert row["prediction"] == 0
    assert row["distance"] == 1.0
    # x: up to just below the boundary 1.2 - bonus("d") = 1.2 (beyond the
    # data's range), so at the top of the range
    assert sf[sf["feature"] == "x"].iloc[0]["x"] == pytest.approx(X["x"].max())


def test_regression_semifactuals_stay_outside_the_range():
    """A regressor (refused before): the farthest change of one feature that
    keeps the prediction below the desired range, toward it, stopping close
    to the range's edge (a linear model: the edge is exact)."""
    X, _ = _frame()
    target = 2 * X["a"] - X["b"]
    model = LinearRegression().fit(X, target)
    low = float(np.quantile(model.predict(X), 0.8))
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), desired_range=(low, np.inf), random_state=0
    ).fit(X)
    queries = X[model.predict(X) < low - 1].iloc[:15]
    sf = cfx.semifactuals(queries)
    assert len(sf) and (sf["margin_gain"] > 0).all()
    assert (sf["prediction"] < low).all()
    assert_semifactuals_valid(cfx, queries, sf)
    coef = dict(zip(X.columns, model.coef_))
    span = X.max() - X.min()
    for _, row in sf.iterrows():
        q = queries.loc[row["query"]]
        f = row["feature"]
        move = row[f] - q[f]
        assert np.sign(move) == np.sign(coef[f])  # toward the range
        # at the edge of the range, or at the feature's bound before it
        edge = q[f] + (low - model.predict(queries.loc[[row["query"]]])[0]) / coef[f]
        reached = X[f].min() <= edge <= X[f].max()
        if reached:
            assert abs(row[f] - edge) <= span[f] / 500
    with pytest.raises(AssertionError, match="is predicted"):
        broken = sf.copy()
        broken.loc[0, broken.loc[0, "feature"]] += (
            10
            * np.sign(coef[broken.loc[0, "feature"]])
            * span[broken.loc[0, "feature"]]
        )
        assert_semifactuals_valid(cfx, queries, broken, check_predicates=False)


def test_assertion_catches_broken_semifactuals(linear):
    """The public assertion re-derives everything from the raw rows: it
    rejects a row whose prediction changed, a second changed column and a
    value outside the permitted range."""
    X, model = linear
    queries = X[model.predict(X) == 0].iloc[:5]
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), permitted_range={"a": (0, 9)}, random_state=0
    ).fit(X)
    sf = cfx.semifactuals(queries)
    assert_semifactuals_valid(cfx, queries, sf)
    row = sf.iloc[[0]].copy()
    f = row["feature"].iloc[0]
    flipped = row.copy()
    flipped[f] = 1e3 if model.coef_[0][list("abc").index(f)] > 0 else -1e3
    with pytest.raises(AssertionError, match="is predicted"):
        assert_semifactuals_valid(cfx, queries, flipped)
    other = [c for c in "abc" if c != f][0]
    two = row.copy()
    two[other] = two[other] + 1.0
    with pytest.raises(AssertionError, match="changes"):
        assert_semifactuals_valid(cfx, queries, two)
    outside = sf[sf["feature"] == "a"].iloc[[0]].copy()
    outside["a"] = 9.5
    with pytest.raises(AssertionError, match="(permitted_range|is predicted)"):
        assert_semifactuals_valid(cfx, queries, outside)


def test_multiclass_semifactuals_keep_the_class():
    """Three classes, desired "any other class" and a named class: the
    semi-factual keeps the query's class and moves toward the target."""
    X, _ = _frame()
    y = np.digitize(X["a"] + X["b"], [8, 12])
    model = LogisticRegression(C=100.0, max_iter=5000).fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:10]
    for desired in ("opposite", 2):
        cfx = CounterfactualExplainer(
            FrozenEstimator(model), desired_class=desired, random_state=0
        ).fit(X)
        sf = cfx.semifactuals(queries)
        assert len(sf)
        assert_semifactuals_valid(cfx, queries, sf)
        assert (sf["prediction"] == 0).all() and (sf["margin_gain"] > 0).all()
        # "a" and "b" raise the class: they only move up
        for f in ("a", "b"):
            rows = sf[sf["feature"] == f]
            q = queries.loc[rows["query"], f].to_numpy()
            assert (rows[f].to_numpy() > q).all()


def test_multiclass_semifactuals_move_toward_the_desired_class():
    """Wine, a boosted 3-class model, desired class 2 for queries of class 0:
    each reported change raises the model's probability of class 2. The
    margin against the strongest other class also grows when class 0 loses
    ground to class 1, and "colour intensity 5.64 -> 1.28" (toward class 1,
    class 2's probability unchanged) was reported first."""
    from sklearn.datasets import load_wine
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = load_wine(return_X_y=True, as_frame=True)
    model = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(X, y)
    queries = X[model.predict(X) == 0].head(10)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), desired_class=2, random_state=0
    ).fit(X)
    sf = cfx.semifactuals(queries)
    assert len(sf) >= 10 and (sf["prediction"] == 0).all()
    before = model.predict_proba(queries.loc[sf["query"]])[:, 2]
    after = model.predict_proba(sf[X.columns])[:, 2]
    assert (after > before).all()
    assert (sf["margin_gain"] > 0).all()
    # "any other class": a change that moves away from class 0 is enough
    other = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    sf_any = other.semifactuals(queries)
    p0_before = model.predict_proba(queries.loc[sf_any["query"]])[:, 0]
    assert (model.predict_proba(sf_any[X.columns])[:, 0] < p0_before).all()
    assert len(sf_any) >= len(sf)
