"""method="exact" (``_engine/methods/exact.py`` over ``_engine/exact/``):
optimal against enumeration, never beaten by a heuristic, infeasibility
proved, certificates, and clear errors for what it cannot encode."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    StandardScaler,
)
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from skcfx import CounterfactualExplainer
from skcfx.exceptions import NoCounterfactualWarning

from .conftest import brute_force, pipeline, small_frame

HEADS = {
    "logistic": lambda: LogisticRegression(),
    "tree": lambda: DecisionTreeClassifier(max_depth=4, random_state=0),
    "forest": lambda: RandomForestClassifier(10, max_depth=3, random_state=0),
    "boosting": lambda: GradientBoostingClassifier(
        n_estimators=10, max_depth=2, random_state=0
    ),
    "hist boosting": lambda: HistGradientBoostingClassifier(
        max_iter=15, max_depth=3, random_state=0
    ),
}


def _cost_of_best(expl):
    best = expl.best_index()
    cost = np.full(expl.n_queries, np.inf)
    cost[best >= 0] = expl._cost()[best[best >= 0]]
    return cost


@pytest.mark.parametrize("head", HEADS)
def test_exact_equals_enumeration(small, head):
    X, y = small
    model = pipeline(HEADS[head]()).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=1
    ).fit(X)
    queries = X[model.predict(X) == 0].iloc[:6]
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    np.testing.assert_allclose(expl.certificate["objective"], got, atol=1e-9)
    frame = expl.to_frame()
    assert (model.predict(frame[X.columns]) == 1).all()  # re-predicted


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    head=st.sampled_from(sorted(HEADS)),
    vary=st.sampled_from([["a", "b", "colour"], ["a", "colour"], ["b"]]),
    a_range=st.sampled_from([None, (2, 8), (0, 4)]),
    increasing=st.booleans(),
)
def test_no_heuristic_beats_the_optimum(seed, head, vary, a_range, increasing):
    X, y = small_frame(200, seed)
    model = pipeline(HEADS[head]()).fit(X, y)
    kw = dict(features_to_vary=vary, n_counterfactuals=2, random_state=0)
    if a_range is not None:
        kw["permitted_range"] = {"a": a_range}
    if increasing:
        kw["monotonic"] = {"b": "increasing"}
    queries = X[model.predict(X) == 0].iloc[:4]
    if not len(queries):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        exact = CounterfactualExplainer(FrozenEstimator(model), method="exact", **kw)
        e = exact.fit(X).explain(queries)
        for method in ("genetic", "random"):
            h = CounterfactualExplainer(FrozenEstimator(model), method=method, **kw)
            he = h.fit(X).explain(queries)
            opt = e.certificate["objective"].to_numpy()
            # every valid heuristic row costs at least the optimum
            rows = np.flatnonzero(he.valid)
            assert (he._cost()[rows] >= opt[he.owner[rows]] - 1e-9).all()
            # where infeasibility is proved, the heuristic finds nothing
            proved = (e.certificate["solver_status"] == "proved infeasible").to_numpy()
            assert not np.isin(he.owner[he.valid], np.flatnonzero(proved)).any()
    assert e.valid.all()
    frame = e.to_frame()
    if len(frame):
        assert (model.predict(frame[X.columns]) == 1).all()
        assert e.constraints.cell_violations(e.query_codes[e.owner], e.codes).sum() == 0


@pytest.mark.parametrize("head", ["logistic", "forest", "hist boosting"])
def test_next_solutions_change_other_features(small, head):
    X, y = small
    model = pipeline(HEADS[head]()).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=3
    ).fit(X)
    q = X[model.predict(X) == 0].iloc[[0]]
    expl = cfx.explain(q)
    changed = expl.space.changed(expl.query_codes[expl.owner], expl.codes)
    codes, cat = expl.codes, expl.space.is_categorical
    # a different set of features each, or a categorical one to another
    # category (another colour is another answer)
    patterns = {(tuple(c), tuple(z[c & cat])) for c, z in zip(changed, codes)}
    assert len(patterns) == len(changed)
    for r in range(1, len(changed)):  # none an earlier one with more changes
        for s in range(r):
            more = (changed[s] <= changed[r]).all()
            if head == "logistic":  # the program's cut: numeric values aside
                keep = changed[s] & cat
            else:  # the earlier one's changes at the same values, and others
                keep = changed[s]
            assert not (more and np.array_equal(codes[r][keep], codes[s][keep]))
    cost = expl._cost()
    assert (np.diff(cost) >= -1e-12).all()  # next-best, in order


@pytest.mark.parametrize("head", ["logistic", "forest"])
def test_next_solutions_may_move_a_category_elsewhere(head):
    """A zip code with 30 levels and two numeric columns: the cheapest
    answers move the zip code, each to another one, as four real
    alternatives. The rule excluded any later answer that changed the zip
    code again, and the exact search returned 2.7 answers per query where
    the genetic search found 4 (300 levels, 20 queries)."""
    rng = np.random.RandomState(0)
    n = 1500
    zipc = rng.randint(0, 30, n).astype(str)
    effect = dict(zip(map(str, range(30)), rng.normal(0, 1.5, 30)))
    X = pd.DataFrame(
        {
            "zip": zipc,
            "income": rng.randint(10, 100, n).astype(float),
            "tenure": rng.randint(0, 20, n).astype(float),
        }
    )
    logit = np.array([effect[z] for z in zipc]) + (X["income"] - 55) / 30
    y = (logit + 0.2 * X["tenure"] / 20 + rng.normal(0, 0.3, n) > 0).astype(int)
    head_ = (
        LogisticRegression(max_iter=1000)
        if head == "logistic"
        else RandomForestClassifier(10, max_depth=4, random_state=0)
    )
    pre = ColumnTransformer(
        [("zip", OneHotEncoder(), ["zip"])], remainder=StandardScaler()
    )
    model = Pipeline([("prep", pre), ("clf", head_)]).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=4, time_limit=10
    ).fit(X)
    queries = X[model.predict(X) == 0].head(5)
    expl = cfx.explain(queries)
    assert expl.valid.all()
    assert (np.bincount(expl.owner, minlength=5) == 4).all()
    changed = expl.space.changed(expl.query_codes[expl.owner], expl.codes)
    z = list(X.columns).index("zip")
    for q in range(5):
        rows = np.flatnonzero(expl.owner == q)
        moved = rows[changed[rows, z]]
        # each zip code at most once among the query's answers
        assert len(np.unique(expl.codes[moved, z])) == len(moved)
    # several queries get more than one zip code among their answers
    per_query = np.bincount(expl.owner[changed[:, z]], minlength=5)
    assert (per_query >= 2).sum() >= 2


@pytest.mark.parametrize("head", ["ridge", "logistic"])
def test_next_solutions_on_continuous_columns_are_real_alternatives(head):
    # columns with more than 6 decimals have no grid: a change may be as
    # small as the solver likes, and the next "different" solution was the
    # optimum plus a change of another column by 1e-9 (four copies of one
    # row on the diabetes data); a range's optimum on its bound was also
    # predicted a rounding error outside it, and then the query had one
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.linear_model import Ridge

    if head == "ridge":
        X, y = load_diabetes(return_X_y=True, as_frame=True)
        model = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
        kw = dict(desired_range=(200, 400))
        queries = X[model.predict(X) < 150].head(12)
    else:
        X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        X = X.iloc[:, :8]
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
        kw = {}
        queries = X[model.predict(X) == 0].head(4)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=4, **kw
    ).fit(X)
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    assert expl.valid.all() and (np.bincount(expl.owner) == 4).all()
    changed = expl.space.changed(expl.query_codes[expl.owner], expl.codes)
    gap = np.abs(expl.codes - expl.query_codes[expl.owner]) / expl.space.mad
    # every change is a real one (not a rounding error of the solver)
    assert (gap[changed] > 1e-4).all()
    cost = expl._cost()
    for q in range(len(queries)):
        rows = np.flatnonzero(expl.owner == q)
        for r in range(1, len(rows)):
            earlier = changed[rows[:r]]
            assert not (earlier <= changed[rows[r]]).all(axis=1).any()
        assert (np.diff(cost[rows]) >= -1e-12).all()
    if head == "ridge":
        # optima sit on the bound 200: valid up to rounding, whatever batch
        # they are predicted in (the judge's batch predicted some of them
        # 199.99999999999997 and reported them invalid)
        from skcfx.counterfactual._base import in_range
        from skcfx.testing import assert_counterfactuals_valid

        pred = model.predict(expl.to_frame()[X.columns])
        assert in_range(pred, 200, 400).all()
        assert_counterfactuals_valid(cfx, expl)
        assert in_range([200 - 1e-12, 400 + 1e-12], 200, 400).all()
        assert not in_range([200 - 1e-5, 400 + 1e-5], 200, 400).any()
        assert in_range([-1e300, 5], -np.inf, np.inf).all()


@pytest.mark.parametrize("grid", [False, True])
def test_query_far_outside_a_permitted_range(grid):
    """A query whose value lies farther outside a permitted range than the
    range is wide: the program bounded the move by the range's width, so a
    continuous column could only reach the near end of the range (here
    nothing: "proved infeasible") and a relaxed gridded one (the genetic
    search's seed) likewise."""
    rng = np.random.RandomState(0)
    a = rng.normal(0, 2, 400)
    X = pd.DataFrame(
        {"a": a if not grid else np.round(a, 1), "b": rng.normal(0, 1, 400)}
    )
    y = (X["a"] + 0.2 * X["b"] < -1).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    queries = X[(model.predict(X) == 0) & (X["a"] > 3)].head(3)
    assert len(queries)
    kw = dict(features_to_vary=["a"], permitted_range={"a": (-4, 0)})
    found = {}
    for method in ("exact", "genetic"):
        cfx = CounterfactualExplainer(
            FrozenEstimator(model), method=method, n_counterfactuals=1, **kw
        ).fit(X)
        expl = cfx.explain(queries)
        assert (expl.status == "found").all(), method
        out = expl.to_frame()
        assert ((out["a"] >= -4) & (out["a"] <= 0)).all()
        assert (model.predict(out[X.columns]) == 1).all()
        found[method] = out["a"].to_numpy()
    # ``a`` alone moves: the best answer is the largest admissible value
    # that flips the prediction (on the grid, enumerated)
    assert (found["exact"] >= found["genetic"] - 1e-9).all()
    if grid:
        values = np.round(np.arange(-40, 1) / 10, 1)
        for i, b in enumerate(queries["b"]):
            rows = pd.DataFrame({"a": values, "b": b})
            assert found["exact"][i] == values[model.predict(rows) == 1].max()


def test_infeasible_is_proved():
    X, y = small_frame()
    model = pipeline(LogisticRegression()).fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:3]
    cfx = CounterfactualExplainer(
        FrozenEstimator(model),
        method="exact",
        features_to_vary=["b"],
        monotonic={"b": "increasing"},  # raising b only lowers the score
    ).fit(X)
    with pytest.warns(NoCounterfactualWarning):
        expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "proved infeasible").all()
    assert (expl.status == "infeasible under constraints").all()
    assert all("proved infeasible" in r for r in expl.reason)


def test_regression_range():
    X, y = small_frame()
    target = 3 * X["a"] - 2 * X["b"]
    model = pipeline(LinearRegression()).fit(X, target)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", desired_range=(20, 22)
    ).fit(X)
    q = X.iloc[:3]
    expl = cfx.explain(q)
    pred = model.predict(expl.to_frame()[X.columns])
    assert ((pred >= 20) & (pred <= 22)).all()
    for i in range(3):
        want, _ = brute_force(cfx, q.iloc[[i]])
        got = expl._cost()[expl.best_index()[i]]
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_unsupported_models_and_steps_are_named():
    X, y = small_frame()
    with pytest.raises(TypeError, match="KNeighborsClassifier.*heuristic method"):
        CounterfactualExplainer(pipeline(KNeighborsClassifier()), method="exact").fit(
            X, y
        )
    Xn = X[["a", "b"]]
    model = make_pipeline(PolynomialFeatures(), LogisticRegression())
    with pytest.raises(TypeError, match="polynomialfeatures.*not an affine scaler"):
        CounterfactualExplainer(model, method="exact").fit(Xn, y)
    with pytest.raises(ValueError, match="method=.exact. cannot search from missing"):
        cfx = CounterfactualExplainer(
            pipeline(LogisticRegression()), method="exact"
        ).fit(X, y)
        q = X.iloc[:1].copy()
        q["a"] = np.nan
        cfx.explain(q)


@pytest.mark.parametrize("head", ["logistic", "forest"])
def test_query_off_the_training_grid(head):
    """A query with one more decimal than the training data keeps its own
    value when unchanged; a changed value lands on the grid (the gated
    formulation), and the optimum still equals enumeration."""
    X, y = small_frame()
    model = pipeline(HEADS[head]()).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=1
    ).fit(X)
    queries = X[model.predict(X) == 0].iloc[:4].copy()
    queries["a"] = queries["a"] + 0.37  # off the integer grid
    queries["b"] = queries["b"] + 0.21
    queries = queries[model.predict(queries) == 0]
    assert len(queries)
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    assert (model.predict(expl.to_frame()[X.columns]) == 1).all()


@pytest.mark.parametrize(
    "head",
    [
        lambda: RandomForestRegressor(10, max_depth=4, random_state=0),
        lambda: HistGradientBoostingRegressor(max_iter=20, random_state=0),
    ],
    ids=["forest", "hist boosting"],
)
def test_tree_regression_range(head):
    X, y = small_frame()
    target = 3 * X["a"] - 2 * X["b"] + 4 * (X["colour"] == "red")
    model = pipeline(head()).fit(X, target)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", desired_range=(14, 18)
    ).fit(X)
    q = X[model.predict(X) < 14].iloc[:3]
    expl = cfx.explain(q)
    pred = model.predict(expl.to_frame()[X.columns])
    assert ((pred >= 14) & (pred <= 18)).all()
    for i in range(len(q)):
        want, _ = brute_force(cfx, q.iloc[[i]])
        got = expl._cost()[expl.best_index()[i]]
        np.testing.assert_allclose(got, want, atol=1e-9)


@pytest.mark.parametrize("head", ["forest", "hist boosting"])
def test_multiclass_any_other_class(head):
    """Three classes, "any class but the query's": the optimum over both
    other classes equals enumeration."""
    X, _ = small_frame()
    y = np.digitize(0.6 * X["a"] - 0.9 * X["b"] + 2 * (X["colour"] == "blue"), [0, 3])
    model = pipeline(HEADS[head]()).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=1
    ).fit(X)
    queries = X.iloc[:5]
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    pred = model.predict(expl.to_frame()[X.columns])
    assert (pred != model.predict(queries)[expl.owner]).all()


def test_tree_time_limit_gives_a_bound():
    """Stopped by its time limit, the tree search reports a lower bound no
    higher than the optimum it finds with time."""
    X, y = small_frame(400, 3)
    model = pipeline(RandomForestClassifier(30, max_depth=5, random_state=0))
    model.fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:3]
    kw = dict(n_counterfactuals=1, random_state=0)
    full = CounterfactualExplainer(FrozenEstimator(model), method="exact", **kw)
    opt = full.fit(X).explain(queries).certificate
    fast = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", time_limit=1e-9, **kw
    ).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        cut = fast.explain(queries).certificate
    assert set(cut["solver_status"]) <= {"feasible", "no solution within time limit"}
    assert (cut["bound"] <= opt["objective"] + 1e-12).all()


def _many_categories(n=500, seed=0):
    rng = np.random.RandomState(seed)
    colours = np.array(list("abcdefghij"))
    X = pd.DataFrame(
        {
            "a": rng.randint(0, 10, n).astype(float),
            "colour": rng.choice(colours, n),
            "b": rng.randint(0, 6, n).astype(float),
        }
    )
    good = X["colour"].isin(list("bdgh"))
    logit = 0.6 * X["a"] - 0.9 * X["b"] + 2.5 * good - 1.5 * (X["colour"] == "j")
    y = (logit + rng.normal(0, 0.5, n) > 0).astype(int)
    return X, y, logit


@pytest.mark.parametrize(
    "how", ["from_dtype", "ordinal encoder", "ordinal encoder last", "regressor"]
)
def test_hist_gradient_boosting_native_categories_equal_enumeration(how):
    """A histogram gradient boosting that splits on categories natively (a
    set of categories goes left) is read exactly: on a frame with pandas
    ``category`` columns (its own encoder) or behind an OrdinalEncoder with
    ``categorical_features``; it was refused by name."""
    from skcfx.counterfactual._engine.methods.exact import ExactModel

    X, y, logit = _many_categories()
    kw = dict(n_counterfactuals=1, random_state=0)
    if how.startswith("ordinal encoder"):
        # the model moves its categorical inputs first: "last" checks that
        # its inputs are read in its own order
        enc = ("cat", OrdinalEncoder(), ["colour"])
        num = ("num", "passthrough", ["a", "b"])
        last = how.endswith("last")
        pre = ColumnTransformer([num, enc] if last else [enc, num])
        hgb = HistGradientBoostingClassifier(
            max_iter=30, categorical_features=[2 if last else 0], random_state=0
        )
        model = Pipeline([("prep", pre), ("clf", hgb)]).fit(X, y)
    else:
        X = X.astype({"colour": "category"})
        if how == "regressor":
            y = logit
            kw["desired_range"] = (1.0, 3.0)
            model = HistGradientBoostingRegressor(max_iter=30, random_state=0)
        else:
            model = HistGradientBoostingClassifier(max_iter=30, random_state=0)
        model.fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(model), method="exact", **kw).fit(X)
    exact = cfx._context.exact
    assert isinstance(exact, ExactModel) and exact.kind == "trees"
    assert (exact.head.split_categorical >= 0).any()
    # the flat form predicts as the model does, on every row
    phi = exact.input_map.preprocess(X)
    raw = np.array([exact.head.leaf_value[exact.head.leaves_of(p)].sum(0) for p in phi])
    raw = raw + exact.head.const
    want = model.predict(X) if how == "regressor" else model.decision_function(X)
    np.testing.assert_allclose(raw.ravel(), np.ravel(want), atol=1e-9)
    if how == "regressor":
        queries = X[(model.predict(X) < 0)].iloc[:5]
    else:
        queries = X[model.predict(X) == 0].iloc[:5]
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    out = expl.to_frame()[X.columns]
    if how == "regressor":
        assert ((model.predict(out) >= 1.0) & (model.predict(out) <= 3.0)).all()
    else:
        assert (model.predict(out) == 1).all()


def test_nullable_columns_with_missing_values_in_the_training_data():
    """pandas nullable columns (``boolean``, ``Int64``) with missing values
    in the training data, which a HistGradientBoosting takes as they are:
    the exact search was refused at fit ("could not encode the categories
    of ['member']": a missing bool cannot be a float); its missing category
    is now the model's NaN, and complete queries get the optimum."""
    X, y, _ = _many_categories()
    rng = np.random.RandomState(3)
    member = pd.array(rng.rand(len(X)) < 0.5, dtype="boolean")
    member[rng.rand(len(X)) < 0.1] = pd.NA
    X = X.astype({"colour": "category", "b": "Int64"}).assign(member=member)
    X.loc[X.index[::13], "b"] = pd.NA
    y = (y.astype(bool) | (X["member"].fillna(False).to_numpy() & (X["a"] > 6))).astype(
        int
    )
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=1
    ).fit(X)
    queries = X[(model.predict(X) == 0) & X.notna().all(axis=1)].iloc[:4]
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    out = expl.to_frame()[X.columns]
    assert (model.predict(out) == 1).all()
    assert out.dtypes.equals(X.dtypes)


def test_hist_gradient_boosting_categories_of_a_numeric_column():
    """Integer codes the model treats as categories (categorical_features)
    but the explainer as numbers are refused by name; declared categorical
    to the explainer too, they are searched as categories, optimally."""
    X, y, _ = _many_categories()
    X = X.assign(colour=X["colour"].map({c: i for i, c in enumerate("abcdefghij")}))
    model = HistGradientBoostingClassifier(
        max_iter=30, categorical_features=["colour"], random_state=0
    ).fit(X, y)
    with pytest.raises(TypeError, match=r"numeric columns \['colour'\] as categories"):
        CounterfactualExplainer(FrozenEstimator(model), method="exact").fit(X)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model),
        method="exact",
        categorical_features=["colour"],
        n_counterfactuals=1,
    ).fit(X)
    queries = X[model.predict(X) == 0].iloc[:4]
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)


def test_hist_gradient_boosting_poisson_link_is_named():
    X, y = small_frame()
    target = np.exp(0.2 * X["a"])
    reg = make_pipeline(
        StandardScaler(), HistGradientBoostingRegressor(loss="poisson", max_iter=5)
    )
    with pytest.raises(TypeError, match="non-identity link"):
        CounterfactualExplainer(reg, method="exact", desired_range=(1, 2)).fit(
            X[["a", "b"]], target
        )


MORE_HEADS = {
    "linear svc": lambda: LinearSVC(),
    "sgd": lambda: SGDClassifier(random_state=0),
    "ridge classifier": lambda: RidgeClassifier(),
    "extra trees": lambda: ExtraTreesClassifier(10, max_depth=4, random_state=0),
}


@pytest.mark.parametrize("head", MORE_HEADS)
@pytest.mark.parametrize("scaler", ["minmax", "ordinal"])
def test_every_supported_head_and_step_equals_enumeration(head, scaler):
    """The other linear classifiers and extra trees, behind MinMaxScaler, or
    with the categories ordinal-encoded, against enumeration."""
    X, y = small_frame()
    if scaler == "minmax":
        pre = ColumnTransformer(
            [("num", MinMaxScaler(), ["a", "b"]), ("cat", OneHotEncoder(), ["colour"])]
        )
    else:
        pre = ColumnTransformer(
            [("num", "passthrough", ["a", "b"]), ("cat", OrdinalEncoder(), ["colour"])]
        )
    model = Pipeline([("prep", pre), ("clf", MORE_HEADS[head]())]).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=1
    ).fit(X)
    queries = X[model.predict(X) == 0].iloc[:3]
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    assert (model.predict(expl.to_frame()[X.columns]) == 1).all()


def _imputed_frame(seed=0):
    """``small_frame`` with missing training values, imputed in the model's
    Pipeline, and a bool column passed through by ``remainder``."""
    X, y = small_frame(seed=seed)
    rng = np.random.RandomState(seed)
    X = X.assign(member=rng.rand(len(X)) < 0.5)
    y = (y.astype(bool) | (X["member"] & (X["a"] > 6))).astype(int)
    X.loc[rng.rand(len(X)) < 0.1, "a"] = np.nan
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["a", "b"]),
            (
                "cat",
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()),
                ["colour"],
            ),
        ],
        remainder="passthrough",
    )
    return X, y, pre


@pytest.mark.parametrize("head", ["logistic", "forest"])
def test_imputers_and_passed_through_flags_equal_enumeration(head):
    """A SimpleImputer (alone or in a Pipeline with a scaler) is the identity
    on the complete rows the exact search works on, and a bool column that
    ``remainder="passthrough"`` hands to the model enters as 0/1: the
    program is still exact."""
    X, y, pre = _imputed_frame()
    model = Pipeline([("prep", pre), ("clf", HEADS[head]())]).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=1
    ).fit(X)
    complete = X.dropna()
    queries = complete[model.predict(complete) == 0].iloc[:4]
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    assert (model.predict(expl.to_frame()[X.columns]) == 1).all()
    # an imputer that replaces a real value (0 here) is not the identity
    zero = Pipeline(
        [("impute", SimpleImputer(missing_values=0.0)), ("clf", LogisticRegression())]
    ).fit(complete[["a", "b"]], y[complete.index])
    with pytest.raises(TypeError, match="'impute'.*not an affine"):
        CounterfactualExplainer(FrozenEstimator(zero), method="exact").fit(
            complete[["a", "b"]]
        )


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    head=st.sampled_from(["logistic", "three classes", "ridge"]),
    vary=st.sampled_from([["a"], ["b"], ["colour"], ["a", "colour"]]),
    a_range=st.sampled_from([None, (2, 8), (0, 3)]),
    increasing=st.booleans(),
)
def test_bound_proofs_agree_with_the_programs(seed, head, vary, a_range, increasing):
    """A linear model's hopeless queries are proved from per-column bounds
    of its scores, without a program: every such proof is one the MILP
    gives too, and the answers and statuses are those of the MILP alone."""
    import skcfx.counterfactual._engine.methods.exact as exact_module

    X, y = small_frame(200, seed)
    kw = dict(features_to_vary=vary, n_counterfactuals=1, random_state=0)
    if head == "ridge":
        model = pipeline(LinearRegression()).fit(X, 3 * X["a"] - 2 * X["b"])
        kw["desired_range"] = (8, 10)
        queries = X.iloc[:8]
    else:
        if head == "three classes":
            y = np.digitize(X["a"] - X["b"], [-2, 2])
        model = pipeline(LogisticRegression()).fit(X, y)
        queries = X[model.predict(X) == 0].iloc[:8]
        if head == "three classes":
            kw["desired_class"] = 2
    if a_range is not None:
        kw["permitted_range"] = {"a": a_range}
    if increasing:
        kw["monotonic"] = {"b": "increasing"}
    if not len(queries):
        return
    cfx = CounterfactualExplainer(FrozenEstimator(model), method="exact", **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        with_bounds = cfx.fit(X).explain(queries)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                exact_module,
                "unreachable_linear",
                lambda exact, problem, q: np.zeros(len(q), dtype=bool),
            )
            programs_only = cfx.explain(queries)
    np.testing.assert_array_equal(with_bounds.status, programs_only.status)
    pd.testing.assert_frame_equal(with_bounds.certificate, programs_only.certificate)
    pd.testing.assert_frame_equal(with_bounds.to_frame(), programs_only.to_frame())


def test_hopeless_linear_queries_need_no_program():
    # breast cancer, logistic, one column free: 39 of 40 queries cannot
    # flip; each took a MILP of ~10 ms (a genetic explain of 1,000 such
    # queries 11.5 s for its seeds alone), now one bound for all
    from sklearn.datasets import load_breast_cancer

    from skcfx.counterfactual._engine.exact.milp import MILP

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(X, y)
    queries = X[model.predict(X) == 0].head(40)
    solves = []
    original = MILP.solve

    def counting(self, *args, **kwargs):
        solves.append(1)
        return original(self, *args, **kwargs)

    kw = dict(features_to_vary=["mean radius"], random_state=0)
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        patch.setattr(MILP, "solve", counting)
        for method in ("exact", "genetic"):
            solves.clear()
            cfx = CounterfactualExplainer(FrozenEstimator(model), method=method, **kw)
            expl = cfx.fit(X).explain(queries)
            hopeless = expl.status == "infeasible under constraints"
            assert hopeless.sum() == 39
            assert len(solves) <= 40 - 39 + 1  # the one feasible query's


@pytest.mark.parametrize("head", ["logistic", "forest"])
@pytest.mark.parametrize("step", ["select", "pca"])
def test_selectors_and_projections_after_the_encoder_equal_enumeration(head, step):
    """A feature selector (SelectKBest) or a PCA between the encoder and
    the model: both were refused ("not an affine scaler"). A selector keeps
    single columns (any head); a projection mixes them, which a linear head
    takes and a tree ensemble's splits cannot (named)."""
    from sklearn.decomposition import PCA
    from sklearn.feature_selection import SelectKBest

    X, y = small_frame()
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["a", "b"]), ("cat", OneHotEncoder(), ["colour"])]
    )
    middle = SelectKBest(k=3) if step == "select" else PCA(3, random_state=0)
    model = Pipeline([("prep", pre), ("mid", middle), ("clf", HEADS[head]())])
    model.fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(model), method="exact")
    if step == "pca" and head == "forest":
        with pytest.raises(TypeError, match="mixes the columns"):
            cfx.fit(X).explain(X.iloc[:1])
        return
    cfx.set_params(n_counterfactuals=1).fit(X)
    queries = X[model.predict(X) == 0].iloc[:3]
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    assert (model.predict(expl.to_frame()[X.columns]) == 1).all()
    if head == "logistic":  # the gradient search's torch copy reads it too
        pytest.importorskip("torch")
        grad = CounterfactualExplainer(
            FrozenEstimator(model), method="gradient", random_state=0
        ).fit(X)
        frame = grad.explain(queries).to_frame()
        assert len(frame) and (model.predict(frame[X.columns]) == 1).all()


@pytest.mark.parametrize(
    "wrapper",
    [
        "fixed proba",
        "fixed decision",
        "tuned",
        "forest",
        "boosting decision",
        "exponential boosting",
        "tuned hist boosting",
    ],
)
def test_decision_thresholds_equal_enumeration(wrapper):
    """FixedThresholdClassifier / TunedThresholdClassifierCV around a linear
    Pipeline (scikit-learn's way to move a decision threshold) were refused
    by the exact and gradient searches: the boundary is now the inner
    model's score at the threshold's log-odds (or the threshold itself on
    decision scores), against enumeration; around a tree ensemble the
    boosting's raw score or the forest's averaged probability is compared
    with it (they were refused); a first-class positive label is named."""
    from sklearn.model_selection import (
        FixedThresholdClassifier,
        TunedThresholdClassifierCV,
    )

    X, y = small_frame()
    if wrapper == "fixed proba":
        model = FixedThresholdClassifier(pipeline(LogisticRegression()), threshold=0.8)
    elif wrapper == "fixed decision":
        model = FixedThresholdClassifier(
            pipeline(LinearSVC()), threshold=0.5, response_method="decision_function"
        )
    elif wrapper == "tuned":
        model = TunedThresholdClassifierCV(
            pipeline(LogisticRegression()), scoring="f1", cv=3, random_state=0
        )
    elif wrapper == "forest":
        # below one half: a search that pruned at one half would miss rows
        # (above it, the real model's check hides a looser pruning)
        model = FixedThresholdClassifier(pipeline(HEADS["forest"]()), threshold=0.3)
    elif wrapper == "boosting decision":
        model = FixedThresholdClassifier(
            pipeline(HEADS["boosting"]()),
            threshold=-1.0,
            response_method="decision_function",
        )
    elif wrapper == "exponential boosting":
        gb = GradientBoostingClassifier(
            n_estimators=20, max_depth=2, loss="exponential", random_state=0
        )
        # its probability is expit(2 raw): above one half the raw threshold
        # read as a plain log-odds would be too strict
        model = FixedThresholdClassifier(pipeline(gb), threshold=0.7)
    else:
        model = TunedThresholdClassifierCV(
            pipeline(HEADS["hist boosting"]()),
            scoring="precision",
            cv=3,
            random_state=0,
        )
    model.fit(X, y)
    if wrapper == "tuned hist boosting":
        assert model.best_threshold_ > 0.6  # a real move
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="exact", n_counterfactuals=1
    ).fit(X)
    queries = X[model.predict(X) == 0].iloc[:4]
    expl = cfx.explain(queries)
    assert (expl.certificate["solver_status"] == "optimal").all()
    got = _cost_of_best(expl)
    for i in range(len(queries)):
        want, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    assert (model.predict(expl.to_frame()[X.columns]) == 1).all()
    if wrapper == "fixed proba":
        pytest.importorskip("torch")
        grad = CounterfactualExplainer(
            FrozenEstimator(model), method="gradient", random_state=0
        ).fit(X)
        frame = grad.explain(queries).to_frame()
        assert len(frame) and (model.predict(frame[X.columns]) == 1).all()
        proba = model.predict_proba(frame[X.columns])[:, 1]
        assert (proba >= 0.8).all()
        # the refusal
        first = FixedThresholdClassifier(pipeline(LogisticRegression()), pos_label=0)
        with pytest.raises(TypeError, match="positive label"):
            CounterfactualExplainer(first, method="exact").fit(X, y)


def test_every_heuristic_reports_a_tree_ensembles_proofs():
    """Wine, a small forest, only "ash" may vary, desired class 2: no row
    reaches it, as the exact search proves. The genetic search proved it
    while seeding, but the random and kd-tree searches (which do not seed
    from the program) said "unreachable within budget" for 9 of 10: the
    model's own program now proves what they did not find."""
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(30, max_depth=4, random_state=0).fit(X, y)
    queries = X[model.predict(X) == 0].head(10)
    statuses = {}
    for method in ["exact", "genetic", "random", "kdtree"]:
        cfx = CounterfactualExplainer(
            FrozenEstimator(model),
            method=method,
            desired_class=2,
            features_to_vary=["ash"],
            random_state=0,
        ).fit(X)
        statuses[method] = list(cfx.explain(queries).status)
    assert statuses["exact"] == ["infeasible under constraints"] * 10
    for method in ["genetic", "random", "kdtree"]:
        assert statuses[method] == statuses["exact"], method
