"""Metadata of fit (``sample_weight``) reach the explained model, as in
scikit-learn's meta-estimators: passed on as they are by default, routed as
the model requests them with metadata routing enabled (an unrequested one
is refused), and through GridSearchCV. They raised "fit() got an unexpected
keyword argument 'sample_weight'"."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skcfx import (
    CounterfactualExplainer,
    ImageCounterfactualExplainer,
    L2XSelector,
    TextCounterfactualExplainer,
)
from skcfx.concepts import ConceptBottleneck, ConceptCAV


def _tabular():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    y = (X["a"] + 0.5 * X["b"] + rng.normal(0, 0.5, 300) > 0).astype(int)
    return X, y.to_numpy()


def _texts():
    good = ["good film", "great plot", "good acting", "a great cast"]
    bad = ["bad film", "poor plot", "bad acting", "a poor cast"]
    X = (good + bad) * 20
    y = np.array([1] * 4 * 20 + [0] * 4 * 20)
    y[::7] = 1 - y[::7]  # some noise, so that weights matter
    return X, y


def _images():
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = np.isin(d.target, [3, 8])[:300]
    return d.data[:300][keep] / 16.0, d.target[:300][keep]


def _cases():
    yield "tabular", CounterfactualExplainer, {}, _tabular
    yield "l2x", L2XSelector, {"k": 2, "max_epochs": 1}, _tabular
    yield "image", ImageCounterfactualExplainer, {}, _images
    yield "text", TextCounterfactualExplainer, {}, _texts


CASES = {name: rest for name, *rest in _cases()}


def _final(model):
    return model[-1] if hasattr(model, "steps") else model


@pytest.mark.parametrize("name", list(CASES))
def test_sample_weight_reaches_the_model(name):
    if name in ("l2x", "image"):
        pytest.importorskip("torch")
    cls, kw, data = CASES[name]
    X, y = data()
    w = np.where(y == y[0], 5.0, 0.2)  # strongly unequal
    lr = LogisticRegression(max_iter=2000)
    inner = make_pipeline(CountVectorizer(), lr) if name == "text" else lr
    prefix = "logisticregression__" if name == "text" else ""
    weighted = clone(inner).fit(X, y, **{f"{prefix}sample_weight": w})
    plain = clone(inner).fit(X, y)
    assert not np.allclose(_final(weighted).coef_, _final(plain).coef_)

    # default: passed on as they are (a Pipeline takes step-prefixed ones)
    meta = cls(clone(inner), **kw).fit(X, y, **{f"{prefix}sample_weight": w})
    assert_allclose(_final(meta.estimator_).coef_, _final(weighted).coef_)

    with sklearn.config_context(enable_metadata_routing=True):
        # unrequested: scikit-learn refuses, naming the parameter
        with pytest.raises(Exception, match="sample_weight"):
            cls(clone(inner), **kw).fit(X, y, sample_weight=w)
        requested = clone(inner)
        _final(requested).set_fit_request(sample_weight=True)
        meta = cls(requested, **kw).fit(X, y, sample_weight=w)
        assert_allclose(_final(meta.estimator_).coef_, _final(weighted).coef_)


def test_grid_search_routes_sample_weight_to_the_explained_model():
    X, y = _tabular()
    w = np.where(y == 1, 5.0, 0.2)
    seen = []

    class Recording(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            seen.append(None if sample_weight is None else len(sample_weight))
            return super().fit(X, y, sample_weight=sample_weight)

    with sklearn.config_context(enable_metadata_routing=True):
        model = Recording().set_fit_request(sample_weight=True)
        search = GridSearchCV(
            CounterfactualExplainer(model, method="kdtree", random_state=0),
            {"proximity_weight": [0.5, 1.0]},
            cv=2,
        )
        search.fit(X.head(60), y[:60], sample_weight=w[:60])
    # every fit (two folds x two candidates, then the refit) got its rows'
    # weights
    assert seen == [30, 30, 30, 30, 60]


def test_frozen_models_ignore_fit_metadata():
    """A FrozenEstimator is used as it is and ignores fit metadata, as its
    own fit does."""
    X, y = _tabular()
    model = LogisticRegression().fit(X, y)
    cfx = CounterfactualExplainer(FrozenEstimator(model)).fit(X, sample_weight=y + 1)
    assert_allclose(cfx.estimator_.coef_, model.coef_)


def test_concept_bottleneck_routes_weights_to_its_model():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(300, 6))
    C = pd.DataFrame({"u": (A[:, 0] > 0).astype(float), "v": (A[:, 1] > 0) * 1.0})
    y = ((A[:, 0] > 0) | (A[:, 1] > 1)).astype(int)
    w = np.where(y == 1, 5.0, 0.2)
    cbm = ConceptBottleneck(ConceptCAV(random_state=0))
    weighted = cbm.fit(A, y, concept_labels=C, sample_weight=w)
    S = weighted.concepts_.transform(A)
    assert_allclose(
        weighted.estimator_.coef_,
        LogisticRegression().fit(S, y, sample_weight=w).coef_,
    )
    with sklearn.config_context(enable_metadata_routing=True):
        routed = ConceptBottleneck(
            ConceptCAV(random_state=0),
            LogisticRegression().set_fit_request(sample_weight=True),
        ).set_fit_request(concept_labels=True)
        routed.fit(A, y, concept_labels=C, sample_weight=w)
        assert_allclose(routed.estimator_.coef_, weighted.estimator_.coef_)
