"""Printed, HTML and plotted views of explanations stay readable."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcfx import CounterfactualExplainer


@pytest.fixture(scope="module")
def wide():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        rng.normal(size=(300, 32)) * 10_000 + 50_000,
        columns=[f"income_source_{j}" for j in range(32)],
    ).round(0)
    y = (X.iloc[:, 0] + X.iloc[:, 1] > 100_000).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model),
        features_to_vary=["income_source_0", "income_source_1"],
        n_counterfactuals=2,
        random_state=0,
    ).fit(X)
    queries = X[model.predict(X) == 0].head(2)
    return cfx, cfx.explain(queries), X


def test_text_shows_changed_columns_in_their_own_scale(wide):
    _, expl, X = wide
    text = str(expl)
    assert "income_source_0" in text
    assert "income_source_7" not in text  # never changed: hidden by default
    assert "30 unchanged columns not shown" in text
    assert "e+0" not in text  # 44,360 rather than 4.436e+04
    assert max(len(line) for line in text.splitlines()) <= 100
    full = expl.to_string(columns="all")
    assert "income_source_31" in full and "e+0" not in full
    some = expl.to_string(columns=["income_source_5"])
    assert "income_source_5" in some and "income_source_0" not in some
    with pytest.raises(ValueError, match="unknown columns \\['nope'\\]"):
        expl.to_string(columns=["nope"])


def test_html_highlights_changed_cells(wide):
    _, expl, _ = wide
    page = expl._repr_html_()
    assert page.count("<table") == 2
    changed = sum(
        int(np.sum(np.asarray(cf.iloc[:, :2]) != np.asarray(expl.queries.iloc[i, :2])))
        for i, cf in enumerate(expl.counterfactuals)
    )
    assert page.count("background:#ffe08a") == changed
    assert "income_source_7" not in page


def test_plot_shows_changed_columns_and_whole_category_names():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.RandomState(1)
    long_names = ["Exec-managerial-and-administrative", "Handlers-cleaners", "Sales"]
    X = pd.DataFrame(
        {
            "occupation": rng.choice(long_names, 400),
            "hours": rng.randint(10, 80, 400),
            "other": rng.normal(size=400),
        }
    )
    y = (X["occupation"] == long_names[0]).astype(int)

    class Rule(ClassifierMixin, BaseEstimator):
        def fit(self, X, y=None):
            self.classes_ = np.array([0, 1])
            return self

        def predict_proba(self, X):
            p = (np.asarray(X["occupation"]) == long_names[0]).astype(float)
            return np.column_stack([1 - p, p])

        def predict(self, X):
            return self.predict_proba(X).argmax(axis=1)

    cfx = CounterfactualExplainer(
        FrozenEstimator(Rule().fit(X)), n_counterfactuals=1, random_state=0
    ).fit(X, y)
    expl = cfx.explain(X[y == 0].head(1))
    ax = expl.plot(0)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["occupation"]
    texts = {t.get_text().replace("\n", " ") for t in ax.texts}
    assert long_names[0] in texts  # wrapped, never cut
    plt.close("all")
