"""method="gradient": valid, constrained counterfactuals for differentiable models."""

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcfx import CounterfactualExplainer
from skcfx.exceptions import InfeasibleConstraintsError, NoCounterfactualWarning
from skcfx.metrics import coverage, validity
from skcfx.testing import (
    assert_constraints_hold,
    assert_counterfactuals_valid,
    constraint_sets,
)

torch = pytest.importorskip("torch")


def _numeric_frame(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(
        {
            "age": rng.randint(18, 70, n),
            "income": (rng.normal(50, 15, n)).round(1),
            "score": rng.normal(size=n).round(3),
            "debt": rng.uniform(0, 30, n).round(2),
        }
    )
    logit = (
        0.08 * (X["age"] - 40) + 0.1 * (X["income"] - 50) - 0.1 * X["debt"] + X["score"]
    )
    return X, (logit > 0).astype(int)


@pytest.fixture(scope="module")
def mlp_setting():
    X, y = _numeric_frame()
    model = make_pipeline(
        StandardScaler(), MLPClassifier((16,), max_iter=2000, random_state=0)
    ).fit(X, y)
    return X, y, model


def test_gradient_counterfactuals_flip_the_model(mlp_setting):
    X, y, model = mlp_setting
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="gradient", random_state=0
    ).fit(X)
    expl = cfx.explain(X.iloc[:15])
    assert_counterfactuals_valid(cfx, expl)
    assert validity(expl) == 1.0 and coverage(expl) == 1.0
    frame = expl.to_frame()
    q = X.loc[frame["query"]].reset_index(drop=True)
    assert (model.predict(frame[X.columns]) != model.predict(q)).all()


def test_gradient_itself_finds_them(mlp_setting):
    """The fall-back search is not what produces the counterfactuals: the
    gradient search alone (no registry fall-back) finds valid rows for
    every query."""
    from skcfx.counterfactual._engine.methods import get
    from skcfx.counterfactual._tabular.queries import make_problem, prepare

    X, _, model = mlp_setting
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="gradient", random_state=0
    ).fit(X)
    problem = make_problem(cfx, prepare(cfx, X.iloc[:10]))
    queries = np.flatnonzero(problem.bounds.feasible)
    pools = get("gradient").search(problem, cfx._context, queries, None, 200)
    assert all(len(pools[i]) for i in queries)
    assert coverage(cfx.explain(X.iloc[:10])) == 1.0


@settings(deadline=None, max_examples=25)
@given(data=st.data(), seed=st.integers(0, 1000), kind=st.sampled_from(["lr", "mlp"]))
def test_constraints_always_hold(data, seed, kind):
    X, y = _numeric_frame(120, seed % 7)
    constraints = data.draw(constraint_sets(X))
    clf = (
        LogisticRegression()
        if kind == "lr"
        else MLPClassifier((8,), max_iter=300, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP convergence on tiny data
        model = make_pipeline(StandardScaler(), clf).fit(X, y)
    rows = data.draw(
        st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=4, unique=True)
    )
    try:
        cfx = CounterfactualExplainer(
            FrozenEstimator(model),
            method="gradient",
            n_counterfactuals=2,
            max_rounds=40,
            random_state=seed,
            **constraints,
        ).fit(X)
    except InfeasibleConstraintsError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        expl = cfx.explain(X.iloc[rows])
    assert_constraints_hold(cfx, expl)
    assert_counterfactuals_valid(cfx, expl)


def test_multiclass_desired_class():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    y = np.digitize(X["a"] + X["b"], [-0.7, 0.7])
    model = LogisticRegression().fit(X, y)
    cfx = CounterfactualExplainer(
        model, method="gradient", desired_class=2, random_state=0
    ).fit(X, y)
    expl = cfx.explain(X[y == 0].iloc[:5])
    frame = expl.to_frame()
    assert (cfx.estimator_.predict(frame[["a", "b", "c"]]) == 2).all()
    assert coverage(expl) == 1.0


def test_gradient_errors_name_the_problem():
    X, y = _numeric_frame(100)
    forest = RandomForestClassifier(n_estimators=3, random_state=0)
    with pytest.raises(TypeError, match="got RandomForestClassifier.*model-agnostic"):
        CounterfactualExplainer(forest, method="gradient").fit(X, y)
    Xc = X.assign(city=np.where(X["age"] > 40, "a", "b").astype(object))
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures

    Xc = Xc.assign(zone=np.where(X["debt"] > 15, "x", "y").astype(object))
    interacting = make_pipeline(
        make_column_transformer(
            (
                make_pipeline(
                    OneHotEncoder(sparse_output=False),
                    PolynomialFeatures(interaction_only=True),
                ),
                ["city", "zone"],
            ),
            remainder="passthrough",
        ),
        LogisticRegression(max_iter=500),
    )
    with pytest.raises(TypeError, match="'columntransformer.pipeline'.*on its own"):
        CounterfactualExplainer(interacting, method="gradient").fit(Xc, y)
    with pytest.raises(TypeError, match="needs the categorical columns \\['age'\\]"):
        CounterfactualExplainer(
            LogisticRegression(), method="gradient", categorical_features=["age"]
        ).fit(X, y)


def test_mixed_frame_through_column_transformer():
    """Raw pandas with categoricals, searched through the user's Pipeline."""
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    from skcfx.datasets import load_adult

    X, y = load_adult(subset="dice", return_X_y=True)
    X, y = X.iloc[:3000], y.iloc[:3000]
    cat = ["workclass", "education", "marital_status", "occupation", "race", "gender"]
    model = make_pipeline(
        make_column_transformer(
            (StandardScaler(), ["age", "hours_per_week"]),
            (OneHotEncoder(handle_unknown="ignore"), cat),
        ),
        MLPClassifier((20,), max_iter=300, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    constraints = dict(
        features_to_vary=["age", "education", "occupation", "hours_per_week"],
        permitted_range={"age": (20, 60)},
    )
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="gradient", random_state=0, **constraints
    ).fit(X)
    queries = X[model.predict(X) == 0].iloc[:8]
    expl = cfx.explain(queries)
    assert_constraints_hold(cfx, expl)
    assert_counterfactuals_valid(cfx, expl)
    assert coverage(expl) == 1.0
    # the changed-cell plot marks exactly the cells the counterfactuals change
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = expl.to_frame()
    for i in range(2):
        cfs = frame[frame["query"] == queries.index[i]][list(X.columns)]
        changed = (cfs != queries.iloc[i]).to_numpy()
        ax = expl.plot(i, columns="all")
        image = np.asarray(ax.images[0].get_array())
        assert image.shape == (len(cfs) + 1, X.shape[1])
        np.testing.assert_array_equal(image[1:] != 0, changed)
        assert not image[0].any()  # the query's row
        frozen = [X.columns.get_loc(c) for c in ("workclass", "race", "gender")]
        assert not changed[:, frozen].any()
        cells = {(t.get_position(), t.get_text()) for t in ax.texts}
        for r in range(len(cfs)):
            for j in range(X.shape[1]):
                text = str(cfs.iloc[r, j]) if changed[r, j] else "-"
                # long category names are wrapped, never cut
                assert ((j, r + 1), text) in {
                    (p, t.replace("\n", " ")) for p, t in cells
                }
        plt.close(ax.figure)


@settings(deadline=None, max_examples=15)
@given(
    threshold=st.floats(0.0, 25.0),
    min_age_step=st.integers(0, 5),
    seed=st.integers(0, 1000),
)
def test_predicates_and_causal_rules_hold(mlp_setting, threshold, min_age_step, seed):
    """User predicates (a feasibility bound and a two-argument causal rule:
    income may only rise if age rises too) hold on every returned row, and
    every row reported valid is predicted as desired."""
    X, _, model = mlp_setting

    def bounded_debt(c):
        return c["debt"] <= max(threshold, 0.0) + 5.0

    def income_needs_age(c, q):
        return (c["income"] <= q["income"]) | (c["age"] >= q["age"] + min_age_step)

    cfx = CounterfactualExplainer(
        FrozenEstimator(model),
        method="gradient",
        n_counterfactuals=2,
        max_rounds=60,
        predicates=[bounded_debt, income_needs_age],
        random_state=seed,
    ).fit(X)
    queries = X[model.predict(X) == 0].iloc[:4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        expl = cfx.explain(queries)
    assert_constraints_hold(cfx, expl)
    assert_counterfactuals_valid(cfx, expl)
    frame = expl.to_frame()
    valid = frame[frame["valid"]]
    q = queries.loc[valid["query"]].reset_index(drop=True)
    c = valid.reset_index(drop=True)
    assert bounded_debt(c).all()
    assert income_needs_age(c, q).all()


def test_skorch_net_behind_a_scaler():
    """A skorch classifier (with dropout) behind a StandardScaler is
    differentiated through its module, in evaluation mode."""
    from skorch import NeuralNetClassifier

    X, y = _numeric_frame()
    Xs = StandardScaler()

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.3)
            )
            self.out = torch.nn.Linear(16, 2)

        def forward(self, x):
            return self.out(self.body(x.float()))

    net = NeuralNetClassifier(
        Net,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=40,
        lr=0.05,
        optimizer=torch.optim.Adam,
        train_split=None,
        verbose=0,
    )
    torch.manual_seed(0)
    model = make_pipeline(Xs, net).fit(X, y.to_numpy().astype(np.int64))
    net.module_.train()
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="gradient", random_state=0
    ).fit(X)
    expl = cfx.explain(X[model.predict(X) == 0].iloc[:5])
    assert_counterfactuals_valid(cfx, expl)
    assert coverage(expl) == 1.0
    again = cfx.explain(X[model.predict(X) == 0].iloc[:5])
    np.testing.assert_array_equal(expl.to_frame(), again.to_frame())


@pytest.mark.parametrize(
    "encoder",
    ["drop_first", "if_binary", "infrequent", "ordinal", "target"],
)
def test_categorical_encoders_are_rebuilt_exactly(encoder):
    """Any encoder mapping each category to a fixed vector is rebuilt in
    torch from the fitted encoder: the torch copy gives the model's
    probabilities on raw rows, and the search finds valid counterfactuals."""
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder

    from skcfx.datasets import load_adult

    X, y = load_adult(subset="dice", return_X_y=True)
    X, y = X.iloc[:1500], y.iloc[:1500]
    cat = ["workclass", "education", "marital_status", "occupation", "race", "gender"]
    enc = {
        "drop_first": OneHotEncoder(drop="first", handle_unknown="ignore"),
        "if_binary": OneHotEncoder(drop="if_binary"),
        "infrequent": OneHotEncoder(
            min_frequency=30, handle_unknown="infrequent_if_exist"
        ),
        "ordinal": OrdinalEncoder(),
        "target": TargetEncoder(),
    }[encoder]
    model = make_pipeline(
        make_column_transformer(
            (StandardScaler(), ["age", "hours_per_week"]), (enc, cat)
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="gradient", random_state=0
    ).fit(X)
    space = cfx.feature_space_
    Z = space.encode(X.iloc[:200])
    cats = {
        j: torch.nn.functional.one_hot(
            torch.as_tensor(Z[:, j].astype(np.int64)), len(space.categories[j])
        ).float()
        for j in space.categorical
    }
    with torch.no_grad():
        logits = cfx._context.module(torch.as_tensor(Z, dtype=torch.float32), cats)
    np.testing.assert_allclose(
        torch.softmax(logits, 1).numpy(), model.predict_proba(X.iloc[:200]), atol=1e-4
    )
    expl = cfx.explain(X[model.predict(X) == 0].iloc[:4])
    assert_counterfactuals_valid(cfx, expl)
    assert coverage(expl) == 1.0


def test_auto_keeps_the_gradient_search_only_when_it_wins(mlp_setting, monkeypatch):
    X, y, model = mlp_setting
    queries = X[model.predict(X) == 0].head(6)
    auto = CounterfactualExplainer(
        FrozenEstimator(model), method="auto", random_state=0
    ).fit(X)
    probe = auto.method_probe_
    assert list(probe.index) == ["gradient", "genetic"]
    g, e = probe.loc["gradient"], probe.loc["genetic"]
    wins = g["seconds_per_query"] <= e["seconds_per_query"] and g["score"] >= e["score"]
    assert auto.method_ == ("gradient" if wins else "genetic")
    # the chosen search gives the very answers of that method asked for by name
    named = CounterfactualExplainer(
        FrozenEstimator(model), method=auto.method_, random_state=0
    ).fit(X)
    pd.testing.assert_frame_equal(
        auto.explain(queries).to_frame(), named.explain(queries).to_frame()
    )
    assert_counterfactuals_valid(auto, auto.explain(queries))

    # the rule itself: a probe where the gradient search is faster and better
    # keeps it (and its torch module); one where it is better but slower not
    class Probe:
        def __init__(self, score):
            self._score = score

        def score(self):
            return self._score

    real = CounterfactualExplainer.explain
    for slow_gradient, expected in [(False, "gradient"), (True, "genetic")]:

        def fake(self, X, slow_gradient=slow_gradient):
            gradient = self.method_ == "gradient"
            time.sleep(0.02 if gradient == slow_gradient else 0.0)
            return Probe(1.0 if gradient else 0.5)

        monkeypatch.setattr(CounterfactualExplainer, "explain", fake)
        cfx = CounterfactualExplainer(FrozenEstimator(model), method="auto").fit(X)
        monkeypatch.setattr(CounterfactualExplainer, "explain", real)
        assert cfx.method_ == expected
        assert (cfx._context.module is not None) == (expected == "gradient")


def test_auto_is_genetic_for_models_the_gradient_search_cannot_take():
    X, y = _numeric_frame()
    forest = RandomForestClassifier(20, random_state=0).fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(forest), method="auto").fit(X)
    assert cfx.method_ == "genetic" and cfx.method_probe_ is None
    reg = make_pipeline(StandardScaler(), LinearRegression()).fit(X, X["income"])
    cfx = CounterfactualExplainer(
        FrozenEstimator(reg), method="auto", desired_range=(60, 70)
    ).fit(X)
    assert cfx.method_ == "genetic" and cfx.method_probe_ is None


def test_imputer_pipelines_and_passed_through_flags():
    """The preprocessing of a frame with missing values: a SimpleImputer
    then a scaler on the numbers, an imputer then a one-hot encoder on the
    categories, ``remainder="passthrough"`` over an integer and a bool
    column. The torch copy gives the model's probabilities on complete
    rows, the search finds valid counterfactuals, and an imputer that is
    not the identity on complete rows is refused, named."""
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    X, y = _numeric_frame(400)
    rng = np.random.RandomState(1)
    X = X.assign(
        city=rng.choice(["north", "south", "east"], len(X)).astype(object),
        member=rng.rand(len(X)) < 0.5,
    )
    y = (y.astype(bool) | (X["member"] & (X["city"] == "north"))).astype(int)
    X.loc[rng.rand(len(X)) < 0.1, "income"] = np.nan
    X.loc[rng.rand(len(X)) < 0.1, "city"] = np.nan

    def model_with(imputer):
        return make_pipeline(
            make_column_transformer(
                (make_pipeline(imputer, StandardScaler()), ["income", "debt"]),
                (
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    ["city"],
                ),
                remainder="passthrough",  # age, score and the bool member
            ),
            MLPClassifier((16,), max_iter=1000, random_state=0),
        ).fit(X, y)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = model_with(SimpleImputer(strategy="median"))
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), method="gradient", random_state=0
    ).fit(X)
    assert cfx.feature_space_.is_categorical[list(X.columns).index("member")]
    complete = X.dropna()
    space = cfx.feature_space_
    Z = space.encode(complete)
    cats = {
        j: torch.nn.functional.one_hot(
            torch.as_tensor(Z[:, j].astype(np.int64)), len(space.categories[j])
        ).float()
        for j in space.categorical
    }
    with torch.no_grad():
        logits = cfx._context.module(torch.as_tensor(Z, dtype=torch.float32), cats)
    np.testing.assert_allclose(
        torch.softmax(logits, 1).numpy(), model.predict_proba(complete), atol=1e-4
    )
    expl = cfx.explain(complete[model.predict(complete) == 0].iloc[:6])
    assert_counterfactuals_valid(cfx, expl)
    assert coverage(expl) == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        indicator = model_with(SimpleImputer(add_indicator=True))
    with pytest.raises(TypeError, match="'columntransformer.pipeline-1'"):
        CounterfactualExplainer(
            FrozenEstimator(indicator), method="gradient", random_state=0
        ).fit(X)


def test_auto_gives_queries_with_missing_values_the_genetic_search(monkeypatch):
    """method="auto" that chose the gradient search raised "cannot search
    from missing values" on a batch with one missing cell (an imputer in
    the model handles it): such queries now get the genetic search, each
    query's method its own (the complete ones get the very answers of
    method="gradient", the others those of method="genetic")."""
    from sklearn.impute import SimpleImputer

    X, y = _numeric_frame(400)
    X.loc[X.index[::7], "income"] = np.nan
    model = make_pipeline(
        SimpleImputer(),
        StandardScaler(),
        MLPClassifier((16,), max_iter=800, random_state=0),
    ).fit(X, y)

    def gradient_wins(self, frame):
        self.method_ = "gradient"

    monkeypatch.setattr(CounterfactualExplainer, "_probe", gradient_wins)
    auto = CounterfactualExplainer(
        FrozenEstimator(model), method="auto", random_state=0
    ).fit(X)
    assert auto.method_ == "gradient"
    queries = X[model.predict(X) == 0].head(12)
    missing = queries["income"].isna().to_numpy()
    assert 0 < missing.sum() < len(queries)
    with pytest.raises(ValueError, match="cannot search from missing"):
        CounterfactualExplainer(
            FrozenEstimator(model), method="gradient", random_state=0
        ).fit(X).explain(queries)
    expl = auto.explain(queries)
    assert_counterfactuals_valid(auto, expl)
    assert coverage(expl) == 1.0
    frame = expl.to_frame()
    for method, rows in (("gradient", ~missing), ("genetic", missing)):
        named = CounterfactualExplainer(
            FrozenEstimator(model), method=method, random_state=0
        ).fit(X)
        want = named.explain(queries[rows]).to_frame()
        got = frame[frame["query"].isin(queries.index[rows])]
        cols = list(X.columns)
        np.testing.assert_allclose(
            got[cols].to_numpy(float), want[cols].to_numpy(float)
        )


def test_regressors_are_searched_into_the_desired_range():
    """A linear regressor or an MLPRegressor behind a scaler (diabetes) was
    refused ("supports classifiers"): the prediction is now pushed inside
    the desired range; every answer valid, close to the proven optimum for
    the linear model, as close as the genetic search for the network."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.neural_network import MLPRegressor

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    ridge = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    mlp = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(32,), max_iter=3000, random_state=0),
    ).fit(X, y)
    for model, kinds in ((ridge, ("exact",)), (mlp, ("genetic",))):
        queries = X[model.predict(X) < 150].head(12)
        kw = dict(desired_range=(200, 400), random_state=0)
        grad = CounterfactualExplainer(FrozenEstimator(model), method="gradient", **kw)
        expl = grad.fit(X).explain(queries)
        assert expl.summary["coverage"] == 1.0 and expl.valid.all()
        assert_counterfactuals_valid(grad, expl)
        assert_constraints_hold(grad, expl)
        best = expl._cost()[expl.best_index()]
        other = CounterfactualExplainer(FrozenEstimator(model), method=kinds[0], **kw)
        ref = other.fit(X).explain(queries)
        ref_best = ref._cost()[ref.best_index()]
        assert np.mean(best) <= 1.03 * np.mean(ref_best)
