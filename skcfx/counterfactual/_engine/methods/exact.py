"""Exact search (``method="exact"``): the optimal counterfactuals of linear
models and tree ensembles, with a certificate per query.

Each query is one mixed-integer linear program (see
:mod:`skcfx.counterfactual._engine.exact`) solved by HiGHS through
:func:`scipy.optimize.milp` within a time limit. The optimum is re-predicted
by the real model (a margin ``eps`` makes strict inequalities strict; if
rounding ever breaks validity, ``eps`` grows a hundredfold and the query is
solved again). The next counterfactuals are the next-best solutions that
change a different set of features (a no-good cut on the changed-feature
pattern per solution). For "any class but the query's" of a multi-class
model, one program per candidate class, the best kept.
"""

import numpy as np
import pandas as pd

from skcfx.counterfactual._engine.exact.encoding import InputMap
from skcfx.counterfactual._engine.exact.formulation import QueryFormulation
from skcfx.counterfactual._engine.exact.heads import Head
from skcfx.counterfactual._engine.methods import register

__all__ = ["ExactModel", "exact_search", "solve_unverified"]

_EPS = 1e-7


class ExactModel:
    """What the exact search reads off the fitted model, once, in ``fit``.

    Parameters
    ----------
    model : fitted estimator (the user's, possibly a Pipeline)
    space : FeatureSpace
    template : ndarray (d,)
        A coded training row (the values of the other columns when one
        column's inputs are computed exactly).
    """

    def __init__(self, model, space, template):
        self.space = space
        self.input_map = im = InputMap(model, space)
        frame = space.decode(template[None, :])
        self.head = Head(im.head, im, im.preprocess(frame))
        self.cuts = {}
        self.category_inputs = {}
        if self.head.kind != "trees":
            return
        grid = []
        for f, thr in self.head.splits:
            j = im.single_column(f)
            if j is not None and not space.is_categorical[j]:
                if space.decimals[j] is not None:
                    grid.append((f, thr))
        for key, (_, N, increasing) in zip(grid, im.grid_cuts(grid, frame)):
            self.cuts[key] = (N, increasing)
        for j in space.categorical:
            K = len(space.categories[j])
            Z = np.repeat(template[None, :], K, axis=0)
            Z[:, j] = np.arange(K)
            self.category_inputs[j] = im.preprocess(space.decode(Z))


def _certificate(res):
    if res.status == 0:
        return "optimal"
    if res.status == 2:
        return "proved infeasible"
    if res.x is not None:
        return "feasible"
    if res.status == 1:
        return "no solution within time limit"
    return f"solver: {res.message}"


def _targets(exact, problem, i):
    """The class indices to try for query ``i`` (``[None]``: a range)."""
    head = exact.head
    if problem.low is not None and head.rule == "value":
        return [None]
    if problem.target[i] >= 0:
        return [int(problem.target[i])]
    if head.kind == "trees":
        n_classes = len(head.const)
    else:
        n_classes = 2 if head.rule == "sign" else len(head.W)
    return [t for t in range(n_classes) if t != problem.orig[i]]


def _formulate(exact, problem, i, phi_q, target, eps, previous=()):
    form = QueryFormulation(exact, problem, i, eps, phi_q)
    if form.infeasible:
        return None
    scores = exact.head.outputs(form.milp, form.phi, form.above)
    exact.head.decide(
        form.milp, scores, target, eps, low=problem.low[i], high=problem.high[i]
    )
    form.order_splits()
    for row in previous:
        form.no_good(row)
    return form


def solve_unverified(exact, problem, i, phi_q, time_limit):
    """The cheapest row that ``exact``'s model (a surrogate, say) gives the
    desired outcome, not checked against the real model (a seed); None
    when there is none within ``time_limit``."""
    best, best_cost = None, np.inf
    for t in _targets(exact, problem, i):
        form = _formulate(exact, problem, i, phi_q, t, _EPS)
        if form is None:
            continue
        res = form.milp.solve(time_limit=time_limit)
        if res.x is not None and res.fun < best_cost:
            best, best_cost = form.row(res.x), res.fun
    return best


def _solve_target(exact, problem, i, phi_q, target, previous, time_limit):
    """Best row for one target class (None for regression); returns
    ``(row or None, objective, bound, certificate)``."""
    eps = _EPS
    for _ in range(3):
        form = _formulate(exact, problem, i, phi_q, target, eps, previous)
        if form is None:
            return None, np.inf, np.inf, "proved infeasible"
        res = form.milp.solve(time_limit=time_limit)
        bound = getattr(res, "mip_dual_bound", None)
        bound = np.inf if res.status == 2 else (np.nan if bound is None else bound)
        if res.x is None:
            return None, np.inf, bound, _certificate(res)
        Z = form.row(res.x)
        valid, _ = problem.evaluate(Z[None, :], np.array([i]))
        if valid[0]:
            return Z, float(res.fun), float(bound), _certificate(res)
        eps *= 100.0  # a strict inequality met only up to rounding
    return None, np.inf, np.nan, "not valid after rounding"


def _solve_query(exact, problem, i, phi_q, time_limit):
    n_classes = len(exact.head.const) if exact.head.kind == "trees" else None
    if problem.low is not None and exact.head.rule == "value":
        targets = [None]
    elif problem.target[i] >= 0:
        targets = [int(problem.target[i])]
    else:
        n_classes = n_classes or (2 if exact.head.rule == "sign" else len(exact.head.W))
        targets = [t for t in range(n_classes) if t != problem.orig[i]]
    rows, certificate = [], None
    for rank in range(problem.k):
        found = [
            _solve_target(exact, problem, i, phi_q, t, rows, time_limit)
            for t in targets
        ]
        objectives = [f[1] for f in found]
        best = int(np.argmin(objectives))
        if rank == 0:
            certs = [f[3] for f in found]
            if found[best][0] is None:
                status = (
                    "proved infeasible"
                    if all(c == "proved infeasible" for c in certs)
                    else next(c for c in certs if c != "proved infeasible")
                )
            else:
                done = all(c in ("optimal", "proved infeasible") for c in certs)
                status = "optimal" if done else "feasible"
            bound = float(np.nanmin([f[2] for f in found]))
            certificate = dict(
                solver_status=status, objective=objectives[best], bound=bound
            )
        if found[best][0] is None:
            break
        rows.append(found[best][0])
    d = problem.Zq.shape[1]
    return (np.vstack(rows) if rows else np.zeros((0, d))), certificate


def exact_search(problem, context, queries, time_limit=10.0):
    """Optimal counterfactuals of ``queries`` (see the module docstring).

    Returns
    -------
    pools : list of ndarray
        Per query up to ``k`` rows, the optimum first; the certificates go
        to ``problem.certificates`` (query index -> dict with
        ``solver_status``, ``objective`` and ``bound``).
    """
    exact = context.exact
    d = problem.Zq.shape[1]
    pools = [np.zeros((0, d)) for _ in range(problem.n)]
    if len(queries) == 0:
        return pools
    phi = exact.input_map.preprocess(problem.space.decode(problem.Zq[queries]))
    for row, i in enumerate(queries):
        pools[i], problem.certificates[i] = _solve_query(
            exact, problem, i, phi[row], time_limit
        )
    return pools


@register("exact", n_candidates=None, max_rounds=1, fallback=None, finalize=False)
def _search(problem, context, queries, n_candidates, max_rounds):
    return exact_search(problem, context, queries, time_limit=context.time_limit)


def certificate_frame(certificates, index):
    """Per-query certificates as a DataFrame (``gap`` relative to the
    objective; NaN where no query was solved)."""
    rows = [certificates.get(i) or {} for i in range(len(index))]
    frame = pd.DataFrame(rows, index=index).reindex(
        columns=["solver_status", "objective", "bound"]
    )
    obj, bound = frame["objective"].astype(float), frame["bound"].astype(float)
    frame["gap"] = np.where(
        np.isfinite(obj) & np.isfinite(bound),
        (obj - bound) / np.maximum(np.abs(obj), 1e-12),
        np.nan,
    )
    return frame
