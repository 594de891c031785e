"""Coded representation of raw tabular features, shared by every search.

A :class:`FeatureSpace` maps a raw pandas DataFrame (numeric and categorical
columns in the caller's dtypes) to a float matrix ``Z`` in which a numeric
column keeps its value and a categorical column holds the integer code of its
category, and back. Every counterfactual search works on ``Z``; the model is
always called on decoded raw rows, so it sees exactly what the user's
Pipeline expects.
"""

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_integer_dtype,
    is_object_dtype,
)

from skcfx.utils._dtypes import is_categorical_dtype

__all__ = ["FeatureSpace", "ceil_to", "floor_to"]

_MAX_DECIMALS = 6


def ceil_to(x, dec):
    """``x`` rounded up to ``dec`` decimals (unchanged for ``dec=None``)."""
    if dec is None:
        return x
    f = 10.0**dec
    return np.ceil(np.round(x * f, 9)) / f


def floor_to(x, dec):
    """``x`` rounded down to ``dec`` decimals (unchanged for ``dec=None``)."""
    if dec is None:
        return x
    f = 10.0**dec
    return np.floor(np.round(x * f, 9)) / f


def _decimals(values):
    """Smallest number of decimals (<= 6) that represents every value exactly,
    or None."""
    for d in range(_MAX_DECIMALS + 1):
        if np.allclose(np.round(values, d), values, rtol=0, atol=1e-9):
            return d
    return None


class FeatureSpace:
    """Raw tabular feature space learned from training data.

    Parameters
    ----------
    X : pandas.DataFrame
        Training data in raw form.
    categorical : sequence of str
        Columns to treat as categorical in addition to those whose dtype is
        object, string, category or bool.
    extra_categories : dict, default=None
        Further known categories per column (from the model's encoders);
        they are added to those seen in ``X``.

    Attributes
    ----------
    names : list of str
    is_categorical : ndarray of bool, shape (n_features,)
    categories : list
        For categorical columns the ndarray of categories seen in ``X`` (in
        the dtype's order for ordered categoricals, sorted otherwise); None
        for numeric ones.
    ordered : ndarray of bool
        True for ordered categoricals (monotonic constraints allowed).
    lower, upper : ndarray of float
        Training minimum and maximum of numeric columns (0 and
        ``n_categories - 1`` for categorical ones).
    mad : ndarray of float
        Median absolute deviation of numeric columns, with fall-backs (see
        Notes); 1 for categorical ones.
    decimals : list of int or None
        Precision of numeric columns (0 for integer-valued columns).
    dtypes : list
        The caller's dtypes, restored on decode.

    Notes
    -----
    When a numeric column's MAD is zero (for instance ``capital_gain``, zero
    for most people), the mean absolute deviation from the median is used,
    and 1 if that is zero too; DiCE uses 1 directly.
    """

    def __init__(self, X, categorical=(), extra_categories=None):
        categorical = set(categorical)
        extra_categories = extra_categories or {}
        self.names = [str(c) for c in X.columns]
        d = len(self.names)
        self.is_categorical = np.zeros(d, dtype=bool)
        self.ordered = np.zeros(d, dtype=bool)
        self.categories = [None] * d
        self.lower = np.zeros(d)
        self.upper = np.zeros(d)
        self.mad = np.ones(d)
        self.decimals = [None] * d
        self.median = np.zeros(d)
        # code of the missing value of a categorical column (-1: none seen)
        self.missing_code = np.full(d, -1)
        self.dtypes = list(X.dtypes)
        for j, name in enumerate(self.names):
            col = X.iloc[:, j]
            dtype = col.dtype
            cat = name in categorical or is_categorical_dtype(dtype)
            if cat:
                self.is_categorical[j] = True
                values = col.to_numpy()
                missing = pd.isna(values)
                present = pd.unique(values[~missing])
                extra = [v for v in extra_categories.get(name, []) if not pd.isna(v)]
                if isinstance(dtype, pd.CategoricalDtype):
                    known = set(present) | set(extra)
                    cats = [c for c in dtype.categories if c in known]
                    self.ordered[j] = bool(dtype.ordered)
                else:
                    merged = list(present) + [v for v in extra if v not in set(present)]
                    try:
                        cats = sorted(merged)
                    except TypeError:
                        cats = sorted(merged, key=str)
                if missing.any():
                    # missing values get the last code: a query may keep it,
                    # no search moves a value to it (see Constraints)
                    self.missing_code[j] = len(cats)
                    cats = list(cats) + [np.nan]
                self.categories[j] = np.asarray(cats, dtype=object)
                self.upper[j] = len(cats) - 1
            else:
                values = col.to_numpy(dtype=float, na_value=np.nan)
                values = values[~np.isnan(values)]
                if len(values) == 0:
                    values = np.zeros(1)
                self.lower[j] = values.min()
                self.upper[j] = values.max()
                median = np.median(values)
                self.median[j] = median
                mad = np.median(np.abs(values - median))
                if mad <= 0:
                    mad = np.mean(np.abs(values - median))
                self.mad[j] = mad if mad > 0 else 1.0
                if is_integer_dtype(dtype):
                    self.decimals[j] = 0
                else:
                    self.decimals[j] = _decimals(values)
        self.numeric = np.flatnonzero(~self.is_categorical)
        self.categorical = np.flatnonzero(self.is_categorical)
        self.n_features = d
        # weight of a feature in the mixed distance: 1/MAD for numeric
        # columns; a categorical change costs 1.
        self.scale = np.where(self.is_categorical, 1.0, 1.0 / self.mad)

    # ------------------------------------------------------------------ codes
    def encode(self, X):
        """Raw DataFrame -> coded float matrix, with errors naming columns.

        Missing numeric values stay NaN in the coded matrix; a missing
        categorical value gets its column's missing code when the training
        data had missing values in that column.

        Raises
        ------
        ValueError
            Naming every offending column at once: infinite values,
            non-numeric values in a numeric column, categories (or missing
            values) unseen at fit time.
        """
        n = X.shape[0]
        Z = np.empty((n, self.n_features))
        problems = []
        for j, name in enumerate(self.names):
            col = X.iloc[:, j]
            if self.is_categorical[j]:
                values = col.to_numpy(dtype=object)
                missing = pd.isna(values)
                known = self.categories[j]
                if self.missing_code[j] >= 0:
                    known = known[: self.missing_code[j]]
                codes = pd.Index(known, dtype=object).get_indexer(values).astype(float)
                if missing.any():
                    if self.missing_code[j] >= 0:
                        codes[missing] = self.missing_code[j]
                    else:
                        rows = list(X.index[missing][:5])
                        problems.append(
                            f"column {name!r} has missing values (index labels "
                            f"{rows}) but none were seen during fit"
                        )
                        codes[missing] = 0
                unseen = (codes < 0) & ~missing
                if unseen.any():
                    bad = sorted({str(v) for v in values[unseen]})[:5]
                    problems.append(
                        f"column {name!r} holds categories unseen during fit: "
                        f"{bad} (known: {[str(c) for c in known]})"
                    )
                    codes[unseen] = 0
                Z[:, j] = codes
            else:
                try:
                    values = col.to_numpy(dtype=float, na_value=np.nan)
                except (TypeError, ValueError):
                    problems.append(
                        f"column {name!r} must be numeric as during fit; got "
                        f"values such as {col.iloc[0]!r}"
                    )
                    continue
                inf = np.isinf(values)
                if inf.any():
                    rows = list(X.index[inf][:5])
                    problems.append(
                        f"column {name!r} contains infinity (index labels {rows})"
                    )
                Z[:, j] = values
        if problems:
            raise ValueError("Invalid input X: " + "; ".join(problems) + ".")
        return Z

    def decode(self, Z, index=None):
        """Coded matrix -> DataFrame in the caller's column dtypes."""
        data = {}
        for j, name in enumerate(self.names):
            dtype = self.dtypes[j]
            z = Z[:, j]
            if self.is_categorical[j]:
                values = self.categories[j][np.nan_to_num(z).astype(np.intp)]
                if isinstance(dtype, pd.CategoricalDtype):
                    data[name] = pd.Categorical(values, dtype=dtype)
                elif is_object_dtype(dtype):
                    # explicit object dtype: pandas 3 would infer "str"
                    data[name] = pd.Series(values, dtype=object, copy=False)
                else:
                    data[name] = pd.array(values, dtype=dtype)
            elif not isinstance(dtype, np.dtype):  # pandas nullable numeric
                if is_integer_dtype(dtype):
                    z = np.rint(z)
                data[name] = pd.Series(z, dtype=float).astype(dtype).array
            elif np.issubdtype(dtype, np.integer):
                # an integer column holding a query's missing or fractional
                # value is returned as float (as pandas stores it), never
                # rounded behind the caller's back
                whole = np.abs(z - np.rint(z)) <= 1e-9
                data[name] = np.rint(z).astype(dtype) if whole.all() else z
            else:
                data[name] = z.astype(dtype)
        frame = pd.DataFrame(data, columns=self.names)
        if index is not None:
            frame.index = index
        return frame

    def missing_cells(self, Z):
        """Cells of the coded matrix ``Z`` that hold a missing value (a NaN
        number or a categorical column's missing code)."""
        out = np.zeros(Z.shape, dtype=bool)
        out[:, self.numeric] = np.isnan(Z[:, self.numeric])
        for j in self.categorical:
            if self.missing_code[j] >= 0:
                out[:, j] = Z[:, j] == self.missing_code[j]
        return out

    def missing_rows(self, Z):
        """Rows of the coded matrix ``Z`` that hold a missing value."""
        return self.missing_cells(Z).any(axis=1)

    def round(self, Z, Zq=None):
        """Round numeric columns to their precision, in place; returns Z.

        With ``Zq`` (the queries, broadcastable to ``Z``), a cell equal to
        its query's value is left exactly as it is: the grid learned from
        the training data admits the query's own value, whatever its
        precision; only changed values snap to the grid.
        """
        for j in self.numeric:
            dec = self.decimals[j]
            if dec is None:
                continue
            z = Z[..., j]
            r = np.round(z, dec)
            if Zq is not None:
                q = np.broadcast_to(Zq[..., j], z.shape)
                same = np.abs(z - q) <= 1e-9 * self.mad[j]
                r = np.where(same, q, r)
            Z[..., j] = r
        return Z

    def off_grid(self, Z):
        """Boolean matrix of numeric cells off their column's grid."""
        bad = np.zeros(Z.shape, dtype=bool)
        for j in self.numeric:
            dec = self.decimals[j]
            if dec is not None:
                z = Z[..., j]
                bad[..., j] = np.abs(np.round(z, dec) - z) > 1e-9
        return bad

    # -------------------------------------------------------------- distances
    def numeric_gap(self, Za, Zb):
        """|a - b| on numeric columns; 0 where both are missing, ``MAD`` (one
        unit of distance) where exactly one is."""
        diff = np.abs(Za - Zb)
        na, nb = np.isnan(Za), np.isnan(Zb)
        if na.any() or nb.any():
            diff = np.where(na & nb, 0.0, diff)
            diff = np.where(na ^ nb, np.broadcast_to(self.mad, diff.shape), diff)
        return diff

    def changed(self, Zq, Zc):
        """Boolean matrix of changed cells (numeric tolerance 1e-9 x MAD; a
        missing value filled, or a value made missing, is a change)."""
        tol = np.where(self.is_categorical, 0.5, 1e-9 * self.mad)
        return self.numeric_gap(Zq, Zc) > tol

    def distance(self, Za, Zb):
        """Mixed distance between aligned rows (broadcasting).

        ``(1/d) * (sum_numeric |a_j - b_j| / MAD_j + sum_categorical
        [a_j != b_j])``; filling a missing numeric value costs 1, as a
        category change does.
        """
        diff = self.numeric_gap(Za, Zb)
        diff[..., self.categorical] = diff[..., self.categorical] > 0.5
        return (diff * self.scale).sum(axis=-1) / self.n_features

    def embed(self, Z, columns=None, weights=None):
        """L1 embedding: numeric/MAD, categorical one-hot/2, so that the
        Manhattan distance in the embedding is ``d`` times :meth:`distance`
        (each feature's block multiplied by ``weights[j]`` when given)."""
        if columns is None:
            columns = np.arange(self.n_features)
        if weights is None:
            weights = np.ones(self.n_features)
        parts = []
        for j in columns:
            if self.is_categorical[j]:
                k = len(self.categories[j])
                onehot = np.zeros((Z.shape[0], k))
                onehot[np.arange(Z.shape[0]), Z[:, j].astype(np.intp)] = (
                    0.5 * weights[j]
                )
                parts.append(onehot)
            else:
                # missing values sit at the column's median (an approximation
                # used only by the nearest-neighbour indexes)
                z = np.where(np.isnan(Z[:, j]), self.median[j], Z[:, j])
                parts.append((z * (weights[j] / self.mad[j]))[:, None])
        if not parts:
            return np.zeros((Z.shape[0], 1))
        return np.hstack(parts)
