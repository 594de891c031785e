"""The result objects (``_base.py``, ``_tabular/explanations.py``): the
public accessors that transform and the metrics use."""

import warnings

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator

from skcfx import CounterfactualExplainer
from skcfx.counterfactual import (
    CounterfactualExplanations,
    ImageCounterfactualExplanations,
    TextCounterfactualExplanations,
)
from skcfx.counterfactual._base import BaseCounterfactualExplanations
from skcfx.metrics import coverage, proximity, sparsity, validity


def _explain(adult_model, adult, rejected, **kw):
    X, _ = adult
    cfx = CounterfactualExplainer(
        FrozenEstimator(adult_model), method="random", random_state=0, **kw
    ).fit(X)
    accepted = X[adult_model.predict(X) == 1].iloc[:2]
    queries = pd.concat([rejected.iloc[:4], accepted])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cfx, queries, cfx.explain(queries)


def test_every_modality_shares_the_base_api():
    for cls in (
        CounterfactualExplanations,
        ImageCounterfactualExplanations,
        TextCounterfactualExplanations,
    ):
        assert issubclass(cls, BaseCounterfactualExplanations)
        for name in ("best", "best_index", "to_frame", "score", "validity", "plot"):
            assert callable(getattr(cls, name))


def test_best_index_and_best(adult_model, adult, rejected):
    cfx, queries, expl = _explain(adult_model, adult, rejected, desired_class=1)
    best = expl.best_index()
    frame = expl.to_frame()
    for i, b in enumerate(best):
        mine = frame[(frame["query"] == queries.index[i]) & frame["valid"]]
        if len(mine):
            assert b == mine["rank"].idxmin()
        else:
            assert b == -1
    rows = expl.best()
    assert list(rows.index) == list(queries.index)
    already = expl.status == "query already has the desired outcome"
    assert already.sum() == 2
    pd.testing.assert_frame_equal(
        rows[already].astype(object), queries[already].astype(object)
    )
    has = best >= 0
    got = rows[has].reset_index(drop=True)
    want = frame.loc[best[has], queries.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    pd.testing.assert_frame_equal(cfx.transform(queries), rows)


def test_metrics_read_the_public_fields(adult_model, adult, rejected):
    _, queries, expl = _explain(adult_model, adult, rejected, desired_class=1)
    v = expl.valid
    assert validity(expl) == expl.validity()
    assert coverage(expl) == expl.coverage() == 1.0
    Zq = expl.query_codes[expl.owner[v]]
    np.testing.assert_allclose(
        proximity(expl), expl.space.distance(Zq, expl.codes[v]).mean()
    )
    np.testing.assert_allclose(
        sparsity(expl), expl.space.changed(Zq, expl.codes[v]).sum(axis=1).mean()
    )
    d = expl.space.n_features
    manual = (
        expl.validity()
        - (
            expl.space.distance(Zq, expl.codes[v])
            + expl.space.changed(Zq, expl.codes[v]).sum(axis=1) / d
        ).mean()
    )
    np.testing.assert_allclose(expl.score(), manual)
