"""Exact search (``method="exact"``): the optimal counterfactuals of linear
models and tree ensembles, with a certificate per query.

For a linear model each query is one mixed-integer linear program (see
:mod:`skcfx.counterfactual._engine.exact`) solved by HiGHS through
:func:`scipy.optimize.milp` within a time limit. The optimum is re-predicted
by the real model (a margin ``eps`` makes strict inequalities strict; if
rounding ever breaks validity, ``eps`` grows a hundredfold and the query is
solved again). The next counterfactuals are the next-best solutions that
keep at least one numeric feature of each earlier solution's changed set
at the query's value or give one of its categorical features another
category (a cut per solution: none is an earlier one with the same or
more changes; on a continuous column an earlier solution's values cannot
be pinned, so the cut is on its set of features, but another category is
another answer). For a tree ensemble each query is a best-first branch
and bound over the trees' thresholds (``tree_search.py``), which returns
its answers cheapest first, each accepted by the real model, changing
another set of features (or a categorical one to another category), and
none an earlier answer with more changes (its changes at the same values,
and others). For "any class but the query's" of a multi-class model, one
program or search per candidate class, the best kept.
"""

import time

import numpy as np
import pandas as pd

from skcfx.counterfactual._engine.exact.encoding import InputMap
from skcfx.counterfactual._engine.exact.ensembles import Ensemble, is_tree_ensemble
from skcfx.counterfactual._engine.exact.formulation import QueryFormulation
from skcfx.counterfactual._engine.exact.heads import Head
from skcfx.counterfactual._engine.exact.tree_search import TreeSearch, option_inputs
from skcfx.counterfactual._engine.methods import register

__all__ = ["ExactModel", "exact_search", "solve_unverified", "unreachable_linear"]

_EPS = 1e-7


class ExactModel:
    """What the exact search reads off the fitted model, once, in ``fit``.

    Parameters
    ----------
    model : fitted estimator (the user's, possibly a Pipeline)
    space : FeatureSpace
    template : ndarray (d,)
        A coded training row (one input row for the tree ensemble's
        constant).

    Attributes
    ----------
    kind : {"linear", "trees"}
    head : Head or Ensemble
    """

    def __init__(self, model, space, template):
        self.space = space
        self.input_map = im = InputMap(model, space)
        if is_tree_ensemble(im.head):
            self.kind = "trees"
            row = space.decode(template[None, :])
            phi0 = im.preprocess(row)
            # a model that encodes its own input is called on what it takes
            encodes = im.own is not None or im.inner is not None
            self.head = Ensemble(im.head, phi0, im.head_input(row) if encodes else None)
            if im.offset is not None:
                self.head.apply_threshold(im.head, im.offset, im.response)
        else:
            self.kind = "linear"
            self.head = Head(im.head, im.offset)


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
    return [t for t in range(head.n_classes()) if t != problem.orig[i]]


def _score_bounds(exact, problem, queries, c):
    """For each query, the largest value of ``c @ scores`` over its
    admissible box (a relaxation: grids and the query's own value ignored,
    so never below the true largest value) and the sum of the absolute
    terms (for a rounding tolerance)."""
    im, head, b = exact.input_map, exact.head, problem.bounds
    space = problem.space
    Zq = problem.Zq[queries]
    varying = b.varying[queries]
    w = np.asarray(c, dtype=float) @ head.W  # the combined score's weights
    coef = w @ im.A  # per coded column
    best = np.full(len(queries), float(w @ im.base + c @ head.b))
    size = np.abs(best)
    for j in space.numeric:
        if coef[j] == 0:
            continue
        lo, hi = b.lo[queries, j], b.hi[queries, j]
        term = np.where(
            varying[:, j], np.maximum(coef[j] * lo, coef[j] * hi), coef[j] * Zq[:, j]
        )
        best += term
        size += np.abs(term)
    for j, T in im.tables.items():
        gain = T @ w  # what each category adds
        own = gain[Zq[:, j].astype(int)]
        allowed = b.allowed[j][queries]
        top = np.where(allowed, gain[None, :], -np.inf).max(axis=1)
        term = np.where(varying[:, j], top, own)
        best += term
        size += np.abs(np.where(np.isfinite(term), term, 0.0))
    return best, size


def unreachable_linear(exact, problem, queries):
    """Queries (a mask over ``queries``) that no row in their admissible box
    brings to the desired outcome, proved from per-column bounds of the
    linear model's scores (each score is a sum of one term per column):
    microseconds per query where the MILP takes milliseconds. Sound, not
    complete: a query not proved here may still be infeasible."""
    head = exact.head
    queries = np.asarray(queries, dtype=int)
    proved = np.zeros(len(queries), dtype=bool)
    if exact.kind != "linear" or not len(queries):
        return proved
    K = len(head.W)
    cache = {}

    def short(c, level):  # largest c @ scores below ``level``, with margin
        key = tuple(np.round(c, 12))
        if key not in cache:
            cache[key] = _score_bounds(exact, problem, queries, np.asarray(c))
        best, size = cache[key]
        return best < level - 1e-9 * (1.0 + size)

    if head.rule == "value":
        low = np.asarray(problem.low, dtype=float)[queries]
        high = np.asarray(problem.high, dtype=float)[queries]
        up, down = np.ones(1), -np.ones(1)
        return short(up, low) | short(down, -high)
    misses = {}  # target -> queries that cannot reach it
    for t in range(head.n_classes()):
        if head.rule == "sign":
            misses[t] = short(np.ones(1) if t == 1 else -np.ones(1), 0.0)
        else:
            miss = np.zeros(len(queries), dtype=bool)
            for k in range(K):
                if k != t:
                    c = np.zeros(K)
                    c[t], c[k] = 1.0, -1.0
                    miss |= short(c, 0.0)
            misses[t] = miss
    for r, i in enumerate(queries):
        proved[r] = all(misses[t][r] for t in _targets(exact, problem, i))
    return proved


# seeds solve the program with gridded columns relaxed, presolved (False:
# on the grid, as the exact search; benchmarks/bench_seeds.py compares them)
_RELAX_SEEDS = True


def _formulate(exact, problem, i, target, eps, previous=(), relax_grid=False):
    form = QueryFormulation(exact, problem, i, eps, relax_grid)
    if form.infeasible:
        return None
    scores = exact.head.outputs(form.phi)
    exact.head.decide(
        form.milp,
        scores,
        target,
        eps,
        low=problem.low[i],
        high=problem.high[i],
        margin=eps if eps > _EPS else 0.0,  # a range's: after a rounding miss
    )
    for row in previous:
        form.no_good(row)
    return form


def solve_unverified(
    exact, problem, i, time_limit, max_work=None, inputs=None, proof=False
):
    """The cheapest row that ``exact``'s model (a surrogate, say) gives the
    desired outcome, not checked against the real model (a seed); None
    when there is none within ``time_limit`` (for a tree ensemble with
    ``max_work``, that many leaf tests instead, a deterministic budget;
    then the cheapest candidate queued; ``inputs``: the query's entry of
    :func:`option_inputs`, computed for a whole batch at once). With
    ``proof``, ``(row, proved)``: ``proved`` when every target's program
    was proved infeasible (no row at all reaches the desired outcome)."""
    best, best_cost = None, np.inf
    proved = True
    for t in _targets(exact, problem, i):
        if exact.kind == "trees":
            search = TreeSearch(
                exact.head, exact.input_map, problem, i, t, False, inputs
            )
            limit = np.inf if max_work is not None else time_limit
            rows, status, _ = search.run(1, limit, max_work)
            proved &= status == "proved infeasible"
            row = rows[0] if rows else None
            cost = problem.cost(row[None], np.array([i]))[0] if rows else np.inf
        else:
            # gridded columns relaxed (rounded after): a seed need not be
            # optimal on the grid, and the relaxed program is ~6x cheaper
            form = _formulate(exact, problem, i, t, _EPS, relax_grid=_RELAX_SEEDS)
            if form is None:
                continue
            # with HiGHS's presolve (~2x faster here; a status it leaves
            # undecided, "infeasible or unbounded", proves nothing)
            res = form.milp.solve(time_limit=time_limit, presolve=_RELAX_SEEDS)
            proved &= res.status == 2
            row = form.row(res.x) if res.x is not None else None
            cost = res.fun if res.x is not None else np.inf
        if row is not None and cost < best_cost:
            best, best_cost = row, cost
    return (best, proved) if proof else best


def _solve_target(exact, problem, i, target, previous, time_limit):
    """Best row for one target class (None for regression); returns
    ``(row or None, objective, bound, certificate)``."""
    eps = _EPS
    for _ in range(3):
        form = _formulate(exact, problem, i, target, eps, previous)
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


def _combine(found):
    """The query's certificate from the per-target results ``found``:
    ``(rows, objective, bound, status)`` each."""
    objectives = [f[1] for f in found]
    best = int(np.argmin(objectives))
    certs = [f[3] for f in found]
    if not found[best][0]:
        status = (
            "proved infeasible"
            if all(c == "proved infeasible" for c in certs)
            else next(c for c in certs if c != "proved infeasible")
        )
    else:
        done = all(c in ("optimal", "proved infeasible") for c in certs)
        status = "optimal" if done else "feasible"
    bound = float(np.nanmin([f[2] for f in found]))
    return dict(solver_status=status, objective=objectives[best], bound=bound)


def _left(deadline, floor=1e-3):
    """Seconds left before ``deadline`` (at least ``floor``: HiGHS given a
    millisecond still reports what it has)."""
    return max(deadline - time.perf_counter(), floor)


def _solve_linear(exact, problem, i, targets, deadline):
    rows, certificate = [], None
    for rank in range(problem.k):
        if rank and time.perf_counter() >= deadline:
            break  # the next solutions only while the query's time lasts
        found = [
            _solve_target(exact, problem, i, t, rows, _left(deadline)) for t in targets
        ]
        if rank == 0:
            certificate = _combine(
                [([f[0]] if f[0] is not None else [], *f[1:]) for f in found]
            )
        best = int(np.argmin([f[1] for f in found]))
        if found[best][0] is None:
            break
        rows.append(found[best][0])
    return rows, certificate


def _solve_trees(exact, problem, i, targets, deadline, inputs=None):
    found, solutions = [], []
    for t in targets:
        search = TreeSearch(exact.head, exact.input_map, problem, i, t, True, inputs)
        rows, status, bound = search.run(problem.k, _left(deadline, 0.0))
        cost = problem.cost(np.vstack(rows), np.full(len(rows), i)) if rows else []
        objective = float(cost[0]) if rows else np.inf
        if bound is None:  # proved: the first row's cost, or infeasible
            bound = objective
        found.append((rows, objective, float(bound), status))
        solutions.extend(zip(cost, range(len(rows)), [t] * len(rows), rows))
    certificate = _combine(found)
    # the k cheapest over targets, each changing another set of columns (or
    # a categorical one to another category) and none an earlier one with
    # more changes
    rows, patterns, keys = [], [], set()
    changed = problem.space.changed
    categorical = problem.space.is_categorical
    for _, _, _, Z in sorted(solutions, key=lambda s: (s[0], s[1], s[2])):
        pattern = changed(problem.Zq[i][None, :], Z[None, :])[0]
        extends = any(
            (p <= pattern).all() and np.array_equal(Z[p], P[p])
            for p, P in zip(patterns, rows)
        )
        key = (pattern.tobytes(), Z[pattern & categorical].tobytes())
        if key not in keys and not extends:
            keys.add(key)
            patterns.append(pattern)
            rows.append(Z)
        if len(rows) >= problem.k:
            break
    return rows, certificate


def _solve_query(exact, problem, i, time_limit, inputs=None):
    targets = _targets(exact, problem, i)
    deadline = time.perf_counter() + time_limit  # the query's, all targets
    if exact.kind == "trees":
        rows, certificate = _solve_trees(exact, problem, i, targets, deadline, inputs)
    else:
        rows, certificate = _solve_linear(exact, problem, i, targets, deadline)
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
    inputs = {}
    if exact.kind == "trees":  # the model's preprocessing, once for the batch
        inputs = option_inputs(exact.head, exact.input_map, problem, queries)
    # a linear model's hopeless queries, proved at once without a program
    proved = unreachable_linear(exact, problem, queries)
    for i, hopeless in zip(queries, proved):
        if hopeless:
            problem.certificates[i] = dict(
                solver_status="proved infeasible", objective=np.inf, bound=np.inf
            )
            continue
        pools[i], problem.certificates[i] = _solve_query(
            exact, problem, i, time_limit, inputs.get(i)
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
