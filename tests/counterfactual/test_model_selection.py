"""Cross-validating explanation hyperparameters on a fixed ruler."""

import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV

from skcfx import CounterfactualExplainer
from skcfx.metrics import COUNTERFACTUAL_SCORERS, make_counterfactual_scorer


@pytest.fixture(scope="module")
def search_data(adult, adult_model):
    """Training rows for the explainer's feature space, then rejected
    applicants as held-out queries: each split fits on the training rows
    and scores explanations of a third of the queries."""
    X, _ = adult
    train = X.iloc[:2000]
    rest = X.iloc[2000:]
    queries = rest[adult_model.predict(rest) == 0].head(24)
    data = pd.concat([train, queries])
    n = len(train)
    folds = np.array_split(np.arange(n, len(data)), 3)
    cv = [(np.arange(n), f) for f in folds]
    return data, cv


def _search(adult_model, grid, cv, data, **kw):
    cfx = CounterfactualExplainer(FrozenEstimator(adult_model), random_state=0)
    return GridSearchCV(cfx, grid, cv=cv, error_score="raise", **kw).fit(data)


def test_score_is_a_fixed_ruler(adult_model, search_data):
    data, cv = search_data
    train, queries = data.iloc[cv[0][0]], data.iloc[cv[0][1]]
    base = CounterfactualExplainer(FrozenEstimator(adult_model), random_state=0)
    a = base.fit(train).explain(queries)
    b = base.set_params(proximity_weight=3.0, sparsity_weight=0.0).fit(train)
    # the ruler itself does not move with the explainer's weights
    assert b.explain(queries).score() == pytest.approx(b.score(queries), rel=1e-12)
    assert a.score() == pytest.approx(
        CounterfactualExplainer(
            FrozenEstimator(adult_model), random_state=0, proximity_weight=3.0
        )
        .fit(train)
        .evaluate(queries, a.to_frame())
        .score()
    )


def test_grid_search_prefers_the_bigger_budget(adult_model, search_data):
    data, cv = search_data
    grid = _search(
        adult_model,
        [{"n_candidates": [5], "max_rounds": [1]}, {"n_candidates": [None]}],
        cv,
        data,
    )
    assert grid.best_params_ == {"n_candidates": None}
    scores = grid.cv_results_["mean_test_score"]
    assert scores[1] > scores[0]


def test_grid_search_over_weights_does_not_pick_the_smallest(adult_model, search_data):
    data, cv = search_data
    grid = _search(
        adult_model,
        {"proximity_weight": [0.0, 1.0], "sparsity_weight": [0.0, 1.0]},
        cv,
        data,
    )
    results = pd.DataFrame(grid.cv_results_)
    smallest = results[
        (results["param_proximity_weight"] == 0.0)
        & (results["param_sparsity_weight"] == 0.0)
    ]["mean_test_score"].iloc[0]
    # weights of zero ignore the cost: worse on the ruler, so not chosen
    assert smallest < results["mean_test_score"].max()
    assert grid.best_params_ != {"proximity_weight": 0.0, "sparsity_weight": 0.0}


def test_multi_metric_search_with_time_and_refit_callable(adult_model, search_data):
    data, cv = search_data
    scoring = {
        "score": COUNTERFACTUAL_SCORERS["score"],
        "proximity": COUNTERFACTUAL_SCORERS["neg_proximity"],
        "sparsity": COUNTERFACTUAL_SCORERS["neg_sparsity"],
        "seconds": make_counterfactual_scorer("seconds_per_query"),
    }

    def fastest_good(cv_results):
        score = np.asarray(cv_results["mean_test_score"])
        seconds = -np.asarray(cv_results["mean_test_seconds"])
        ok = score >= score.max() - 0.05
        return int(np.flatnonzero(ok)[np.argmin(seconds[ok])])

    grid = _search(
        adult_model,
        {"method": ["random", "genetic"]},
        cv,
        data,
        scoring=scoring,
        refit=fastest_good,
    )
    res = grid.cv_results_
    assert (np.asarray(res["mean_test_seconds"]) < 0).all()  # negated time
    assert set(res) >= {"mean_test_proximity", "mean_test_sparsity"}
    assert grid.best_index_ == fastest_good(res)
    assert hasattr(grid, "best_estimator_")


def test_scorers_share_one_explain_but_never_a_stale_one(adult_model, search_data):
    from unittest import mock

    data, cv = search_data
    train, queries = data.iloc[cv[0][0]], data.iloc[cv[0][1]]
    cfx = CounterfactualExplainer(FrozenEstimator(adult_model), random_state=0)
    cfx.fit(train)
    calls = []
    real = CounterfactualExplainer.explain

    def counting(self, X):
        calls.append(1)
        return real(self, X)

    with mock.patch.object(CounterfactualExplainer, "explain", counting):
        a = COUNTERFACTUAL_SCORERS["neg_proximity"](cfx, queries)
        COUNTERFACTUAL_SCORERS["neg_sparsity"](cfx, queries)
        assert len(calls) == 1  # one explain for both scorers
        cfx.set_params(method="random")  # new parameters: explained again
        b = COUNTERFACTUAL_SCORERS["neg_proximity"](cfx, queries)
        assert len(calls) == 2 and a != b
        cfx.fit(train)  # refit: explained again
        COUNTERFACTUAL_SCORERS["neg_proximity"](cfx, queries)
        assert len(calls) == 3
