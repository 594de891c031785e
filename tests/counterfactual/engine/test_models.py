"""The model adapter (``_engine/models.py``): every way a column selection
is written resolves to the same columns, for the explainer's categorical
detection, the encoders' categories and the gradient method's torch
rebuild."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skcfx.counterfactual._engine.feature_space import FeatureSpace
from skcfx.counterfactual._engine.models import (
    ModelInput,
    categorical_columns_from_estimator,
    coded_forward,
    encoder_categories,
    raw_column_transformer,
    unwrap,
)

NAMES = ["age", "hours", "city", "job"]


def _data(n=200):
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {
            "age": rng.randint(18, 70, n).astype(float),
            "hours": rng.uniform(10, 60, n).round(1),
            "city": rng.choice(["a", "b", "c"], n),
            "job": rng.choice(["x", "y"], n),
        }
    )
    y = ((X["age"] > 40) ^ (X["city"] == "a")).astype(int)
    return X, y


SELECTIONS = {
    "names": (["age", "hours"], ["city", "job"]),
    "slice": (slice("age", "hours"), slice("city", "job")),
    "integers": ([0, 1], [2, 3]),
    "boolean mask": ([True, True, False, False], [False, False, True, True]),
    "callable": (
        make_column_selector(dtype_include="number"),
        make_column_selector(dtype_exclude="number"),
    ),
}


@pytest.mark.parametrize("how", SELECTIONS)
def test_every_column_selection_resolves_the_same(how):
    num, cat = SELECTIONS[how]
    X, y = _data()
    ct = ColumnTransformer(
        [("num", StandardScaler(), num), ("cat", OneHotEncoder(), cat)]
    )
    model = Pipeline([("prep", ct), ("clf", LogisticRegression())]).fit(X, y)
    frozen = FrozenEstimator(FrozenEstimator(model))
    assert unwrap(frozen) is model
    assert categorical_columns_from_estimator(frozen, NAMES) == ["city", "job"]
    cats = encoder_categories(frozen, NAMES)
    assert {k: list(v) for k, v in cats.items()} == {
        "city": ["a", "b", "c"],
        "job": ["x", "y"],
    }
    name, found, rest = raw_column_transformer(frozen)
    assert name == "prep" and found is ct and rest is model[-1]


@pytest.mark.parametrize("how", ["slice", "boolean mask", "callable"])
def test_torch_rebuild_follows_any_selection(how):
    torch = pytest.importorskip("torch")
    num, cat = SELECTIONS[how]
    X, y = _data()
    ct = ColumnTransformer(
        [("num", StandardScaler(), num), ("cat", OneHotEncoder(), cat)]
    )
    model = Pipeline([("prep", ct), ("clf", LogisticRegression())]).fit(X, y)
    space = FeatureSpace(X, ["city", "job"])
    module = coded_forward(model, space)
    Z = space.encode(X)
    cats = {
        j: torch.nn.functional.one_hot(
            torch.as_tensor(Z[:, j].astype(np.int64)), len(space.categories[j])
        ).float()
        for j in space.categorical
    }
    with torch.no_grad():
        logits = module(torch.as_tensor(Z, dtype=torch.float32), cats).numpy()
    np.testing.assert_allclose(
        logits[:, 1] - logits[:, 0], model.decision_function(X), atol=1e-4
    )


def test_model_input_matches_the_fitted_input():
    X, _ = _data(5)
    assert ModelInput("frame", True)(X) is X
    arr = ModelInput("array", True)(X)
    assert arr.dtype == object and arr.shape == (5, 4)
    num = ModelInput("array", False)(X[["age", "hours"]])
    assert num.dtype == np.float64
