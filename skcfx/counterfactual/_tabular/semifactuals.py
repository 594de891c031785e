"""Semi-factuals ("even if") of the tabular explainer, as a DataFrame."""

import numpy as np
import pandas as pd

from skcfx.counterfactual._engine.semifactual import semifactual_search
from skcfx.counterfactual._tabular.display import fmt
from skcfx.counterfactual._tabular.queries import make_problem, prepare

__all__ = ["semifactual_frame"]


def describe_change(space, j, old, new, dist):
    """Readable text of one feature's change, with its unit."""
    name = space.names[j]
    if space.is_categorical[j]:
        cats = space.categories[j]
        return f"{name} {fmt(cats[int(old)])} -> {fmt(cats[int(new)])}"
    dec = space.decimals[j]
    sign = "+" if new >= old else "-"
    a, b = fmt(float(old), dec), fmt(float(new), dec)
    return f"{name} {a} -> {b} ({sign}{dist:.2f} MAD)"


def semifactual_frame(explainer, X, n_grid):
    """See :meth:`CounterfactualExplainer.semifactuals`."""
    queries = prepare(explainer, X)
    space = explainer.feature_space_
    Zq = queries.Zq
    problem = make_problem(explainer, queries)
    Z, owner, feature, gain = semifactual_search(problem, n_grid=n_grid)
    dist = np.abs(Z[np.arange(len(Z)), feature] - Zq[owner, feature])
    dist = np.where(space.is_categorical[feature], 1.0, dist / space.mad[feature])
    # strongest "even if" first: the change that brings the model closest
    # to the desired outcome while keeping the prediction, then the larger
    # change (a change that barely moves the model is a weak "even if")
    order = np.lexsort((feature, -dist, -np.round(gain, 12), owner))
    Z, owner, feature, gain, dist = (a[order] for a in (Z, owner, feature, gain, dist))
    rank = np.zeros(len(owner), dtype=int)
    for i in np.unique(owner):
        rank[owner == i] = np.arange((owner == i).sum())
    rows = space.decode(Z)
    if len(rows):
        model = explainer.estimator_
        prediction = np.asarray(model.predict(explainer.model_input_(rows)))
    else:
        classes = getattr(explainer, "classes_", np.zeros(0))  # none: regressor
        prediction = np.zeros(0, dtype=classes.dtype)
    labels = queries.frame.index
    out = pd.DataFrame(
        {
            "query": [labels[i] for i in owner],
            "rank": rank,
            "feature": [space.names[j] for j in feature],
        }
    )
    out = pd.concat([out, rows.reset_index(drop=True)], axis=1)
    out["change"] = [
        describe_change(space, j, Zq[i, j], z[j], dd)
        for i, j, z, dd in zip(owner, feature, Z, dist)
    ]
    out["distance"] = dist
    out["prediction"] = prediction
    out["margin_gain"] = gain
    return out
