"""Metrics checked against hand-computed values."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skcfx import CounterfactualExplainer
from skcfx import metrics as M


@pytest.fixture(scope="module")
def setup():
    # x0 numeric with MAD 1 (values -2..2 spread), x1 categorical
    X = pd.DataFrame(
        {
            "x0": np.array([-2.0, -1.0, 0.0, 1.0, 2.0] * 8),
            "x1": np.array(["a", "b"] * 20, dtype=object),
        }
    )
    y = (X["x0"] > 0).astype(int).to_numpy()
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["x1"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(model), n_counterfactuals=2).fit(X)
    return X, cfx


def test_metric_formulas(setup):
    X, cfx = setup
    assert cfx.mad_["x0"] == pytest.approx(1.0)
    queries = X.iloc[[0]]  # x0=-2, x1=a, predicted 0
    cfs = pd.DataFrame(
        {
            "query": [0, 0],
            "x0": [1.0, 2.0],  # both predicted 1 (valid)
            "x1": ["a", "b"],
        }
    )
    ev = cfx.evaluate(queries, cfs)
    # distances: (|1-(-2)|/1 + 0)/2 = 1.5 ; (4/1 + 1)/2 = 2.5
    assert M.proximity(ev) == pytest.approx(2.0)
    assert M.proximity_continuous(ev) == pytest.approx(3.5)
    assert M.proximity_categorical(ev) == pytest.approx(0.5)
    assert M.sparsity(ev) == pytest.approx(1.5)
    # pairwise distance between the two: (1/1 + 1)/2 = 1
    assert M.diversity(ev) == pytest.approx(1.0)
    assert M.validity(ev) == pytest.approx(1.0)
    assert M.coverage(ev) == pytest.approx(1.0)
    # nearest training row predicted 1: x0=1/2 with x1 a or b -> distance 0
    assert M.plausibility(ev) == pytest.approx(0.0)
    assert M.constraint_violations(ev) == 0


def test_validity_counts_missing_and_duplicates(setup):
    X, cfx = setup
    queries = X.iloc[[0, 2]]
    cfs = pd.DataFrame(
        {
            "query": [0, 0, 2],
            "x0": [1.0, 1.0, -2.0],  # a duplicate; query 2's cf stays class 0
            "x1": ["a", "a", "a"],
        }
    )
    ev = cfx.evaluate(queries, cfs)
    # one distinct valid of 2 queries x 2 requested
    assert M.validity(ev) == pytest.approx(0.25)
    assert M.coverage(ev) == pytest.approx(0.5)
    assert M.diversity(ev) == 0.0  # two identical valid rows


def test_scorers(setup):
    X, cfx = setup
    sc = M.make_counterfactual_scorer("validity")
    assert 0 <= sc(cfx, X.iloc[:4]) <= 1
    assert M.COUNTERFACTUAL_SCORERS["neg_proximity"](cfx, X.iloc[:4]) <= 0
    with pytest.raises(ValueError, match="not a counterfactual metric"):
        M.make_counterfactual_scorer("accuracy")
