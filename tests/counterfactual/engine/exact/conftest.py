"""Small mixed data sets on which the exact optimum can be enumerated."""

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def small_frame(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(
        {
            "a": rng.randint(0, 10, n).astype(float),
            "b": rng.randint(0, 6, n).astype(float),
            "colour": rng.choice(["red", "green", "blue"], n),
        }
    )
    logit = 0.6 * X["a"] - 0.9 * X["b"] + 2.0 * (X["colour"] == "blue") - 1.0
    y = (logit + rng.normal(0, 0.5, n) > 0).astype(int)
    return X, y


def pipeline(head):
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["a", "b"]), ("cat", OneHotEncoder(), ["colour"])]
    )
    return Pipeline([("prep", pre), ("clf", head)])


def brute_force(cfx, query):
    """Cheapest admissible valid row by enumerating the grid (the box and
    category set of each column), with the explainer's own cost."""
    from skcfx.counterfactual._tabular.queries import make_problem, prepare

    problem = make_problem(cfx, prepare(cfx, query))
    space, b = problem.space, problem.bounds
    axes = []
    for j in range(space.n_features):
        x = problem.Zq[0, j]
        if not b.varying[0, j]:
            axes.append([x])
        elif space.is_categorical[j]:
            axes.append(list(np.flatnonzero(b.allowed[j][0]).astype(float)))
        else:
            step = 10.0 ** -space.decimals[j]
            lo, hi = b.lo[0, j], b.hi[0, j]
            grid = np.arange(np.ceil(lo / step), np.floor(hi / step) + 1) * step
            axes.append(
                sorted(set(np.round(grid, 9)) | ({x} if lo <= x <= hi else set()))
            )
    Z = np.array(list(itertools.product(*axes)), dtype=float)
    owner = np.zeros(len(Z), dtype=int)
    valid, _ = problem.evaluate(Z, owner)
    if not valid.any():
        return np.inf, None
    cost = problem.cost(Z, owner)
    cost[~valid] = np.inf
    best = int(np.argmin(cost))
    return float(cost[best]), Z[best]


@pytest.fixture
def small():
    return small_frame()
