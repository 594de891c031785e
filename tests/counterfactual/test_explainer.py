import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier

from skcfx import CounterfactualExplainer
from skcfx.exceptions import InfeasibleConstraintsError, NoCounterfactualWarning
from skcfx.metrics import make_counterfactual_scorer
from skcfx.testing import assert_constraints_hold, assert_counterfactuals_valid

METHODS = ["random", "genetic", "kdtree"]
CONSTRAINTS = dict(
    features_to_vary=["age", "education", "occupation", "hours_per_week"],
    permitted_range={"age": (20, 60)},
)


def _explainer(model, **kw):
    kw.setdefault("random_state", 0)
    return CounterfactualExplainer(FrozenEstimator(model), **kw)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("constrained", [False, True])
def test_counterfactuals_flip_prediction(
    adult, adult_model, rejected, method, constrained
):
    X, _ = adult
    kw = CONSTRAINTS if constrained else {}
    cfx = _explainer(adult_model, method=method, **kw).fit(X)
    expl = cfx.explain(rejected)
    frame = expl.to_frame()
    assert set(expl.status) == {"found"}
    assert frame["valid"].all()
    # re-predict the returned raw rows with the user's own model
    pred = adult_model.predict(frame[X.columns])
    assert (pred == 1).all()
    assert (frame["prediction"] == 1).all()
    assert expl.summary["coverage"] == 1.0
    assert expl.summary["constraint_violations"] == 0
    assert_counterfactuals_valid(cfx, expl)
    assert_constraints_hold(cfx, expl)
    # k distinct counterfactuals per query, ranks 0..k-1
    for _, group in frame.groupby("query", sort=False):
        assert len(group) == 4
        assert list(group["rank"]) == [0, 1, 2, 3]
        assert not group[list(X.columns)].duplicated().any()


def test_categorical_columns_read_from_pipeline(adult, adult_model):
    X, _ = adult
    cfx = _explainer(adult_model).fit(X)
    assert set(cfx.categorical_features_) == {
        "workclass",
        "education",
        "marital_status",
        "occupation",
        "race",
        "gender",
    }
    assert cfx.integer_features_ == ["age", "hours_per_week"]
    assert cfx.feature_ranges_["age"] == (X["age"].min(), X["age"].max())


def test_integer_coded_categorical_from_column_transformer():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"num": rng.normal(size=300), "code": rng.randint(0, 4, 300)})
    y = ((X["num"] + (X["code"] == 2) * 2) > 0.5).astype(int)
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["code"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(X, y)
    cfx = _explainer(model, method="random").fit(X)
    assert cfx.categorical_features_ == ["code"]
    expl = cfx.explain(X.iloc[:10])
    frame = expl.to_frame()
    assert set(frame["code"]) <= {0, 1, 2, 3}
    assert frame["code"].dtype == X["code"].dtype


def test_to_frame_keeps_dtypes_and_index(adult, adult_model, rejected):
    X, _ = adult
    expl = _explainer(adult_model, method="random").fit(X).explain(rejected)
    frame = expl.to_frame()
    for col in X.columns:
        assert frame[col].dtype == X[col].dtype, col
    assert set(frame["query"]) == set(rejected.index)
    assert list(frame.columns[:2]) == ["query", "rank"]
    assert {"prediction", "valid", "probability"} <= set(frame.columns)


def test_caller_dataframe_not_modified(adult, adult_model, rejected):
    X, _ = adult
    before = rejected.copy(deep=True)
    X_before = X.copy(deep=True)
    cfx = _explainer(adult_model, method="genetic").fit(X)
    cfx.explain(rejected)
    cfx.transform(rejected)
    pd.testing.assert_frame_equal(rejected, before)
    pd.testing.assert_frame_equal(X, X_before)


def test_monotonic_and_predicate(adult, adult_model, rejected):
    X, _ = adult

    def degree_takes_time(cand, queries):
        more = cand["education"].cat.codes > queries["education"].cat.codes
        return ~more | (cand["age"] > queries["age"])

    cfx = _explainer(
        adult_model,
        method="genetic",
        monotonic={"age": "increasing", "education": "increasing"},
        predicates=[degree_takes_time],
        **CONSTRAINTS,
    ).fit(X)
    expl = cfx.explain(rejected)
    assert expl.summary["coverage"] == 1.0
    assert_constraints_hold(cfx, expl)
    frame = expl.to_frame()
    # predicates judged in two workers: the same rows, the same verdicts
    two = cfx.set_params(n_jobs=2).explain(rejected)
    pd.testing.assert_frame_equal(two.to_frame(), frame)
    np.testing.assert_array_equal(two.predicate_ok, expl.predicate_ok)
    q = rejected.loc[frame["query"]].reset_index(drop=True)
    assert (frame["age"].to_numpy() >= q["age"].to_numpy()).all()
    assert (
        frame["education"].cat.codes.to_numpy() >= q["education"].cat.codes.to_numpy()
    ).all()


def test_categorical_permitted_set(adult, adult_model, rejected):
    X, _ = adult
    allowed = [
        "Bachelors",
        "Masters",
        "Doctorate",
        "HS-grad",
        "Some-college",
        "11th",
        "Assoc-voc",
        "Assoc-acdm",
        "10th",
        "7th-8th",
        "9th",
        "Prof-school",
        "12th",
        "5th-6th",
        "1st-4th",
        "Preschool",
    ]
    cfx = _explainer(
        adult_model,
        method="random",
        features_to_vary=["education", "occupation"],
        permitted_range={
            "occupation": ["Exec-managerial", "Prof-specialty"],
            "education": allowed,
        },
    ).fit(X)
    # some applicants cannot be accepted by changing these two columns alone
    # (all 32 combinations fail): they must get an explicit status, proved
    # by the model's own program (random search falls back to the genetic
    # one, which the program seeds)
    with pytest.warns(NoCounterfactualWarning):
        expl = cfx.explain(rejected)
    assert set(expl.status) == {"found", "infeasible under constraints"}
    proved = expl.status == "infeasible under constraints"
    assert (
        expl.reason[proved] == "proved infeasible by the model's own exact program"
    ).all()
    frame = expl.to_frame()
    assert set(frame["occupation"]) <= {"Exec-managerial", "Prof-specialty"}
    assert_constraints_hold(cfx, expl)


def test_infeasible_query_status(adult, adult_model):
    X, _ = adult
    cfx = _explainer(
        adult_model,
        method="genetic",
        features_to_vary=["age"],
        permitted_range={"age": (20, 60)},
        monotonic={"age": "increasing"},
    ).fit(X)
    old = X[(X["age"] > 60)].iloc[:2]
    with pytest.warns(NoCounterfactualWarning, match="2 of 2"):
        expl = cfx.explain(old)
    assert list(expl.status) == ["infeasible under constraints"] * 2
    assert len(expl.to_frame()) == 0
    out = cfx.transform(old)
    assert out.isna().all().all() or out["age"].isna().all()


def test_nothing_may_vary_raises(adult, adult_model):
    X, _ = adult
    with pytest.raises(InfeasibleConstraintsError, match="features_to_vary"):
        _explainer(adult_model, features_to_vary=[]).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        (
            dict(features_to_vary=["agee"]),
            "features_to_vary names unknown column 'agee'",
        ),
        (dict(permitted_range={"height": (1, 2)}), "permitted_range names unknown"),
        (dict(permitted_range={"age": (50, 40)}), "is empty"),
        (dict(permitted_range={"age": "young"}), r"permitted_range\['age'\]"),
        (dict(permitted_range={"race": ["Martian"]}), "unseen during fit.*Martian"),
        (dict(monotonic={"age": "up"}), r"monotonic\['age'\]"),
        (dict(monotonic={"race": "increasing"}), "ordered pandas Categorical"),
        (dict(desired_class=7), "desired_class=7 is not a class"),
        (dict(desired_range=(0, 1)), "applies to regressors"),
        (dict(categorical_features=["nope"]), "categorical_features names unknown"),
    ],
)
def test_bad_parameters_name_the_problem(adult, adult_model, params, match):
    X, _ = adult
    with pytest.raises(ValueError, match=match):
        _explainer(adult_model, **params).fit(X)


def test_bad_query_input(adult, adult_model, rejected):
    X, _ = adult
    cfx = _explainer(adult_model, method="random").fit(X)
    bad = rejected.copy()
    bad.iloc[0, 0] = np.nan
    # this model cannot predict a missing age: that query gets the model's
    # message as its status, the other queries are answered
    with pytest.warns(NoCounterfactualWarning, match="1 of 6"):
        expl = cfx.explain(bad)
    assert expl.status[0] == "model failed on the query"
    assert "NaN" in expl.reason[0]
    assert set(expl.status[1:]) == {"found"}
    bad = rejected.astype({"hours_per_week": float}).copy()
    bad.iloc[1, 7] = np.inf
    with pytest.raises(ValueError, match="infinity \\(index labels"):
        cfx.explain(bad)
    bad = rejected.copy()
    bad["race"] = bad["race"].astype(object)
    bad.iloc[0, bad.columns.get_loc("race")] = "Martian"
    with pytest.raises(ValueError, match="'race' holds categories unseen.*Martian"):
        cfx.explain(bad)
    # every offending column is named at once
    bad["hours_per_week"] = bad["hours_per_week"].astype(float)
    bad.iloc[2, bad.columns.get_loc("hours_per_week")] = np.inf
    bad.iloc[3, bad.columns.get_loc("gender")] = None
    with pytest.raises(ValueError) as err:
        cfx.explain(bad)
    for name in ("'race'", "'hours_per_week'", "'gender'"):
        assert name in str(err.value)
    with pytest.raises(ValueError, match="feature names"):
        cfx.explain(rejected.drop(columns="age"))
    with pytest.raises(ValueError, match="feature names"):
        cfx.explain(rejected.assign(extra=1))
    with pytest.raises(ValueError, match="same order|feature names"):
        cfx.explain(rejected[list(reversed(rejected.columns))])


def test_same_seed_same_result_and_pickle(adult, adult_model, rejected):
    X, _ = adult
    a = _explainer(adult_model, method="genetic", random_state=3).fit(X)
    b = _explainer(adult_model, method="genetic", random_state=3).fit(X)
    fa = a.explain(rejected).to_frame()
    pd.testing.assert_frame_equal(fa, b.explain(rejected).to_frame())
    c = pickle.loads(pickle.dumps(a))
    pd.testing.assert_frame_equal(fa, c.explain(rejected).to_frame())


@pytest.mark.parametrize("method", METHODS)
def test_n_jobs_and_batch_composition_do_not_change_results(
    adult, adult_model, rejected, method
):
    X, _ = adult
    one = _explainer(adult_model, method=method, n_jobs=1).fit(X)
    two = _explainer(adult_model, method=method, n_jobs=2).fit(X)
    f1 = one.explain(rejected).to_frame()
    pd.testing.assert_frame_equal(f1, two.explain(rejected).to_frame())
    # a row's counterfactuals do not depend on the other rows of the batch
    sub = rejected.iloc[[3, 1]]
    fs = one.explain(sub).to_frame()
    expected = f1[f1["query"].isin(sub.index)]
    expected = pd.concat([expected[expected["query"] == q] for q in sub.index])
    pd.testing.assert_frame_equal(
        fs.reset_index(drop=True), expected.reset_index(drop=True)
    )


def test_multiclass_desired_label_and_opposite():
    X, y = make_classification(
        n_samples=300,
        n_features=5,
        n_informative=4,
        n_redundant=0,
        n_classes=3,
        random_state=0,
    )
    labels = np.array(["cat", "dog", "owl"])[y]
    model = LogisticRegression(max_iter=1000).fit(X, labels)
    cfx = _explainer(model, desired_class="owl", method="genetic").fit(X)
    q = X[model.predict(X) != "owl"][:5]
    expl = cfx.explain(q)
    assert (
        model.predict(expl.to_frame()[[f"x{i}" for i in range(5)]].to_numpy()) == "owl"
    ).all()
    assert list(expl.desired) == ["owl"] * 5
    opp = _explainer(model, method="random").fit(X)
    expl = opp.explain(X[:5])
    frame = expl.to_frame()
    pred_q = model.predict(X[:5])
    pred_cf = model.predict(frame[[f"x{i}" for i in range(5)]].to_numpy())
    assert (pred_cf != pred_q[frame["query"].to_numpy(dtype=int)]).all()
    assert_counterfactuals_valid(opp, expl)


def test_query_with_desired_outcome_already():
    X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    model = LogisticRegression().fit(X, y)
    cfx = _explainer(model, desired_class=1, method="random").fit(X)
    q = X[model.predict(X) == 1][:2]
    expl = cfx.explain(q)
    assert list(expl.status) == ["query already has the desired outcome"] * 2
    np.testing.assert_allclose(cfx.transform(q), q)


def test_regression_desired_range():
    X, y = make_regression(n_samples=300, n_features=4, noise=1.0, random_state=0)
    model = LinearRegression().fit(X, y)
    cfx = CounterfactualExplainer(
        LinearRegression(),
        desired_range=(100, 150),
        method="genetic",
        random_state=0,
    ).fit(X, y)
    q = X[(model.predict(X) < 50)][:5]
    expl = cfx.explain(q)
    frame = expl.to_frame()
    pred = cfx.estimator_.predict(frame[[f"x{i}" for i in range(4)]].to_numpy())
    assert ((pred >= 100) & (pred <= 150)).all()
    assert expl.summary["coverage"] == 1.0
    # judged in two workers (the desired range, the prediction): the same
    two = cfx.set_params(n_jobs=2).explain(q)
    pd.testing.assert_frame_equal(two.to_frame(), frame)
    # the workers' BLAS runs one thread: distances equal up to the last bit
    np.testing.assert_allclose(two.nearest_distance, expl.nearest_distance, rtol=1e-12)
    with pytest.raises(ValueError, match="desired_range"):
        CounterfactualExplainer(LinearRegression()).fit(X, y)


@pytest.mark.parametrize("method", ["genetic", "exact", "gradient"])
def test_regression_desired_range_with_an_open_side(method):
    """(100, None) is "at least 100", as permitted_range reads None (it was
    refused: "a (low, high) pair of numbers"); the same answers as with
    inf, and (None, None) bounds nothing."""
    from skcfx.counterfactual._base import in_range

    if method == "gradient":
        pytest.importorskip("torch")
    X, y = make_regression(n_samples=300, n_features=4, noise=1.0, random_state=0)
    model = FrozenEstimator(LinearRegression().fit(X, y))
    q = X[model.predict(X) < 50][:5]
    out = {}
    for rng in [(100, None), (100, np.inf)]:
        cfx = CounterfactualExplainer(
            model, desired_range=rng, method=method, random_state=0
        ).fit(X)
        out[rng] = cfx.explain(q).to_frame()
        pred = model.predict(out[rng][[f"x{i}" for i in range(4)]])
        # exact optima sit on the bound: valid up to rounding
        assert in_range(pred, 100, np.inf).all()
    pd.testing.assert_frame_equal(out[(100, None)], out[(100, np.inf)])
    low = CounterfactualExplainer(model, desired_range=(None, -100), method=method)
    frame = low.fit(X).explain(q).to_frame()
    assert (
        len(frame) and (model.predict(frame[[f"x{i}" for i in range(4)]]) <= -100).all()
    )
    with pytest.raises(ValueError, match="bounds nothing"):
        CounterfactualExplainer(model, desired_range=(None, None)).fit(X)


def test_transform_in_pipeline_and_set_output(adult, adult_model, rejected):
    X, _ = adult
    cfx = _explainer(adult_model, method="random").fit(X)
    out = cfx.transform(rejected)
    assert out.shape == rejected.shape
    assert list(out.columns) == list(rejected.columns)
    assert (out.index == rejected.index).all()
    assert (adult_model.predict(out) == 1).all()
    cfx.set_output(transform="pandas")
    out2 = cfx.transform(rejected)
    pd.testing.assert_frame_equal(out, out2)
    # array input: float array, NaN rows where nothing was found
    Xa, ya = make_classification(n_samples=200, n_features=4, random_state=0)
    m = LogisticRegression().fit(Xa, ya)
    pipe = make_pipeline(_explainer(m, method="random"), FrozenEstimator(m))
    pipe.fit(Xa, ya)
    assert (pipe.predict(Xa[:10]) != m.predict(Xa[:10])).all()


def test_score_and_grid_search(adult, adult_model):
    X, y = adult
    cfx = _explainer(adult_model, method="random", n_candidates=100, max_rounds=3)
    grid = GridSearchCV(
        cfx, {"sparsity_weight": [0.0, 2.0]}, cv=2, error_score="raise"
    ).fit(X.iloc[:200], y[:200])
    assert grid.best_params_["sparsity_weight"] in (0.0, 2.0)
    assert np.isfinite(grid.best_score_)
    scorer = make_counterfactual_scorer("sparsity")
    val = scorer(grid.best_estimator_, X.iloc[:5])
    assert val <= 0


def test_no_counterfactual_found_is_explicit():
    X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    # only a feature the tree never uses may vary
    unused = int(np.flatnonzero(model.feature_importances_ == 0)[0])
    cfx = _explainer(
        model,
        method="random",
        features_to_vary=[f"x{unused}"],
        n_candidates=20,
        max_rounds=2,
    )
    cfx.fit(X)
    with pytest.warns(NoCounterfactualWarning):
        expl = cfx.explain(X[:3])
    # the model never responds to the only feature that may vary: its own
    # program (a tree) proves it
    assert list(expl.status) == ["infeasible under constraints"] * 3
    assert np.isnan(cfx.transform(X[:3])).all()
    assert expl.summary["coverage"] == 0.0
    # a model no program reads (a FunctionTransformer in front): the search
    # sees that nothing moves and stops
    from sklearn.preprocessing import FunctionTransformer

    used = np.flatnonzero(model.feature_importances_ > 0)
    hidden = make_pipeline(
        FunctionTransformer(lambda Z: np.asarray(Z)[:, used]),
        DecisionTreeClassifier(max_depth=2, random_state=0),
    ).fit(X, y)
    cfx = _explainer(
        hidden,
        method="random",
        features_to_vary=[f"x{unused}"],
        n_candidates=20,
        max_rounds=2,
    ).fit(X, y)
    with pytest.warns(NoCounterfactualWarning):
        expl = cfx.explain(X[:3])
    assert list(expl.status) == ["unreachable within budget"] * 3


def test_display_json_and_plot(adult, adult_model, rejected, tmp_path):
    import json

    import matplotlib

    matplotlib.use("Agg")
    X, _ = adult
    expl = _explainer(adult_model, method="random").fit(X).explain(rejected.iloc[:2])
    text = str(expl)
    assert "*" in text and "found" in text
    assert "CounterfactualExplanations" in repr(expl)
    data = json.loads(expl.to_json(tmp_path / "out.json"))
    assert len(data["queries"]) == 2
    assert data["queries"][0]["counterfactuals"][0]["valid"] is True
    assert (tmp_path / "out.json").exists()
    ax = expl.plot(0)
    assert ax.get_title().startswith("Query")
    assert expl.metrics.shape[0] == 2


def test_evaluate_external_counterfactuals(adult, adult_model, rejected):
    X, _ = adult
    cfx = _explainer(adult_model, **CONSTRAINTS).fit(X)
    external = rejected.iloc[:2].copy()
    external["age"] = [70, 30]  # 70 breaks the permitted range
    external["race"] = ["Other", rejected["race"].iloc[1]]  # race is frozen
    external.insert(0, "query", rejected.index[:2])
    ev = cfx.evaluate(rejected.iloc[:2], external)
    assert ev.summary["constraint_violations"] >= 2
    assert not ev.to_frame()["valid"].iloc[0]
    # another explainer's explanations, as they come (they raised an
    # AttributeError): the same rows and validity, re-judged by this one
    other = _explainer(adult_model, method="random").fit(X)
    theirs = other.explain(rejected.iloc[:3])
    again = cfx.evaluate(rejected.iloc[:3], theirs)
    cols = list(X.columns)
    pd.testing.assert_frame_equal(
        again.to_frame()[cols].reset_index(drop=True),
        theirs.to_frame().sort_values(["query", "rank"])[cols].reset_index(drop=True),
        check_dtype=False,
    )
    assert again.to_frame()["valid"].all()
    with pytest.raises(TypeError, match="counterfactuals must be a DataFrame"):
        cfx.evaluate(rejected.iloc[:2], external.to_numpy())


def test_no_y_without_frozen_estimator(adult):
    X, _ = adult
    with pytest.raises(ValueError, match="requires y to be passed"):
        CounterfactualExplainer(LogisticRegression()).fit(X)


def test_no_warning_on_happy_path(adult, adult_model, rejected):
    X, _ = adult
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _explainer(adult_model, method="kdtree").fit(X).explain(rejected)


def test_polars_input():
    pl = pytest.importorskip("polars")
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.RandomState(0)
    X = pl.DataFrame(
        {
            "a": rng.normal(size=200),
            "b": rng.normal(size=200),
            "c": rng.choice(["u", "v"], 200),
        }
    )
    y = (X["a"].to_numpy() + (X["c"].to_numpy() == "v") > 0.5).astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough"),
        LogisticRegression(),
    )
    cfx = CounterfactualExplainer(model, method="random", random_state=0).fit(X, y)
    assert cfx.categorical_features_ == ["c"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expl = cfx.explain(X[:5])
    frame = expl.to_frame()
    pred = cfx.estimator_.predict(frame[["a", "b", "c"]])
    q_pred = cfx.estimator_.predict(X[:5])
    assert (pred != q_pred[frame["query"].to_numpy(dtype=int)]).all()
    out = cfx.transform(X[:5])
    assert list(out.columns) == ["a", "b", "c"] and len(out) == 5


class _CountingFrozen(FrozenEstimator):
    """A frozen model that records the rows of each predict_proba call."""

    calls = []

    def predict_proba(self, X):
        self.calls.append(len(X))
        return self.estimator.predict_proba(X)


def test_max_samples_bounds_what_fit_keeps(adult, adult_model, rejected):
    """More training rows than ``max_samples``: the searches and the
    plausibility index keep a sample, the feature space still sees every
    row, the model predicts only the sample, and the pickle does not grow
    with the training set."""
    import pickle

    X, _ = adult
    big = pd.concat([X] * 4, ignore_index=True)
    big.loc[len(big) - 1, "workclass"] = "Never-worked"  # one rare row
    big.loc[len(big) - 1, "age"] = 99
    calls = _CountingFrozen.calls
    Counting = _CountingFrozen
    small = CounterfactualExplainer(
        Counting(adult_model), max_samples=2000, random_state=0
    ).fit(X)
    calls.clear()
    large = CounterfactualExplainer(
        Counting(adult_model), max_samples=2000, random_state=0
    ).fit(big)
    assert max(calls) == 2000  # the sample, not the 12,000 rows
    assert len(large._context.index.Z) == 2000
    space = large.feature_space_
    j = space.names.index("workclass")
    assert "Never-worked" in list(space.categories[j])
    assert large.feature_ranges_["age"][1] == 99
    expl = large.explain(rejected)
    assert expl.valid.all()
    assert (adult_model.predict(expl.to_frame()[X.columns]) == 1).all()
    # the pickle holds the sample's coded rows, not one column per category
    sizes = [len(pickle.dumps(e)) for e in (small, large)]
    assert sizes[1] < 1.1 * sizes[0]
    restored = pickle.loads(pickle.dumps(large))
    pd.testing.assert_frame_equal(
        restored.explain(rejected).to_frame(), expl.to_frame()
    )


def test_a_method_named_after_fit_runs_on_what_fit_prepared():
    # the exact search reads the model in fit; set after a genetic fit it
    # crashed inside explain ("'NoneType' object has no attribute 'kind'")
    from sklearn.preprocessing import StandardScaler

    from skcfx.counterfactual._tabular.queries import SearchSetup

    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randint(0, 10, (200, 3)), columns=list("abc"))
    y = (X.a + X.b > 9).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    q = X[model.predict(X) == 0].head(3)
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    for method in ("random", "kdtree", "genetic"):  # share fit's preparation
        assert cfx.set_params(method=method).explain(q).valid.all()
    for method, why in (("exact", "as constraints"), ("gradient", "in torch")):
        with pytest.raises(
            ValueError, match=f"method='{method}' was set after fit.*{why}.*fit again"
        ):
            cfx.set_params(method=method).explain(q)
        assert cfx.fit(X).explain(q).valid.all()  # refitted: runs
    with pytest.raises(
        ValueError,
        match="method='genetic' was set after fit, which prepared the search "
        "for method='gradient'",
    ):
        cfx.set_params(method="genetic").explain(q)
    # time_limit is read by explain, not frozen in fit
    cfx.set_params(method="exact", time_limit=3.5).fit(X)
    assert SearchSetup(cfx.set_params(time_limit=0.25)).context.time_limit == 0.25


def test_columns_by_integer_position():
    """A numpy user names columns by position, as in a ColumnTransformer
    (features_to_vary=[0, 1] was refused: "unknown column '0'; known
    columns: ['x0', ...]"); a frame's own integer column names are names."""
    X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    model = FrozenEstimator(LogisticRegression().fit(X, y))
    kw = dict(method="random", random_state=0)
    by_pos = CounterfactualExplainer(
        model,
        features_to_vary=[0, 1],
        permitted_range={0: (-1, 1)},
        monotonic={1: "increasing"},
        **kw,
    ).fit(X)
    by_name = CounterfactualExplainer(
        model,
        features_to_vary=["x0", "x1"],
        permitted_range={"x0": (-1, 1)},
        monotonic={"x1": "increasing"},
        **kw,
    ).fit(X)
    q = X[model.predict(X) == 0][:5]
    a, b = by_pos.explain(q).to_frame(), by_name.explain(q).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert len(a) and (a[["x2", "x3", "x4"]].to_numpy() == q[a["query"]][:, 2:]).all()
    # a frame with string names: positions too; with integer names: names
    frame = pd.DataFrame(X, columns=list("abcde"))
    cfx = CounterfactualExplainer(model, features_to_vary=[0], **kw)
    assert cfx.fit(frame).constraints_.vary.tolist() == [True] + [False] * 4
    named = pd.DataFrame(X[:, ::-1], columns=[4, 3, 2, 1, 0])
    cfx = CounterfactualExplainer(
        FrozenEstimator(LogisticRegression().fit(named, y)), features_to_vary=[0], **kw
    )
    assert cfx.fit(named).constraints_.vary.tolist() == [False] * 4 + [True]
    with pytest.raises(ValueError, match=r"features_to_vary holds column position 7"):
        CounterfactualExplainer(model, features_to_vary=[7]).fit(X)
