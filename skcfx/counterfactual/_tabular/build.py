"""From the final coded rows of every query to the result object.

The model is asked once more, on the final (rounded, decoded) rows, through
the oracle that decided validity during the search
(:meth:`~skcfx.counterfactual._engine.oracle.Oracle.outcome`, with exact
isolation of failing rows); constraint breaches are checked cell by cell,
and each row's distance to the nearest training row of its desired outcome
is measured (:func:`judge`). A search judges its rows chunk by chunk, where
it found them (in parallel workers too), and :func:`gather` puts the pieces
in order for :func:`build_explanations`.
"""

import time
import warnings

import numpy as np

from skcfx.counterfactual._base import NOT_FOUND, STATUS
from skcfx.counterfactual._tabular.explanations import CounterfactualExplanations
from skcfx.counterfactual._tabular.queries import oracle_of
from skcfx.exceptions import NoCounterfactualWarning

__all__ = ["build_explanations", "gather", "judge", "judge_results"]


def _stack(results, d):
    Z = np.vstack(results) if results else np.zeros((0, d))
    owner = np.concatenate([np.full(len(r), i) for i, r in enumerate(results)])
    rank = np.concatenate([np.arange(len(r)) for r in results])
    return Z, owner.astype(int), rank.astype(int)


def judge(oracle, manifold, goal, Z, owner, evaluated=False):
    """What the result reports of each final row ``Z[r]`` of query
    ``owner[r]`` of ``goal`` (:class:`~skcfx.counterfactual._tabular.queries.
    Queries`, or the :class:`~skcfx.counterfactual._tabular.queries.
    QueryChunk` a worker searched: a chunk's rows are judged where they were
    found, and the parent only gathers).

    Returns
    -------
    judged : dict of ndarray
        ``prediction``, ``probability``, ``valid``, ``cells`` (constraint
        breaches per cell), ``predicate_ok``, ``rows`` (with an SCM, the
        consequences of the interventions ``Z``; else ``Z``), ``group`` (the
        outcome group of each row) and ``nearest`` (distance to the nearest
        training row of the query's desired outcome, exact, KD-tree over the
        distinct training rows).
    """
    m = len(Z)
    out = oracle.outcome(Z, owner, goal, exact=True)
    Zq = goal.Zq[owner]
    cells = oracle.constraints.cell_violations(Zq, Z)
    rows = out["rows"]
    if oracle.scm is not None:
        down = oracle.scm.downstream(Zq, Z, rows)
        cells |= down & oracle.constraints.cell_violations(Zq, rows, frozen=False)
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
    if oracle.task == "classification":
        prediction = oracle.classes[np.maximum(out["pred"], 0)]
        if out["failed"].any():
            prediction = prediction.astype(object)
            prediction[out["failed"]] = None
    # the outcome group of each row (class index; 1 = in the desired range)
    group = out["pred"] if oracle.task == "classification" else out["reached"]
    nearest = manifold.knn_distance(rows, [goal.groups[i] for i in owner], k=1)
    return dict(
        prediction=prediction,
        probability=out["proba"],
        valid=valid,
        cells=cells,
        predicate_ok=pred_ok,
        rows=rows,
        group=group.astype(int),
        nearest=nearest,
    )


def judge_results(oracle, manifold, goal, results):
    """:func:`judge` of the final rows ``results`` (one array per query of
    ``goal``, best first); None for no rows."""
    Z, owner, _ = _stack(results, oracle.space.n_features)
    return judge(oracle, manifold, goal, Z, owner) if len(Z) else None


def gather(pieces, n_rows):
    """The judged rows of several chunks, in the order of one
    :func:`judge_results` over all queries: ``pieces`` holds, per chunk,
    the positions of its queries, their final rows (one array per query)
    and the chunk's :func:`judge_results`."""
    owners, parts = [], []
    for positions, results, judged in pieces:
        if judged is not None:
            sizes = [len(r) for r in results]
            owners.append(np.repeat(np.asarray(positions), sizes))
            parts.append(judged)
    if not parts:
        return None
    # each chunk's rows come query by query, best first: a stable sort on
    # the query position interleaves the chunks without changing the ranks
    order = np.argsort(np.concatenate(owners), kind="stable")
    assert len(order) == n_rows
    return {key: np.concatenate([p[key] for p in parts])[order] for key in parts[0]}


def _status(queries, has_valid, unreachable, evaluated, proved=None):
    n = queries.n
    status = np.empty(n, dtype=object)
    reason = np.full(n, "", dtype=object)
    if evaluated:
        status[:] = STATUS["evaluated"]
        return status, reason
    feasible = queries.bounds.feasible
    status[:] = STATUS["exhausted"]
    status[unreachable] = STATUS["unreachable"]
    if proved is not None:
        status[proved] = STATUS["infeasible"]
        reason[proved] = "proved infeasible by the model's own exact program"
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
    judged=None,
    proved=None,
):
    """The :class:`CounterfactualExplanations` of ``queries`` whose final
    coded rows are ``results`` (one array per query, best first); an exact
    search passes its ``certificates`` (query position -> dict), a heuristic
    the queries its seed programs ``proved`` infeasible; ``judged``:
    the rows' :func:`judge` already done (by the workers, chunk by chunk)."""
    space = explainer.feature_space_
    n = queries.n
    unreachable = np.zeros(n, dtype=bool) if unreachable is None else unreachable
    Z, owner, rank = _stack(results, space.n_features)
    rows = Z
    if len(Z):
        if judged is None:
            judged = judge(
                oracle_of(explainer), explainer._manifold, queries, Z, owner, evaluated
            )
        prediction, proba, valid = (
            judged["prediction"],
            judged["probability"],
            judged["valid"],
        )
        cells, pred_ok, rows = judged["cells"], judged["predicate_ok"], judged["rows"]
        group, nearest = judged["group"], judged["nearest"]
    else:
        classes = getattr(explainer, "classes_", np.zeros(0))
        prediction = np.zeros(0, dtype=classes.dtype)
        proba, nearest = np.zeros(0), np.zeros(0)
        valid, pred_ok = np.zeros(0, dtype=bool), np.ones(0, dtype=bool)
        cells = np.zeros((0, space.n_features), dtype=bool)
        group = np.zeros(0, dtype=int)
    has_valid = np.bincount(owner[valid], minlength=n) > 0
    status, reason = _status(queries, has_valid, unreachable, evaluated, proved)
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
        codes=rows,
        action_codes=Z if explainer._coded_scm is not None else None,
        manifold=explainer._manifold,
        groups=queries.groups,
        pred_group=group,
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
