"""Assertions on counterfactual explanations, checked from the raw rows.

These re-derive every property from the DataFrames the user sees (the
queries and ``to_frame()``), independently of the explainer's internal
bookkeeping, so they can catch a bug in it.
"""

import numbers

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from skcfx.counterfactual._base import in_range

__all__ = [
    "assert_constraints_hold",
    "assert_counterfactuals_valid",
    "assert_semifactuals_valid",
]


def _pairs(explanations):
    frame = explanations.to_frame()
    queries = explanations.queries
    pos = {label: i for i, label in enumerate(queries.index)}
    if not isinstance(queries.index, pd.RangeIndex) and len(pos) != len(queries):
        raise AssertionError("query index labels must be unique")
    q_rows = queries.iloc[[pos[q] for q in frame["query"]]].reset_index(drop=True)
    return frame.reset_index(drop=True), q_rows


def assert_counterfactuals_valid(explainer, explanations):
    """Every counterfactual reported valid is predicted as desired.

    Re-runs ``explainer.estimator_.predict`` on the returned rows and checks
    the desired class (or range), and that a query whose status is "found"
    has at least one valid counterfactual.

    Parameters
    ----------
    explainer : fitted CounterfactualExplainer
        The explainer whose model and targets are checked.
    explanations : CounterfactualExplanations
        Its output.

    Raises
    ------
    AssertionError
    """
    frame, q_rows = _pairs(explanations)
    names = explanations.feature_names
    pos = {label: i for i, label in enumerate(explanations.queries.index)}
    valid = frame["valid"].to_numpy(dtype=bool)
    if valid.any():
        X = frame.loc[valid, names]
        if explainer.model_input_.kind != "frame":
            X = X.to_numpy()
        pred = np.asarray(explainer.estimator_.predict(X))
        desired = [explanations.desired[pos[q]] for q in frame.loc[valid, "query"]]
        for p, want, q in zip(pred, desired, frame.loc[valid, "query"]):
            if isinstance(want, tuple):
                ok = bool(in_range(float(p), want[0], want[1]))
            elif isinstance(want, str) and want.startswith("not "):
                ok = str(p) != want[4:]
            else:
                ok = p == want
            if not ok:
                raise AssertionError(
                    f"query {q!r}: counterfactual reported valid is predicted "
                    f"{p!r}, desired {want!r}"
                )
    for i, status in enumerate(explanations.status):
        label = explanations.queries.index[i]
        n_valid = int(valid[(frame["query"] == label).to_numpy()].sum())
        if status == "found" and n_valid == 0:
            raise AssertionError(f"query {label!r} is 'found' without a valid row")


def assert_constraints_hold(explainer, explanations, *, check_predicates=True):
    """Every returned counterfactual respects the explainer's constraints.

    Checked from raw values: features outside ``features_to_vary`` equal the
    query's; values lie in ``permitted_range`` (numeric interval or
    category set); ``monotonic`` features never move the wrong way;
    integer-valued training columns stay integers; categorical values were
    seen in training; user predicates accept the rows.

    Parameters
    ----------
    explainer : fitted CounterfactualExplainer
        The explainer whose constraint parameters are checked.
    explanations : CounterfactualExplanations
        Its output.
    check_predicates : bool, default=True
        Also re-run the user predicates on the returned rows.

    Raises
    ------
    AssertionError
        Naming the query, column and value.
    """
    frame, q_rows = _pairs(explanations)
    _check_constraints(
        explainer, frame, q_rows, explanations.feature_names, check_predicates
    )


def _check_constraints(
    explainer, frame, q_rows, names, check_predicates, only_changed=False
):
    """The checks of :func:`assert_constraints_hold` on aligned frames
    (``only_changed``: value checks on changed cells only)."""
    if len(frame) == 0:
        return
    vary = explainer.features_to_vary
    vary = set(names) if isinstance(vary, str) and vary == "all" else set(vary)
    ranges = explainer.permitted_range or {}
    mono = explainer.monotonic or {}
    seen = explainer.feature_ranges_
    cats = set(explainer.categorical_features_)
    for name in names:
        cf = frame[name]
        q = q_rows[name]
        numeric = name not in cats and is_numeric_dtype(cf.dtype)
        if numeric:
            cf_v = cf.to_numpy(dtype=float)
            q_v = q.to_numpy(dtype=float)
            changed = ~np.isclose(cf_v, q_v, rtol=0, atol=1e-9, equal_nan=True)
        else:
            cf_v = cf.to_numpy(dtype=object)
            q_v = q.to_numpy(dtype=object)
            changed = (cf_v != q_v) & ~(pd.isna(cf_v) & pd.isna(q_v))
        bad = np.zeros(len(frame), dtype=bool)
        why = ""
        if name not in vary:
            bad |= changed
            why = "frozen feature changed"
        checked = changed if only_changed else np.ones(len(frame), dtype=bool)
        if name in ranges and not bad.any():
            rng = ranges[name]
            if numeric:
                low, high = rng
                low = -np.inf if low is None else low
                high = np.inf if high is None else high
                bad |= checked & ((cf_v < low - 1e-9) | (cf_v > high + 1e-9))
            else:
                inside = np.isin(cf_v, np.asarray(list(rng), dtype=object))
                bad |= checked & ~inside
            why = f"outside permitted_range {rng!r}"
        if name in mono and not bad.any():
            sign = 1 if mono[name] in ("increasing", "increase", 1) else -1
            if numeric:
                bad |= changed & (sign * (cf_v - q_v) < 0)
            else:
                codes_cf = pd.Categorical(cf, dtype=cf.dtype).codes
                codes_q = pd.Categorical(q, dtype=cf.dtype).codes
                bad |= changed & (sign * (codes_cf - codes_q) < 0)
            why = f"moved against monotonic={mono[name]!r}"
        if not bad.any():
            if numeric and name in explainer.integer_features_:
                # the query's own value is admissible, whatever its precision
                bad |= changed & (np.abs(cf_v - np.round(cf_v)) > 1e-9)
                why = "integer column got a non-integer value"
            elif not numeric:
                known = np.asarray(seen[name], dtype=object)
                bad |= changed & ~np.isin(cf_v, known)
                why = "category not seen in training"
            if numeric and not bad.any():
                bad |= np.isnan(cf_v) & ~np.isnan(q_v)
                why = "a value was made missing"
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise AssertionError(
                f"query {frame['query'].iloc[r]!r}, column {name!r}: {why} "
                f"(query value {q_v[r]!r}, counterfactual value {cf_v[r]!r})"
            )
    if check_predicates and explainer.predicates is not None:
        preds = explainer.predicates
        preds = [preds] if callable(preds) else preds
        cf_frame = frame[names]
        for f in preds:
            try:
                ok = np.asarray(f(cf_frame, q_rows[names]), dtype=bool)
            except TypeError:
                ok = np.asarray(f(cf_frame), dtype=bool)
            if not ok.all():
                r = int(np.flatnonzero(~ok)[0])
                raise AssertionError(
                    f"query {frame['query'].iloc[r]!r}: predicate "
                    f"{getattr(f, '__name__', f)!r} rejects a counterfactual"
                )


def assert_semifactuals_valid(explainer, X, semifactuals, *, check_predicates=True):
    """Semi-factuals keep the prediction, change one feature, obey constraints.

    Checked from raw values: each row of ``semifactuals`` differs from its
    query in exactly the column named in ``feature``; the model predicts the
    query's class on it (re-run here); and the constraints hold as in
    :func:`assert_constraints_hold` for the changed value (the other
    columns are the query's own values, which may lie outside a permitted
    range).

    Parameters
    ----------
    explainer : fitted CounterfactualExplainer
        The explainer whose model and constraints are checked.
    X : DataFrame
        The queries given to :meth:`CounterfactualExplainer.semifactuals`
        (unique index labels).
    semifactuals : DataFrame
        Its output.
    check_predicates : bool, default=True
        Also re-run the user predicates on the returned rows.

    Raises
    ------
    AssertionError
        Naming the query and column.
    """
    if len(semifactuals) == 0:
        return
    names = list(explainer.feature_space_.names)
    if not hasattr(X, "columns"):
        X = pd.DataFrame(np.asarray(X), columns=names)
    pos = {label: i for i, label in enumerate(X.index)}
    if len(pos) != len(X):
        raise AssertionError("query index labels must be unique")
    frame = semifactuals.reset_index(drop=True)
    q_rows = X.iloc[[pos[q] for q in frame["query"]]].reset_index(drop=True)
    for r in range(len(frame)):
        differs = [
            c
            for c in names
            if not (
                frame.at[r, c] == q_rows.at[r, c]
                or (pd.isna(frame.at[r, c]) and pd.isna(q_rows.at[r, c]))
                or (
                    isinstance(q_rows.at[r, c], numbers.Number)
                    and np.isclose(float(frame.at[r, c]), float(q_rows.at[r, c]))
                )
            )
        ]
        if differs != [frame.at[r, "feature"]]:
            raise AssertionError(
                f"query {frame.at[r, 'query']!r}: semi-factual for "
                f"{frame.at[r, 'feature']!r} changes {differs}"
            )
    model_in = frame[names] if explainer.model_input_.kind == "frame" else None
    if model_in is None:
        model_in = frame[names].to_numpy()
        q_in = q_rows[names].to_numpy()
    else:
        q_in = q_rows[names]
    pred = np.asarray(explainer.estimator_.predict(model_in))
    q_pred = np.asarray(explainer.estimator_.predict(q_in))
    if getattr(explainer, "_task", None) == "regression":
        # a regressor's semi-factual keeps the prediction outside (or
        # inside) the desired range, as the query's is
        low, high = explainer._range()
        bad = in_range(pred, low, high) != in_range(q_pred, low, high)
    else:
        bad = pred != q_pred
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise AssertionError(
            f"query {frame.at[r, 'query']!r}: semi-factual for "
            f"{frame.at[r, 'feature']!r} is predicted {pred[r]!r}, the query "
            f"{q_pred[r]!r}"
        )
    _check_constraints(
        explainer, frame, q_rows, names, check_predicates, only_changed=True
    )
