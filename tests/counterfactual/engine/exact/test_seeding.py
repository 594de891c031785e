"""Surrogate seeds of the genetic search (``_engine/exact/seeding.py``)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from skcfx import CounterfactualExplainer

from .conftest import pipeline, small_frame


def pipeline_numeric(head):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), head)


def test_linear_model_seeds_make_genetic_optimal():
    X, y = small_frame()
    model = pipeline(LogisticRegression()).fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:8]
    kw = dict(n_counterfactuals=1, features_to_vary=["a", "b"], random_state=0)
    exact = CounterfactualExplainer(FrozenEstimator(model), method="exact", **kw)
    genetic = CounterfactualExplainer(FrozenEstimator(model), **kw)
    opt = exact.fit(X).explain(queries).certificate["objective"].to_numpy()
    expl = genetic.fit(X).explain(queries)
    assert genetic._context.seeder.exact is not None
    cost = expl._cost()[expl.best_index()]
    np.testing.assert_allclose(cost, opt, atol=1e-9)


@pytest.mark.parametrize("constrained", [False, True])
def test_linear_seeds_relax_the_grid_then_round_onto_it(constrained):
    """A linear model's seed program relaxes each gridded column to an
    interval (general integers made HiGHS ~6x slower); its optimum, rounded
    onto the grid away from the query, lies in the box, reaches the desired
    outcome and costs at most the grid optimum plus one step per moved
    column."""
    from skcfx.counterfactual._tabular.queries import make_problem, prepare

    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {
            "a": np.round(rng.normal(0, 1, 400), 3),
            "b": np.round(rng.normal(0, 1, 400), 2),
            "c": rng.randint(0, 50, 400).astype(float),
        }
    )
    y = (X["a"] + 0.5 * X["b"] + 0.05 * X["c"] > 1.2).astype(int)
    model = pipeline_numeric(LogisticRegression()).fit(X, y)
    kw = dict(n_counterfactuals=1, random_state=0)
    if constrained:
        kw.update(permitted_range={"a": (-1, 0.8)}, monotonic={"c": "increasing"})
    queries = X[model.predict(X) == 0].iloc[:15]
    exact = CounterfactualExplainer(FrozenEstimator(model), method="exact", **kw)
    e = exact.fit(X).explain(queries)
    genetic = CounterfactualExplainer(FrozenEstimator(model), **kw).fit(X)
    seeder = genetic._context.seeder
    problem = make_problem(genetic, prepare(genetic, queries))
    idx = np.arange(len(queries))
    rows = seeder.seeds(problem, idx)[:, 0]
    space, b = genetic.feature_space_, problem.bounds
    valid, _ = problem.evaluate(rows, idx)
    assert valid.all()
    for j in space.numeric:
        moved = rows[:, j] != problem.Zq[:, j]
        step = 10.0 ** -space.decimals[j]
        on_grid = np.abs(rows[:, j] / step - np.round(rows[:, j] / step)) < 1e-6
        assert on_grid[moved].all()
        assert (rows[moved, j] >= b.lo[moved, j] - 1e-9).all()
        assert (rows[moved, j] <= b.hi[moved, j] + 1e-9).all()
    opt = e.certificate["objective"].to_numpy()
    cost = problem.cost(rows, idx)
    # one grid step of every column, in the cost's proximity term
    steps = 10.0 ** -np.array(space.decimals, dtype=float)
    d = len(space.decimals)
    step_cost = (problem.proximity_weight / d * steps / space.mad).sum()
    assert (cost >= opt - 1e-5).all()
    assert (cost <= opt + step_cost).all()


def test_nonlinear_model_gets_no_program_seeds(monkeypatch):
    """A network is neither linear nor a tree ensemble: its search starts
    from training rows and random changes only (a logistic surrogate's
    per-query MILP cost more than the search for no better answers); the
    surrogate stays available behind ``_LINEAR_SURROGATE``."""
    from skcfx.counterfactual._engine.exact import seeding

    X, y = small_frame()
    model = pipeline(MLPClassifier((8,), max_iter=2000, random_state=0)).fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    assert cfx._context.seeder.models == [] and cfx._context.seeder.exact is None
    queries = X[model.predict(X) == 0].iloc[:5]
    expl = cfx.explain(queries)
    assert expl.valid.all() and (expl.status == "found").all()
    monkeypatch.setattr(seeding, "_LINEAR_SURROGATE", True)
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    surrogate = cfx._context.seeder.exact.input_map.model
    assert type(surrogate[-1]).__name__ == "LogisticRegression"
    assert cfx.explain(queries).valid.all()


def test_no_surrogate_when_the_model_predicts_one_class():
    import warnings

    from sklearn.dummy import DummyClassifier

    from skcfx.exceptions import NoCounterfactualWarning

    X, y = small_frame()
    model = pipeline(DummyClassifier(strategy="constant", constant=0)).fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    assert cfx._context.seeder.exact is None  # nothing to learn a boundary from
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        expl = cfx.explain(X.iloc[:3])
    assert (expl.status == "unreachable within budget").all()


def test_tree_ensemble_seeds_with_its_own_search():
    """A forest the exact search reads seeds the genetic search with its own
    branch and bound: the genetic answer is then the optimum."""
    X, y = small_frame()
    model = pipeline(RandomForestClassifier(20, max_depth=4, random_state=0))
    model.fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:8]
    kw = dict(n_counterfactuals=1, random_state=0)
    exact = CounterfactualExplainer(FrozenEstimator(model), method="exact", **kw)
    genetic = CounterfactualExplainer(FrozenEstimator(model), **kw).fit(X)
    seeder = genetic._context.seeder
    assert len(seeder.models) == 1 and seeder.exact.kind == "trees"
    opt = exact.fit(X).explain(queries).certificate["objective"].to_numpy()
    expl = genetic.explain(queries)
    np.testing.assert_allclose(expl._cost()[expl.best_index()], opt, atol=1e-9)


def test_wide_tree_ensemble_gets_surrogates():
    """Past 16 columns a tree ensemble is seeded by surrogates (its own
    search per query would cost more than the genetic search)."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 5, size=(300, 20)).astype(float)
    y = (X[:, 0] + X[:, 1] > 4).astype(int)
    model = RandomForestClassifier(10, max_depth=3, random_state=0).fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    seeder = cfx._context.seeder
    kinds = [type(m.input_map.head).__name__ for m in seeder.models]
    assert kinds == ["DecisionTreeClassifier"]
    # the one-tree surrogate seeds the whole batch at once, and its seeds
    # are what the search starts from: every query gets a valid answer
    assert seeder.batched[0] is not None
    queries = X[model.predict(X) == 0][:20]
    expl = cfx.explain(queries)
    assert len(np.unique(expl.owner[expl.valid])) == len(queries)


@pytest.mark.parametrize("behind", [False, True])
def test_wide_hist_gradient_boosting_gets_the_tree_surrogate(behind):
    """A HistGradientBoosting past 16 columns is a tree ensemble too: the
    tree surrogate seeds it (every query at once), not a linear one; so
    does a tree ensemble behind preprocessing the exact search cannot read
    (the ensemble found behind a Pipeline or a FrozenEstimator)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 20))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    if behind:  # preprocessing the exact search does not read
        model = make_pipeline(FunctionTransformer(np.tanh), model)
    model.fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    seeder = cfx._context.seeder
    heads = [type(m.input_map.head).__name__ for m in seeder.models]
    assert heads == ["DecisionTreeClassifier"] and seeder.batched[0] is not None
    queries = X[model.predict(X) == 0][:10]
    expl = cfx.explain(queries)
    assert len(np.unique(expl.owner[expl.valid])) == len(queries)


def test_tree_ensemble_with_many_split_values_gets_surrogates():
    """A forest on continuous columns has thousands of distinct split values:
    setting up its own search per query (a leaf mask per value) would cost
    seconds, so it is seeded by the tree surrogate."""
    from skcfx.counterfactual._engine.exact.ensembles import (
        n_leaves,
        n_split_values,
    )
    from skcfx.counterfactual._engine.exact.seeding import _MAX_SETUP

    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 4))
    y = (X[:, 0] + X[:, 1] ** 2 + rng.normal(0, 0.5, 3000) > 1).astype(int)
    model = RandomForestClassifier(60, min_samples_leaf=2, random_state=0).fit(X, y)
    splits = {
        (f, t)
        for est in model.estimators_
        for f, t, left in zip(
            est.tree_.feature, est.tree_.threshold, est.tree_.children_left
        )
        if left >= 0
    }
    assert n_split_values(model) == len(splits)
    assert n_split_values(model) * n_leaves(model) > _MAX_SETUP
    cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0).fit(X)
    kinds = [type(m.input_map.head).__name__ for m in cfx._context.seeder.models]
    assert kinds == ["DecisionTreeClassifier"]
    expl = cfx.explain(X[model.predict(X) == 0][:5])
    assert expl.valid.all() and len(expl.valid)


def test_single_tree_seed_is_the_optimum_without_a_search():
    """One tree (a surrogate's case) is solved leaf by leaf, not by branch
    and bound: each seed costs what the branch and bound's optimum and the
    enumerated optimum cost."""
    from sklearn.tree import DecisionTreeClassifier

    from skcfx.counterfactual._engine.exact.tree_search import TreeSearch
    from skcfx.counterfactual._tabular.queries import make_problem, prepare

    from .conftest import brute_force

    X, y = small_frame()
    model = pipeline(DecisionTreeClassifier(max_depth=5, random_state=0)).fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:10]
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), n_counterfactuals=1, random_state=0
    ).fit(X)
    exact = cfx._context.seeder.exact
    assert exact.kind == "trees" and len(exact.head.tree_start) == 1
    problem = make_problem(cfx, prepare(cfx, queries))
    for i in range(len(queries)):
        target = int(problem.target[i])
        direct = TreeSearch(exact.head, exact.input_map, problem, i, target, False)
        rows, status, _ = direct.run(1)
        assert status == "optimal" and len(rows) == 1
        searched = TreeSearch(exact.head, exact.input_map, problem, i, target, False)
        best, _, _ = searched.run(2)  # k > 1: the branch and bound
        owner = np.array([i])
        cost = problem.cost(rows[0][None], owner)[0]
        assert problem.evaluate(rows[0][None], owner)[0][0]  # the tree accepts it
        np.testing.assert_allclose(cost, problem.cost(best[0][None], owner)[0])
        opt, _ = brute_force(cfx, queries.iloc[[i]])
        np.testing.assert_allclose(cost, opt, atol=1e-9)


@pytest.mark.parametrize("constrained", [False, True])
def test_leaf_boxes_give_every_query_the_single_tree_optimum_at_once(constrained):
    """The batched leaf-box seeds of a one-tree surrogate cost what the
    query-by-query single-tree optimum costs, reach the desired outcome
    and stay in each query's admissible box."""
    from sklearn.tree import DecisionTreeClassifier

    from skcfx.counterfactual._engine.exact.leaf_boxes import LeafBoxes
    from skcfx.counterfactual._engine.exact.seeding import _Predictor
    from skcfx.counterfactual._engine.exact.tree_search import TreeSearch
    from skcfx.counterfactual._engine.methods.exact import ExactModel
    from skcfx.counterfactual._tabular.queries import make_problem, prepare

    X, y = small_frame(400, seed=3)
    model = pipeline(DecisionTreeClassifier(max_depth=6, random_state=0)).fit(X, y)
    kw = dict(n_counterfactuals=1, random_state=0)
    if constrained:
        kw.update(
            features_to_vary=["a", "colour"],
            permitted_range={"a": (2, 8)},
            monotonic={"a": "increasing"},
        )
    cfx = CounterfactualExplainer(FrozenEstimator(model), **kw).fit(X)
    queries = X[model.predict(X) == 0].iloc[:25]
    problem = make_problem(cfx, prepare(cfx, queries))
    space = cfx.feature_space_
    exact = ExactModel(model, space, problem.Zq[0])
    boxes = LeafBoxes(exact.head, exact.input_map, space)
    idx = np.arange(len(queries))
    rows, found = boxes.seeds(problem, idx, _Predictor(model, space))
    assert found.sum() >= 5
    for i in idx:
        target = int(problem.target[i])
        search = TreeSearch(exact.head, exact.input_map, problem, i, target, False)
        best, status, _ = search.run(1)
        assert found[i] == bool(best), i
        if not found[i]:
            continue
        owner = np.array([i])
        np.testing.assert_allclose(
            problem.cost(rows[i][None], owner), problem.cost(best[0][None], owner)
        )
        assert problem.evaluate(rows[i][None], owner)[0][0]
        b = problem.bounds
        for j in space.numeric:
            if rows[i, j] != problem.Zq[i, j]:
                assert b.lo[i, j] - 1e-9 <= rows[i, j] <= b.hi[i, j] + 1e-9
        for j in space.categorical:
            if rows[i, j] != problem.Zq[i, j]:
                assert b.allowed[j][i][int(rows[i, j])]


@pytest.mark.slow
def test_wide_linear_model_seeds_do_not_depend_on_the_clock():
    """The seed program of a 30-column logistic model is solved to
    optimality (the time limit is only a safety cap), so two explains with
    the same ``random_state`` give the same counterfactuals however fast
    the machine is (with a 0.2 s limit, some solves stopped at a different
    point in each run and the answers differed)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(X, y)
    queries = X[model.predict(X) == 0].head(30)
    frames = [
        CounterfactualExplainer(FrozenEstimator(model), random_state=0)
        .fit(X)
        .explain(queries)
        .to_frame()
        for _ in range(2)
    ]
    assert frames[0].equals(frames[1])


@pytest.mark.parametrize("head", ["logistic", "forest"])
def test_queries_the_models_own_program_proves_infeasible_are_not_searched(head):
    """Where the model's own seed program has no row at all, the genetic
    search reports the query infeasible, as the exact search does, without
    spending its budget (it searched 40 rounds and said "search budget
    exhausted"); with an SCM nothing is proved (interventions have
    consequences the program does not model)."""
    from skcfx.causal import StructuralCausalModel

    X, y = small_frame(400, 3)
    models = {
        "logistic": LogisticRegression(),
        "forest": RandomForestClassifier(20, max_depth=4, random_state=0),
    }
    model = pipeline(models[head]).fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:12]
    kw = dict(features_to_vary=["b"], permitted_range={"b": (0, 3)}, random_state=0)
    exact = CounterfactualExplainer(FrozenEstimator(model), method="exact", **kw)
    proved = exact.fit(X).explain(queries).certificate["solver_status"]
    proved = (proved == "proved infeasible").to_numpy()
    assert 0 < proved.sum() < len(queries)  # some of each
    genetic = CounterfactualExplainer(FrozenEstimator(model), **kw).fit(X)
    assert genetic._context.seeder.own  # the model's own program seeds
    expl = genetic.explain(queries)
    infeasible = expl.status == "infeasible under constraints"
    np.testing.assert_array_equal(infeasible, proved)
    reason = "proved infeasible by the model's own exact program"
    assert (expl.reason[proved] == reason).all()
    assert not np.isin(expl.owner, np.flatnonzero(proved)).any()
    # the proved queries send no candidate to the model
    oracle_rows = []
    original = model.predict_proba

    def counting(Z):
        oracle_rows.append(len(Z))
        return original(Z)

    model.predict_proba = counting
    try:
        genetic.explain(queries.iloc[np.flatnonzero(proved)])
    finally:
        del model.predict_proba
    assert sum(oracle_rows) <= 2 * proved.sum()  # the queries' own outcome only
    scm = StructuralCausalModel({"a": ["b"]})
    causal = CounterfactualExplainer(FrozenEstimator(model), scm=scm, **kw).fit(X)
    assert (causal.explain(queries).status != "infeasible under constraints").all()


def test_proofs_are_the_same_in_parallel():
    """Proved-infeasible statuses come back from forked workers too."""
    X, y = small_frame(400, 3)
    model = pipeline(LogisticRegression()).fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:12]
    kw = dict(features_to_vary=["b"], permitted_range={"b": (0, 3)}, random_state=0)
    cfx = CounterfactualExplainer(FrozenEstimator(model), **kw).fit(X)
    one = cfx.explain(queries)
    two = cfx.set_params(n_jobs=2).explain(queries)
    assert (one.status == "infeasible under constraints").any()
    np.testing.assert_array_equal(one.status, two.status)
    np.testing.assert_array_equal(one.reason, two.reason)
    pd.testing.assert_frame_equal(one.to_frame(), two.to_frame())
