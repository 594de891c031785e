"""Causal recourse (scm=) and closeness to the data manifold
(plausibility_weight) in CounterfactualExplainer."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skcfx import CounterfactualExplainer
from skcfx import metrics as M
from skcfx.causal import StructuralCausalModel
from skcfx.datasets import CAUSAL_LOAN_GRAPH, make_causal_loan
from skcfx.exceptions import NoCounterfactualWarning
from skcfx.metrics import make_counterfactual_scorer

ACTIONABLE = ["education", "income", "savings"]


@pytest.fixture(scope="module")
def loan():
    X, y, scm = make_causal_loan(3000, random_state=0)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["gender"]), remainder="passthrough"),
        LogisticRegression(max_iter=2000),
    ).fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:12]
    return X, model, scm, queries


def _explainer(model, **kw):
    kw.setdefault("random_state", 0)
    kw.setdefault("n_counterfactuals", 3)
    return CounterfactualExplainer(FrozenEstimator(model), **kw)


def _reproduces(expl, queries, scm, atol=1e-6):
    """Every valid row equals the SCM's consequence of its interventions."""
    frame = expl.to_frame()
    act, down = expl.change_kinds()
    assert len(frame)
    for r in range(len(frame)):
        q = queries.iloc[[expl.owner[r]]]
        cols = [c for c, a in zip(expl.feature_names, act[r]) if a]
        out = scm.counterfactual(q, {c: frame[c].iloc[r] for c in cols})
        for c in scm.parents_:
            assert out[c].iloc[0] == pytest.approx(frame[c].iloc[r], abs=atol), (r, c)
    return act, down


@pytest.mark.parametrize("method", ["genetic", "random", "kdtree"])
def test_recourse_rows_are_the_scm_consequences(loan, method):
    X, model, scm, queries = loan
    cfx = _explainer(model, method=method, features_to_vary=ACTIONABLE, scm=scm)
    expl = cfx.fit(X).explain(queries)
    assert expl.causal and M.coverage(expl) == 1.0
    assert expl.valid.all()
    # the model really gives the resulting rows the desired class
    np.testing.assert_array_equal(model.predict(expl.to_frame()[X.columns]), 1)
    act, down = _reproduces(expl, queries, scm)
    # only actionable columns are intervened on; gender and age never move
    assert not act[:, :2].any() and not down[:, :2].any()
    # some counterfactual moves a column only through its cause
    assert down.any()
    frame = expl.to_frame()
    assert {"interventions", "downstream"} <= set(frame.columns)
    row = int(np.flatnonzero(down.any(axis=1))[0])
    assert "->" in frame["downstream"].iloc[row]


def test_recourse_cost_counts_only_interventions(loan):
    X, model, scm, queries = loan
    expl = (
        _explainer(model, features_to_vary=ACTIONABLE, scm=scm).fit(X).explain(queries)
    )
    act, _ = expl.change_kinds()
    # sparsity counts interventions, not their consequences
    assert M.sparsity(expl) == pytest.approx(act[expl.valid].sum(axis=1).mean())
    Zq = expl.query_codes[expl.owner]
    dist = expl.space.distance(Zq, expl.action_codes)
    assert M.proximity(expl) == pytest.approx(dist[expl.valid].mean())
    assert (expl.space.distance(Zq, expl.codes) >= dist - 1e-12).all()


def test_ignoring_the_scm_gives_unreachable_rows(loan):
    X, model, scm, queries = loan
    expl = _explainer(model, features_to_vary=ACTIONABLE).fit(X).explain(queries)
    frame = expl.to_frame()
    Zq = expl.query_codes[expl.owner]
    act = expl.space.changed(Zq, expl.codes)
    gaps = []
    for r in range(len(frame)):
        q = queries.iloc[[expl.owner[r]]]
        cols = [c for c, a in zip(expl.feature_names, act[r]) if a]
        out = scm.counterfactual(q, {c: frame[c].iloc[r] for c in cols})
        gaps.append(
            max(
                abs(out[c].iloc[0] - frame[c].iloc[r]) / scm.noise_scale_[c]
                for c in scm.parents_
            )
        )
    # changing education or income alone leaves their effects behind
    assert np.mean(np.array(gaps) > 1) > 0.3


def test_constraints_hold_on_the_resulting_row(loan):
    X, model, scm, queries = loan
    cap = 22.0
    cfx = _explainer(
        model,
        features_to_vary=["education", "income"],
        permitted_range={"savings": (None, cap)},
        monotonic={"savings": "increasing"},
        predicates=lambda c, q: c.income <= q.income + 25,
        scm=scm,
    ).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        expl = cfx.explain(queries)
    frame = expl.to_frame()
    assert expl.valid.any()
    ok = frame[frame.valid]
    q = queries.iloc[expl.owner[expl.valid]]
    # savings is not actionable: it moves only through income, within its range
    assert (ok.savings.to_numpy() <= cap + 1e-9).all()
    assert (ok.savings.to_numpy() >= q.savings.to_numpy() - 1e-9).all()
    assert (ok.income.to_numpy() <= q.income.to_numpy() + 25 + 1e-9).all()
    assert M.constraint_violations(expl) == 0
    _reproduces(expl, queries, scm)


def test_learned_scm_is_fitted_in_fit_and_pickles(loan):
    X, model, _, queries = loan
    cfx = _explainer(
        model,
        features_to_vary=ACTIONABLE,
        scm=StructuralCausalModel(CAUSAL_LOAN_GRAPH),
        plausibility_weight=0.5,
    ).fit(X)
    assert hasattr(cfx.scm_, "equations_") and not hasattr(cfx.scm, "equations_")
    expl = cfx.explain(queries.iloc[:4])
    _reproduces(expl, queries.iloc[:4], cfx.scm_)
    back = pickle.loads(pickle.dumps(cfx)).explain(queries.iloc[:4])
    pd.testing.assert_frame_equal(back.to_frame(), expl.to_frame())
    par = cfx.set_params(n_jobs=2).explain(queries.iloc[:4])
    pd.testing.assert_frame_equal(par.to_frame(), expl.to_frame())


def test_recourse_display(loan):
    X, model, scm, queries = loan
    expl = (
        _explainer(model, features_to_vary=ACTIONABLE, scm=scm)
        .fit(X)
        .explain(queries.iloc[:3])
    )
    text = str(expl)
    assert "~ changed by the SCM" in text
    assert " ~" in text and " *" in text
    assert "background:#cfe3ff" in expl._repr_html_()
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ax = expl.plot(0)
    shown = [t.get_text() for t in ax.texts]
    assert any("(SCM)" in t for t in shown)


def test_method_and_input_limits(loan):
    X, model, scm, queries = loan
    for method in ("gradient", "exact"):
        with pytest.raises(
            ValueError, match=f"scm is not supported by method='{method}'"
        ):
            _explainer(model, method=method, scm=scm).fit(X)
    with pytest.raises(
        ValueError, match='plausibility_weight=1.0 is not supported by method="exact"'
    ):
        _explainer(model, method="exact", plausibility_weight=1.0).fit(X)
    cfx = _explainer(model, features_to_vary=ACTIONABLE, scm=scm).fit(X)
    with pytest.raises(ValueError, match="semifactuals does not support"):
        cfx.semifactuals(queries)
    Xn = X.drop(columns="gender").to_numpy()
    with pytest.raises(
        ValueError, match="needs the explainer to be fitted on a DataFrame"
    ):
        CounterfactualExplainer(
            LogisticRegression(), scm=StructuralCausalModel({"x1": ["x0"]})
        ).fit(Xn, np.arange(len(Xn)) % 2)
    with pytest.raises(ValueError, match="columns .*'zz'"):
        bad = StructuralCausalModel({"zz": ["age"]}).fit(X.assign(zz=X.age))
        _explainer(model, scm=bad).fit(X)


# ---------------------------------------------------------------- hypothesis
@st.composite
def linear_scms(draw):
    """A random DAG over four numeric columns with linear equations."""
    n_cols = 4
    edges = {}
    for j in range(1, n_cols):
        parents = [i for i in range(j) if draw(st.booleans())]
        if parents:
            edges[j] = {
                i: draw(st.floats(-2, 2).filter(lambda v: abs(v) > 0.2))
                for i in parents
            }
    seed = draw(st.integers(0, 2**16))
    vary = draw(
        st.lists(st.integers(0, n_cols - 1), min_size=1, max_size=3, unique=True)
    )
    return edges, seed, sorted(vary)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(spec=linear_scms())
def test_returned_rows_equal_the_scm_prediction_of_their_interventions(spec):
    edges, seed, vary = spec
    rng = np.random.default_rng(seed)
    n = 600
    cols = [f"v{j}" for j in range(4)]
    data = {}
    for j, name in enumerate(cols):
        base = sum(w * data[cols[i]] for i, w in edges.get(j, {}).items())
        data[name] = base + rng.normal(0, 1, n)
    X = pd.DataFrame(data)
    w = rng.normal(0, 1, 4)
    y = (X.to_numpy() @ w + rng.normal(0, 0.5, n) > 0).astype(int)
    graph = {cols[j]: [cols[i] for i in ps] for j, ps in edges.items()}
    model = LogisticRegression().fit(X, y)
    scm = StructuralCausalModel(graph).fit(X)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model),
        features_to_vary=[cols[j] for j in vary],
        scm=scm,
        n_counterfactuals=2,
        n_candidates=40,
        max_rounds=8,
        random_state=0,
    ).fit(X)
    queries = X.iloc[:5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        expl = cfx.explain(queries)
    frame = expl.to_frame()
    if not len(frame):
        return
    act, _ = expl.change_kinds()
    # interventions only on actionable columns
    assert not act[:, [j for j in range(4) if j not in vary]].any()
    # every returned row is the SCM's prediction for its interventions
    for r in range(len(frame)):
        q = queries.iloc[[expl.owner[r]]]
        do = {c: frame[c].iloc[r] for c, a in zip(cols, act[r]) if a}
        out = scm.counterfactual(q, do)
        np.testing.assert_allclose(
            out[cols].to_numpy(dtype=float)[0],
            frame[cols].to_numpy(dtype=float)[r],
            rtol=1e-9,
            atol=1e-9,
        )
    # and valid rows are predicted as desired by the model itself
    valid = frame[frame.valid]
    pred = model.predict(valid[cols])
    np.testing.assert_array_equal(
        pred, 1 - model.predict(queries)[expl.owner[expl.valid]]
    )


# ------------------------------------------------------------ plausibility
@pytest.fixture(scope="module")
def forest(adult):
    X, y = adult
    cat = [c for c in X.columns if c not in ("age", "hours_per_week")]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), cat), remainder="passthrough"
        ),
        RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0),
    ).fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:25]
    return X, model, queries


def test_plausibility_weight_moves_counterfactuals_toward_the_data(forest):
    X, model, queries = forest
    out = {}
    for w in (0.0, 3.0):
        expl = _explainer(model, plausibility_weight=w).fit(X).explain(queries)
        assert M.validity(expl) == 1.0
        out[w] = expl
    near0, near3 = (M.knn_distance(out[w]) for w in (0.0, 3.0))
    assert near3 < 0.8 * near0
    assert M.local_outlier_factor(out[3.0]) < M.local_outlier_factor(out[0.0])
    assert M.ynn(out[3.0]) > M.ynn(out[0.0])
    # the trade-off: further from the query
    assert M.proximity(out[3.0]) >= M.proximity(out[0.0])


def test_plausibility_metrics_on_training_rows(forest):
    X, model, queries = forest
    cfx = _explainer(model).fit(X)
    # training rows the model already gives the desired class, as
    # "counterfactuals" of the queries: distance 0 to the data, LOF about 1
    pool = X[model.predict(X) == 1].iloc[:10]
    cf = pool.assign(query=queries.index[:10].to_numpy())
    expl = cfx.evaluate(queries.iloc[:10], cf)
    assert M.plausibility(expl) == pytest.approx(0.0)
    assert M.knn_distance(expl, k=1) == pytest.approx(0.0)
    assert M.knn_distance(expl, k=5) >= M.knn_distance(expl, k=1)
    assert 0.5 < M.local_outlier_factor(expl) < 2.0
    assert 0.0 <= M.ynn(expl) <= 1.0
    assert np.all(np.isfinite(expl.local_outlier_factor(n_neighbors=10)))


def test_grid_search_tunes_plausibility_with_the_plausibility_ruler(adult, adult_model):
    X, _ = adult
    model = adult_model
    # fitted on one half of a sample of the population (the training rows
    # of the desired class are the data manifold), scored on the other
    sample = X.iloc[:160]
    grid = {"plausibility_weight": [0.0, 1.0, 8.0]}
    est = _explainer(model, n_counterfactuals=2)
    searches = {}
    for name, scoring in {
        "plain": None,
        "plausible": make_counterfactual_scorer("score", plausibility_weight=1.0),
    }.items():
        searches[name] = GridSearchCV(est, grid, scoring=scoring, cv=2).fit(sample)
    # the plain ruler ignores the data: no weight is the cheapest
    assert searches["plain"].best_params_["plausibility_weight"] == 0.0
    # the ruler that charges the distance to the data prefers a positive weight
    assert searches["plausible"].best_params_["plausibility_weight"] > 0.0
    scorer = make_counterfactual_scorer("knn_distance", k=3)
    best = searches["plain"].best_estimator_
    assert "k=3" in repr(scorer) and scorer(best, sample.iloc[:20]) < 0
    with pytest.raises(TypeError, match="unknown keyword arguments \\['kk'\\]"):
        make_counterfactual_scorer("knn_distance", kk=3)


def test_plausibility_on_regression_and_missing_values():
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(0)
    n = 800
    X = pd.DataFrame(
        {
            "f": np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1, n)),
            "i": rng.integers(0, 10, n),
            "c": pd.Categorical(rng.choice(list("abc"), n)),
        }
    )
    y = np.nan_to_num(X.f.to_numpy()) + X.i / 3 + (X.c == "a")
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough"),
        HistGradientBoostingRegressor(max_iter=50, random_state=0),
    ).fit(X, y)
    queries = X[model.predict(X) < 1].iloc[:10]
    out = {}
    for w in (0.0, 3.0):
        cfx = CounterfactualExplainer(
            FrozenEstimator(model),
            desired_range=(3, 10),
            plausibility_weight=w,
            n_counterfactuals=2,
            random_state=0,
        ).fit(X)
        out[w] = cfx.explain(queries)
        assert M.coverage(out[w]) == 1.0
        pred = model.predict(out[w].to_frame()[X.columns])
        assert ((pred >= 3) & (pred <= 10))[out[w].valid].all()
    assert M.knn_distance(out[3.0]) < M.knn_distance(out[0.0])
    assert M.ynn(out[3.0]) >= M.ynn(out[0.0])


def test_gradient_search_selects_with_the_plausibility_term():
    pytest.importorskip("torch")
    from sklearn.datasets import make_classification
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(n_samples=600, n_features=6, random_state=0)
    model = make_pipeline(
        StandardScaler(), MLPClassifier((16,), max_iter=600, random_state=0)
    ).fit(X, y)
    queries = X[model.predict(X) == 0][:10]
    out = {}
    for w in (0.0, 3.0):
        cfx = CounterfactualExplainer(
            FrozenEstimator(model),
            method="gradient",
            plausibility_weight=w,
            n_counterfactuals=2,
            max_rounds=60,
            random_state=0,
        ).fit(X)
        out[w] = cfx.explain(queries)
        assert M.validity(out[w]) == 1.0
    assert M.knn_distance(out[3.0]) < M.knn_distance(out[0.0])
