"""Property-based tests: constraints hold for random models, data, queries
and constraint sets, for every method."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier

from skcfx import CounterfactualExplainer
from skcfx.exceptions import InfeasibleConstraintsError, NoCounterfactualWarning
from skcfx.testing import (
    assert_constraints_hold,
    assert_counterfactuals_valid,
    constraint_sets,
    mixed_frames,
)

MODELS = {
    "logistic": lambda: LogisticRegression(max_iter=300),
    "tree": lambda: DecisionTreeClassifier(max_depth=4, random_state=0),
    "forest": lambda: RandomForestClassifier(
        n_estimators=10, max_depth=4, random_state=0
    ),
}


def _fit_model(kind, X, y):
    pre = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["x_cat"]), remainder="passthrough"
    )
    return make_pipeline(pre, MODELS[kind]()).fit(X, y)


@st.composite
def scenarios(draw):
    X, y = draw(mixed_frames())
    constraints = draw(constraint_sets(X))
    method = draw(st.sampled_from(["random", "genetic", "kdtree"]))
    model = draw(st.sampled_from(sorted(MODELS)))
    rows = draw(
        st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=4, unique=True)
    )
    seed = draw(st.integers(0, 1000))
    return X, y, constraints, method, model, rows, seed


@settings(deadline=None)
@given(scenarios())
def test_constraints_always_hold(scenario):
    X, y, constraints, method, kind, rows, seed = scenario
    model = _fit_model(kind, X, y)
    # every drawn constraint set is one the explainer accepts (a range
    # between two observed values holds a value of the column's grid)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model),
        method=method,
        n_counterfactuals=3,
        n_candidates=40,
        max_rounds=4,
        random_state=seed,
        **constraints,
    ).fit(X)
    queries = X.iloc[rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        expl = cfx.explain(queries)
    # frozen features never change, values in range and category set,
    # monotonic never the wrong way, integers stay integers
    assert_constraints_hold(cfx, expl)
    # every counterfactual reported valid is predicted as desired
    assert_counterfactuals_valid(cfx, expl)
    assert expl.summary["constraint_violations"] == 0
    frame = expl.to_frame()
    assert frame["valid"].all()
    assert (frame["x_int"] == frame["x_int"].round()).all()
    assert set(expl.status) <= {
        "found",
        "infeasible under constraints",
        "search budget exhausted",
        "unreachable within budget",
        "query already has the desired outcome",
    }
    # distances are never negative, metrics per query line up with queries
    m = expl.metrics
    assert (m["proximity"].dropna() >= 0).all()
    assert len(m) == len(queries)


@settings(deadline=None)
@given(X_y=mixed_frames(), seed=st.integers(0, 100), perm_seed=st.integers(0, 100))
def test_row_permutation_equivariance(X_y, seed, perm_seed):
    X, y = X_y
    model = _fit_model("logistic", X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model),
        method="random",
        n_counterfactuals=2,
        n_candidates=30,
        max_rounds=3,
        random_state=seed,
    ).fit(X)
    q = X.iloc[:5]
    perm = np.random.RandomState(perm_seed).permutation(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        a = cfx.transform(q)
        b = cfx.transform(q.iloc[perm])
    import pandas as pd

    pd.testing.assert_frame_equal(a.iloc[perm], b)


@pytest.mark.parametrize("method", ["random", "genetic", "kdtree"])
def test_frozen_features_never_change_exhaustive_seeds(method):
    """A fixed scenario over several seeds (fast regression guard)."""
    from skcfx.testing._strategies import mixed_frames as _mf  # noqa: F401

    rng = np.random.RandomState(0)
    import pandas as pd

    X = pd.DataFrame(
        {
            "x_float": rng.normal(size=200).round(2),
            "x_int": rng.randint(0, 20, 200),
            "x_cat": rng.choice(["a", "b", "c"], 200).astype(object),
        }
    )
    y = ((X["x_float"] + (X["x_cat"] == "b")) > 0.3).astype(int)
    model = _fit_model("forest", X, y)
    for seed in range(3):
        cfx = CounterfactualExplainer(
            FrozenEstimator(model),
            method=method,
            features_to_vary=["x_float"],
            permitted_range={"x_float": (-1.0, 1.5)},
            random_state=seed,
        ).fit(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoCounterfactualWarning)
            expl = cfx.explain(X.iloc[:20])
        frame = expl.to_frame()
        q = X.loc[frame["query"]].reset_index(drop=True)
        assert (frame["x_int"].to_numpy() == q["x_int"].to_numpy()).all()
        assert (frame["x_cat"].to_numpy() == q["x_cat"].to_numpy()).all()
        assert frame["x_float"].between(-1.0, 1.5).all()


def _messy_model(kind):
    from sklearn.compose import make_column_transformer as mct
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    if kind == "hgb":
        return HistGradientBoostingClassifier(
            max_iter=20, categorical_features="from_dtype", random_state=0
        )
    pre = mct(
        (
            make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
            ["income", "score", "years"],
        ),
        # missing categories are a category of their own for the encoder
        (OneHotEncoder(handle_unknown="ignore"), ["owner", "purpose"]),
    )
    return make_pipeline(pre, LogisticRegression(max_iter=500))


@st.composite
def messy_scenarios(draw):
    from skcfx.testing import messy_frames

    X, y = draw(messy_frames())
    constraints = draw(constraint_sets(X))
    method = draw(st.sampled_from(["random", "genetic", "kdtree"]))
    kind = draw(st.sampled_from(["pipeline", "hgb"]))
    rows = draw(
        st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=4, unique=True)
    )
    # queries with more decimals than the training data
    extra = draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows)))
    seed = draw(st.integers(0, 1000))
    return X, y, constraints, method, kind, rows, extra, seed


@settings(deadline=None, max_examples=20)
@given(messy_scenarios())
def test_messy_data_no_valid_answer_rejected_no_invalid_accepted(scenario):
    """Frames with NaN cells, bool / category / int columns and queries more
    precise than the training data, behind imputing Pipelines or
    HistGradientBoosting: every returned row the model predicts as desired is
    reported valid (nothing is rejected because of an unchanged cell), every
    row reported valid is predicted as desired and obeys the constraints, a
    missing value of a frozen column stays missing, frames are untouched."""
    X, y, constraints, method, kind, rows, extra, seed = scenario
    model = _messy_model(kind).fit(X, y)
    X_before = X.copy()
    queries = X.iloc[rows].copy()
    queries["score"] = queries["score"] + np.asarray(extra) * 1e-4
    q_before = queries.copy()
    try:
        cfx = CounterfactualExplainer(
            FrozenEstimator(model),
            method=method,
            n_counterfactuals=2,
            n_candidates=40,
            max_rounds=4,
            random_state=seed,
            **constraints,
        ).fit(X)
    except InfeasibleConstraintsError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        expl = cfx.explain(queries)
    pd.testing.assert_frame_equal(X, X_before)
    pd.testing.assert_frame_equal(queries, q_before)
    assert_constraints_hold(cfx, expl)
    assert_counterfactuals_valid(cfx, expl)
    frame = expl.to_frame()
    if len(frame):
        names = list(X.columns)
        pred = model.predict(frame[names])
        q_pred = model.predict(queries.loc[frame["query"]])
        predicted_desired = pred != q_pred  # binary: "opposite"
        assert (frame["valid"] == predicted_desired).all()
        q = queries.loc[frame["query"]].reset_index(drop=True)
        for name in names:
            if name not in constraints["features_to_vary"]:
                assert (frame[name].isna() == q[name].isna()).all()


def _nullable_frame(seed):
    rng = np.random.default_rng(seed)
    n = 60
    X = pd.DataFrame(
        {
            "amount": rng.normal(50, 10, n).round(2),
            "count": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "ratio": pd.array(rng.random(n).round(3), dtype="Float64"),
            "flag": pd.array(rng.random(n) < 0.5, dtype="boolean"),
            "member": rng.random(n) < 0.3,
            "city": pd.Categorical(rng.choice(["north", "south"], n)),
        }
    )
    for col in ("amount", "count", "ratio", "flag"):
        X.loc[rng.random(n) < 0.1, col] = pd.NA if col != "amount" else np.nan
    return X


@settings(deadline=None, max_examples=60)
@given(data=st.data(), seed=st.integers(0, 100))
def test_constraint_sets_are_accepted_on_nullable_and_fine_grained_columns(data, seed):
    """``constraint_sets`` draws, for a frame with pandas' nullable dtypes,
    bool and category columns, missing values and a 2-decimal column, only
    constraint sets the explainer accepts: ranges hold training values,
    bool and category columns get category subsets."""
    X = _nullable_frame(seed)
    constraints = data.draw(constraint_sets(X))
    for name, allowed in (constraints["permitted_range"] or {}).items():
        if name in ("flag", "member", "city"):
            assert set(allowed) <= set(X[name].dropna())
        else:
            low, high = allowed
            values = X[name].dropna().astype(float)
            assert low <= high and values.between(low, high).any()
    # a model that reads nothing: fit checks the constraints against the
    # training frame (InfeasibleConstraintsError on an empty range)
    model = DummyClassifier().fit(X, np.arange(len(X)) % 2)
    CounterfactualExplainer(FrozenEstimator(model), **constraints).fit(X)
