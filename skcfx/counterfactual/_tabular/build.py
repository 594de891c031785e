"""From the final coded rows of every query to the result object.

The model is asked once more, on the final (rounded, decoded) rows, through
the oracle that decided validity during the search
(:meth:`~skcfx.counterfactual._engine.oracle.Oracle.outcome`, with exact
isolation of failing rows); constraint breaches are checked cell by cell,
and each row's distance to the nearest training row of its desired outcome
is measured.
"""

import time
import warnings

import numpy as np

from skcfx.counterfactual._base import NOT_FOUND, STATUS
from skcfx.counterfactual._tabular.explanations import CounterfactualExplanations
from skcfx.counterfactual._tabular.queries import oracle_of
from skcfx.exceptions import NoCounterfactualWarning

__all__ = ["build_explanations", "nearest_distance"]


def nearest_distance(explainer, Z, owner, groups):
    """Distance of each row to the nearest training row of its query's
    desired outcome (KD-tree over the distinct training rows, Manhattan
    distance in the L1 embedding, which is ``d`` times the mixed
    distance)."""
    space = explainer.feature_space_
    out = np.full(len(Z), np.inf)
    emb = space.embed(Z)
    for g, tree in explainer._plausibility_index.items():
        rows = np.array([r for r, i in enumerate(owner) if g in groups[i]], dtype=int)
        if len(rows) == 0:
            continue
        dist, _ = tree.query(emb[rows], k=1)
        out[rows] = np.minimum(out[rows], dist[:, 0] / space.n_features)
    out[~np.isfinite(out)] = np.nan
    return out


def _stack(results, d):
    Z = np.vstack(results) if results else np.zeros((0, d))
    owner = np.concatenate([np.full(len(r), i) for i, r in enumerate(results)])
    rank = np.concatenate([np.arange(len(r)) for r in results])
    return Z, owner.astype(int), rank.astype(int)


def _judge(explainer, queries, Z, owner, evaluated):
    """Prediction, probability, validity, cell breaches and predicate
    results of the final rows."""
    m = len(Z)
    out = oracle_of(explainer).outcome(Z, owner, queries, exact=True)
    cells = explainer.constraints_.cell_violations(queries.Zq[owner], Z)
    pred_ok = out["predicates_ok"]
    pred_ok = np.ones(m, dtype=bool) if pred_ok is None else pred_ok
    if evaluated:
        # rows from elsewhere: ``valid`` means "predicted as desired", and
        # breaches are reported in their own columns
        valid = out["reached"]
    else:
        # rows found by a search hold every constraint by construction
        valid = out["valid"] & ~cells.any(axis=1)
    prediction = out["pred"]
    if explainer._task == "classification":
        prediction = explainer.classes_[np.maximum(out["pred"], 0)]
        if out["failed"].any():
            prediction = prediction.astype(object)
            prediction[out["failed"]] = None
    return prediction, out["proba"], valid, cells, pred_ok


def _status(queries, has_valid, unreachable, evaluated):
    n = queries.n
    status = np.empty(n, dtype=object)
    reason = np.full(n, "", dtype=object)
    if evaluated:
        status[:] = STATUS["evaluated"]
        return status, reason
    feasible = queries.bounds.feasible
    status[:] = STATUS["exhausted"]
    status[unreachable] = STATUS["unreachable"]
    status[~feasible] = STATUS["infeasible"]
    reason[~feasible] = queries.bounds.reason[~feasible]
    status[has_valid] = STATUS["found"]
    status[queries.already] = STATUS["already"]
    status[queries.failed] = STATUS["failed"]
    reason[queries.failed] = queries.failure
    return status, reason


def _exact_status(status, reason, certificates):
    """Statuses of an exact search from its certificates."""
    for i, cert in certificates.items():
        text = cert["solver_status"]
        if text == "proved infeasible":
            status[i] = STATUS["infeasible"]
            reason[i] = "proved infeasible by the exact search"
        elif status[i] == STATUS["found"]:
            if text != "optimal":
                gap = (cert["objective"] - cert["bound"]) / max(
                    abs(cert["objective"]), 1e-12
                )
                reason[i] = f"feasible, gap {gap:.3g} (time limit)"
        else:
            reason[i] = text


def build_explanations(
    explainer,
    queries,
    results,
    *,
    unreachable=None,
    evaluated=False,
    start=None,
    certificates=None,
):
    """The :class:`CounterfactualExplanations` of ``queries`` whose final
    coded rows are ``results`` (one array per query, best first); an exact
    search passes its ``certificates`` (query position -> dict)."""
    space = explainer.feature_space_
    n = queries.n
    unreachable = np.zeros(n, dtype=bool) if unreachable is None else unreachable
    Z, owner, rank = _stack(results, space.n_features)
    if len(Z):
        prediction, proba, valid, cells, pred_ok = _judge(
            explainer, queries, Z, owner, evaluated
        )
        nearest = nearest_distance(explainer, Z, owner, queries.groups)
    else:
        classes = getattr(explainer, "classes_", np.zeros(0))
        prediction = np.zeros(0, dtype=classes.dtype)
        proba, nearest = np.zeros(0), np.zeros(0)
        valid, pred_ok = np.zeros(0, dtype=bool), np.ones(0, dtype=bool)
        cells = np.zeros((0, space.n_features), dtype=bool)
    has_valid = np.bincount(owner[valid], minlength=n) > 0
    status, reason = _status(queries, has_valid, unreachable, evaluated)
    certificate = None
    if certificates is not None:
        from skcfx.counterfactual._engine.methods.exact import certificate_frame

        _exact_status(status, reason, certificates)
        certificate = certificate_frame(certificates, queries.frame.index)
    missing = int(np.isin(status, NOT_FOUND).sum())
    if missing:
        warnings.warn(
            f"No valid counterfactual found for {missing} of {n} queries "
            "(see the explanation's status).",
            NoCounterfactualWarning,
            stacklevel=4,
        )
    return CounterfactualExplanations(
        queries=queries.frame,
        space=space,
        constraints=explainer.constraints_,
        query_codes=queries.Zq,
        codes=Z,
        owner=owner,
        rank=rank,
        prediction=prediction,
        probability=proba,
        valid=valid,
        cell_violations=cells,
        predicate_ok=pred_ok,
        nearest_distance=nearest,
        status=status,
        reason=reason,
        query_prediction=queries.prediction,
        desired=queries.desired,
        n_requested=explainer.n_counterfactuals,
        task=explainer._task,
        seconds=float("nan") if start is None else time.perf_counter() - start,
        certificate=certificate,
    )
