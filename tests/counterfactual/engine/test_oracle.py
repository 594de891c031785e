"""Where validity is decided (``_engine/oracle.py``)."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression

from skcfx import CounterfactualExplainer
from skcfx.counterfactual._tabular.queries import oracle_of, prepare


class _Threshold(ClassifierMixin, BaseEstimator):
    """Class 1 when x > 5; raises on x < 0; ``predict`` uses a threshold of
    7 on the same score (so it is not the arg-max of predict_proba)."""

    def fit(self, X, y=None):
        self.classes_ = np.array([0, 1])
        return self

    def _x(self, X):
        x = np.asarray(X, dtype=float)[:, 0]
        if (x < 0).any():
            raise ValueError("negative input")
        return x

    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-(self._x(X) - 5)))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self._x(X) > 7).astype(int)


def _explainer(model, **kw):
    X = pd.DataFrame({"x": np.arange(0.0, 10.0, 0.5), "z": np.arange(20.0)})
    return CounterfactualExplainer(FrozenEstimator(model), **kw).fit(X), X


def test_validity_follows_predict_when_it_is_not_the_argmax():
    cfx, X = _explainer(_Threshold().fit(None))
    assert cfx._use_predict
    queries = prepare(cfx, X.iloc[[0]])
    Z = cfx.feature_space_.encode(pd.DataFrame({"x": [6.0, 8.0], "z": [0.0, 0.0]}))
    out = oracle_of(cfx).outcome(Z, np.zeros(2, dtype=int), queries, exact=True)
    # 6 is class 1 by arg-max but class 0 by predict: not valid
    assert out["valid"].tolist() == [False, True]
    assert out["pred"].tolist() == [0, 1]


def test_failing_rows_are_isolated_and_never_valid():
    cfx, X = _explainer(_Threshold().fit(None))
    queries = prepare(cfx, X.iloc[[0]])
    Z = cfx.feature_space_.encode(
        pd.DataFrame({"x": [8.0, -1.0, 9.0], "z": [0.0, 0.0, 0.0]})
    )
    out = oracle_of(cfx).outcome(Z, np.zeros(3, dtype=int), queries, exact=True)
    assert out["failed"].tolist() == [False, True, False]
    assert out["valid"].tolist() == [True, False, True]
    assert np.isnan(out["proba"][1]) and out["pred"][1] == -1


def test_predicates_decide_valid_but_not_reached():
    cfx, X = _explainer(_Threshold().fit(None), predicates=lambda c: c["z"] < 5)
    queries = prepare(cfx, X.iloc[[0]])
    Z = cfx.feature_space_.encode(pd.DataFrame({"x": [8.0, 8.0], "z": [1.0, 9.0]}))
    out = oracle_of(cfx).outcome(Z, np.zeros(2, dtype=int), queries)
    assert out["reached"].tolist() == [True, True]
    assert out["valid"].tolist() == [True, False]
    valid, loss = oracle_of(cfx)(Z, np.zeros(2, dtype=int), queries)
    assert valid.tolist() == [True, False] and loss[1] >= 1  # predicate penalty


def test_regression_range():
    X = pd.DataFrame({"x": np.arange(20.0), "z": np.zeros(20)})
    model = LinearRegression().fit(X, 2 * X["x"])
    cfx = CounterfactualExplainer(FrozenEstimator(model), desired_range=(10, 12))
    cfx.fit(X)
    queries = prepare(cfx, X.iloc[[0]])
    Z = cfx.feature_space_.encode(pd.DataFrame({"x": [4.0, 5.5, 9.0], "z": 0.0}))
    out = oracle_of(cfx).outcome(Z, np.zeros(3, dtype=int), queries)
    assert out["valid"].tolist() == [False, True, False]
    np.testing.assert_allclose(out["pred"], [8.0, 11.0, 18.0], atol=1e-9)
    assert out["loss"][0] > 0 and out["loss"][1] == 0
