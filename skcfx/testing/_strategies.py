"""Hypothesis strategies for constraint sets and small mixed data."""

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

__all__ = ["constraint_sets", "messy_frames", "mixed_frames"]


def _is_categorical(col):
    return (
        isinstance(col.dtype, pd.CategoricalDtype)
        or not is_numeric_dtype(col.dtype)
        or is_bool_dtype(col.dtype)
    )


@st.composite
def constraint_sets(draw, X, *, categorical=()):
    """Random constraint sets valid for the columns of ``X``.

    Draws a non-empty ``features_to_vary``, closed ``permitted_range``
    intervals between two of a numeric column's observed values (so that
    every range holds a value of the column's grid: its integers or its
    number of decimals) for some numeric columns, non-empty category
    subsets for some categorical ones, and ``monotonic`` directions for
    some numeric columns. Missing values are skipped; pandas' nullable
    dtypes (``Int64``, ``Float64``, ``boolean``) are read like their numpy
    counterparts.

    Parameters
    ----------
    X : DataFrame
        Training data.
    categorical : sequence of str
        Extra columns to treat as categorical.

    Returns
    -------
    strategy of dict
        Keyword arguments for :class:`~skcfx.CounterfactualExplainer`.
    """
    names = [str(c) for c in X.columns]
    vary = draw(
        st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)
    )
    permitted = {}
    monotonic = {}
    for name in vary:
        col = X[name]
        cat = name in categorical or _is_categorical(col)
        if cat:
            values = [v for v in pd.unique(col.to_numpy()) if not pd.isna(v)]
            if draw(st.booleans()):
                subset = draw(
                    st.lists(
                        st.sampled_from(values),
                        min_size=1,
                        max_size=len(values),
                        unique=True,
                    )
                )
                permitted[name] = subset
        else:
            values = np.unique(
                pd.to_numeric(col, errors="coerce").dropna().to_numpy(dtype=float)
            )
            if draw(st.booleans()) and len(values) > 1:
                i, j = (draw(st.integers(0, len(values) - 1)) for _ in range(2))
                low, high = float(values[min(i, j)]), float(values[max(i, j)])
                if is_integer_dtype(col.dtype):
                    low, high = int(low), int(high)
                permitted[name] = (low, high)
            if draw(st.booleans()):
                monotonic[name] = draw(st.sampled_from(["increasing", "decreasing"]))
    return {
        "features_to_vary": vary,
        "permitted_range": permitted or None,
        "monotonic": monotonic or None,
    }


@st.composite
def mixed_frames(draw, min_rows=40, max_rows=120):
    """Small DataFrames with a float, an integer and a string column, plus a
    binary target that depends on all three.

    Parameters
    ----------
    min_rows, max_rows : int
        Bounds on the number of rows.

    Returns
    -------
    strategy of (DataFrame, ndarray)
    """
    n = draw(st.integers(min_rows, max_rows))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "x_float": rng.normal(size=n).round(3),
            "x_int": rng.integers(0, 20, size=n),
            "x_cat": rng.choice(["a", "b", "c"], size=n).astype(object),
        }
    )
    logit = X["x_float"] + 0.2 * (X["x_int"] - 10) + (X["x_cat"] == "b") * 1.5
    y = (logit + rng.normal(scale=0.3, size=n) > 0.5).astype(int).to_numpy()
    if y.min() == y.max():
        y[0] = 1 - y[0]
    return X, y


@st.composite
def messy_frames(draw, min_rows=60, max_rows=150):
    """Frames as real data come: missing values, mixed precisions and dtypes.

    Columns: ``income`` (float, 0 to 2 decimals, some missing), ``score``
    (float, 0 to 3 decimals), ``years`` (int64), ``owner`` (bool) and
    ``purpose`` (pandas category, some missing); a binary target that
    depends on all of them. Use with a model that handles missing values
    (a Pipeline with imputers, HistGradientBoosting).

    Parameters
    ----------
    min_rows, max_rows : int
        Bounds on the number of rows.

    Returns
    -------
    strategy of (DataFrame, ndarray)
    """
    n = draw(st.integers(min_rows, max_rows))
    seed = draw(st.integers(0, 2**31 - 1))
    income_dec = draw(st.integers(0, 2))
    score_dec = draw(st.integers(0, 3))
    nan_rate = draw(st.sampled_from([0.0, 0.05, 0.2]))
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "income": (rng.normal(50, 15, n)).round(income_dec),
            "score": rng.normal(size=n).round(score_dec),
            "years": rng.integers(0, 30, size=n),
            "owner": rng.random(n) > 0.5,
            "purpose": pd.Categorical(rng.choice(["car", "home", "study"], n)),
        }
    )
    logit = (
        (X["income"] - 50) / 15
        + X["score"]
        + 0.05 * (X["years"] - 15)
        + X["owner"]
        - (X["purpose"] == "car")
    )
    y = (logit + rng.normal(scale=0.3, size=n) > 0.5).astype(int).to_numpy()
    if y.min() == y.max():
        y[0] = 1 - y[0]
    X.loc[rng.random(n) < nan_rate, "income"] = np.nan
    X.loc[rng.random(n) < nan_rate, "purpose"] = np.nan
    return X, y
