"""Shared fixtures of the engine tests: a fitted explainer on a known model,
and the search ``Problem`` of some of its queries, built with the same
factory as ``explain`` (``_tabular.queries.prepare`` / ``make_problem``)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skcfx import CounterfactualExplainer
from skcfx.counterfactual._engine.methods import run_search
from skcfx.counterfactual._tabular.queries import make_problem, prepare


def data(n=400, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(
        {
            "a": rng.uniform(0, 10, n).round(2),
            "b": rng.uniform(0, 10, n).round(2),
            "frozen": rng.uniform(0, 10, n).round(2),
            "colour": rng.choice(["red", "green", "blue", "grey"], n),
        }
    )
    logit = X["a"] + X["b"] - 10 + 3 * (X["colour"] == "blue")
    return X, (logit > 0).astype(int)


@pytest.fixture(scope="module")
def captured():
    """A fitted explainer and the Problem of one explain call on rejected rows."""
    X, y = data()
    Xm = pd.get_dummies(X, columns=["colour"], dtype=float)
    model = LogisticRegression(C=100.0, max_iter=2000).fit(Xm, y)

    class OnDummies(LogisticRegression):
        """The model above, on the raw frame (a stand-in for a Pipeline)."""

        def _m(self, X):
            return pd.get_dummies(X, columns=["colour"], dtype=float).reindex(
                columns=Xm.columns, fill_value=0.0
            )

        def predict_proba(self, X):
            return model.predict_proba(self._m(X))

        def predict(self, X):
            return model.predict(self._m(X))

    wrapped = OnDummies()
    wrapped.classes_ = model.classes_
    wrapped.n_features_in_ = X.shape[1]
    wrapped.feature_names_in_ = np.asarray(X.columns, dtype=object)
    cfx = CounterfactualExplainer(
        FrozenEstimator(wrapped),
        features_to_vary=["a", "b", "colour"],
        permitted_range={"a": (0, 10), "b": (0, 10)},
        random_state=0,
    ).fit(X)
    queries = X[(wrapped.predict(X) == 0) & (X["colour"] != "blue")].iloc[:8]
    problem = make_problem(cfx, prepare(cfx, queries))
    pools = run_search("genetic", problem, cfx._context)
    return cfx, problem, pools, model, Xm.columns
