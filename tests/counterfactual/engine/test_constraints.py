"""Constraints compiled into admissible boxes (``_engine/constraints.py``)."""

import numpy as np
import pandas as pd
import pytest

from skcfx.counterfactual._engine.constraints import Constraints
from skcfx.counterfactual._engine.feature_space import FeatureSpace
from skcfx.exceptions import InfeasibleConstraintsError


@pytest.fixture
def space():
    X = pd.DataFrame(
        {
            "age": [20, 30, 40, 50, 60],
            "hours": [10.5, 20.0, 35.5, 40.0, 60.0],
            "level": pd.Categorical(
                ["lo", "mid", "hi", "mid", "lo"],
                categories=["lo", "mid", "hi"],
                ordered=True,
            ),
            "job": ["a", "b", "c", "a", "b"],
        }
    )
    return FeatureSpace(X, ["level", "job"]), X


def test_boxes_hold_every_box_constraint(space):
    space, X = space
    c = Constraints(
        space,
        features_to_vary=["age", "hours", "level"],
        permitted_range={"hours": (15, 45), "level": ["mid", "hi"]},
        monotonic={"age": "increasing", "level": "increasing"},
    )
    Zq = space.encode(X)
    b = c.bounds(Zq)
    age, hours, job = (space.names.index(n) for n in ("age", "hours", "job"))
    assert not b.varying[:, job].any()  # frozen
    np.testing.assert_array_equal(b.lo[:, age], Zq[:, age])  # only upward
    assert (b.lo[:, hours] >= 15).all() and (b.hi[:, hours] <= 45).all()
    level = space.names.index("level")
    allowed = b.allowed[level]
    assert not allowed[:, 0].any()  # "lo" is not permitted
    # query at "hi" may not go down to "mid" (increasing only)
    assert not allowed[2, 1] and allowed[2, 2]


def test_cell_violations_name_each_breach(space):
    space, X = space
    c = Constraints(
        space,
        features_to_vary=["age", "hours"],
        permitted_range={"hours": (15, 45)},
        monotonic={"age": "increasing"},
    )
    Zq = space.encode(X.iloc[:1])
    Zc = Zq.copy()
    Zc[0, space.names.index("age")] -= 5  # wrong direction
    Zc[0, space.names.index("hours")] = 50.0  # out of range
    Zc[0, space.names.index("job")] = 1.0  # frozen column changed
    cells = c.cell_violations(Zq, Zc)
    assert cells[0].tolist() == [True, True, False, True]


def test_errors_name_the_parameter_and_value(space):
    space, _ = space
    with pytest.raises(ValueError, match="features_to_vary names unknown column 'x'"):
        Constraints(space, features_to_vary=["x"])
    with pytest.raises(InfeasibleConstraintsError, match="lets no feature vary"):
        Constraints(space, features_to_vary=[])
    with pytest.raises(InfeasibleConstraintsError, match="is empty"):
        Constraints(space, permitted_range={"hours": (50, 10)})
    with pytest.raises(ValueError, match="unseen during fit: \\['z'\\]"):
        Constraints(space, permitted_range={"job": ["z"]})
    with pytest.raises(ValueError, match="needs an order"):
        Constraints(space, monotonic={"job": "increasing"})
    with pytest.raises(ValueError, match="'increasing' or 'decreasing'"):
        Constraints(space, monotonic={"age": "up"})
    with pytest.raises(TypeError, match="predicates must hold callables"):
        Constraints(space, predicates=[lambda c: True, 3])


def test_predicates_of_one_or_two_arguments(space):
    space, X = space
    c = Constraints(
        space,
        predicates=[
            lambda cand: cand["hours"] <= 40,
            lambda cand, q: cand["age"] >= q["age"],
        ],
    )
    queries = X.iloc[[0, 0, 0]].reset_index(drop=True)
    cands = X.iloc[[1, 4, 0]].reset_index(drop=True)
    cands.loc[2, "age"] = 10
    assert c.predicate_mask(cands, queries).tolist() == [True, False, False]


@pytest.mark.parametrize("method", ["exact", "genetic", "random", "kdtree"])
@pytest.mark.parametrize("head", ["forest", "logistic"])
def test_a_one_value_range_outside_the_query_moves_the_column_there(method, head):
    """``permitted_range={"income": (v, v)}`` for a query whose income is
    not ``v``: the column must move to ``v``. It counted as not varying (a
    box of one value), so every search kept the query's income, outside its
    range (the exact search reported such a row "optimal", judged invalid),
    and a category allowed alone likewise."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skcfx import CounterfactualExplainer
    from skcfx.testing import assert_constraints_hold, assert_counterfactuals_valid

    rng = np.random.RandomState(0)
    n = 800
    X = pd.DataFrame(
        {
            "income": rng.randint(10, 100, n).astype(float),
            "age": rng.randint(18, 80, n).astype(float),
            "owner": rng.randint(0, 2, n).astype(float),
        }
    )
    y = (X["income"] / 10 + X["owner"] * 2 + rng.normal(0, 0.5, n) > 7).astype(int)
    models = {
        "forest": RandomForestClassifier(20, max_depth=5, random_state=0),
        "logistic": make_pipeline(StandardScaler(), LogisticRegression()),
    }
    model = models[head].fit(X, y)
    queries = X[(model.predict(X) == 0) & (X["income"] < 50)].head(5)
    assert len(queries)
    cfx = CounterfactualExplainer(
        FrozenEstimator(model),
        method=method,
        features_to_vary=["income", "owner"],
        permitted_range={"income": (95, 95)},
        n_counterfactuals=1,
        random_state=0,
    ).fit(X)
    expl = cfx.explain(queries)
    out = expl.to_frame()
    assert len(out) and (out["income"] == 95).all()
    assert expl.valid.all() and (expl.status == "found").all()
    assert_constraints_hold(cfx, expl)
    assert_counterfactuals_valid(cfx, expl)


def test_one_allowed_category_other_than_the_query_s_varies(space):
    """The cell-level view of the same: a query outside a one-value box,
    numeric or categorical, varies (it must move); one inside it does not."""
    space, X = space
    c = Constraints(
        space,
        permitted_range={"hours": (40, 40), "job": ["b"]},
        features_to_vary=["hours", "job"],
    )
    b = c.bounds(space.encode(X))
    hours, job = space.names.index("hours"), space.names.index("job")
    # rows: hours 10.5, 20, 35.5, 40, 60; jobs a, b, c, a, b
    np.testing.assert_array_equal(b.varying[:, hours], [1, 1, 1, 0, 1])
    np.testing.assert_array_equal(b.varying[:, job], [1, 0, 1, 1, 0])


def test_a_query_outside_an_empty_box_does_not_vary(space):
    """Above its permitted range and only allowed to increase, a value has
    no admissible value at all: the query is infeasible and the cell does
    not vary (a search would otherwise move it down, against its
    direction; hypothesis found it in the semi-factual property test)."""
    space, X = space
    c = Constraints(
        space,
        permitted_range={"hours": (10, 30)},
        monotonic={"hours": "increasing"},
        features_to_vary=["hours", "age"],
    )
    b = c.bounds(space.encode(X))
    hours = space.names.index("hours")
    # hours 10.5, 20, 35.5, 40, 60: the last three are above the range
    np.testing.assert_array_equal(b.varying[:, hours], [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(b.feasible, [1, 1, 0, 0, 0])
