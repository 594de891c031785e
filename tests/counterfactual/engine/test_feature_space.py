"""The coded feature space (``_engine/feature_space.py``)."""

import numpy as np
import pandas as pd
import pytest

from skcfx.counterfactual._engine.feature_space import FeatureSpace


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "income": [52000.5, 61000.25, np.nan, 40000.0, 75500.75],
            "age": pd.array([25, 40, 33, 51, 29], dtype="int64"),
            "member": [True, False, True, True, False],
            "city": pd.Categorical(["a", "b", "a", "c", "b"]),
            "job": ["x", "y", None, "x", "z"],
        }
    )


def test_round_trip_keeps_values_and_dtypes(frame):
    space = FeatureSpace(frame, ["member", "city", "job"])
    Z = space.encode(frame)
    assert Z.dtype == np.float64 and Z.shape == (5, 5)
    back = space.decode(Z)
    pd.testing.assert_series_equal(back["age"], frame["age"])
    assert back["city"].dtype == frame["city"].dtype
    assert list(back["member"]) == list(frame["member"])
    assert back["job"].isna().tolist() == frame["job"].isna().tolist()
    np.testing.assert_allclose(back["income"], frame["income"])  # NaN kept
    assert np.isnan(Z[2, 0])


def test_grid_scale_and_distances(frame):
    space = FeatureSpace(frame, ["member", "city", "job"])
    j_inc, j_age = space.names.index("income"), space.names.index("age")
    assert space.decimals[j_inc] == 2 and space.decimals[j_age] == 0
    Z = space.encode(frame)
    moved = Z.copy()
    moved[0, j_age] += space.mad[j_age]  # one MAD
    moved[0, space.names.index("city")] = 2.0  # another category
    changed = space.changed(Z[:1], moved[:1])
    assert changed.sum() == 2
    # mixed distance: (1 MAD + 1 category) / d
    np.testing.assert_allclose(space.distance(Z[:1], moved[:1]), 2.0 / 5)
    off = Z[:1].copy()
    off[0, j_age] += 0.5
    assert space.off_grid(off)[0, j_age]
    space.round(off)
    assert not space.off_grid(off).any()


def test_filled_missing_value_costs_one_mad(frame):
    space = FeatureSpace(frame, ["member", "city", "job"])
    Z = space.encode(frame)
    filled = Z[2:3].copy()
    filled[0, 0] = 50000.0
    assert space.changed(Z[2:3], filled)[0, 0]
    np.testing.assert_allclose(space.numeric_gap(Z[2:3], filled)[0, 0], space.mad[0])
