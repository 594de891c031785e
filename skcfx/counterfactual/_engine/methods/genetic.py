"""Genetic search (DiCE's ``"genetic"`` method, vectorised over queries)."""

import numpy as np

from skcfx.counterfactual._engine.candidates import (
    BLOCK_ROWS,
    categorical_from_uniform,
    draw,
    pool_blocks,
    project,
    sample,
    single_changes,
)
from skcfx.counterfactual._engine.methods import register

__all__ = ["genetic_search"]

INVALID_PENALTY = 10.0  # fitness penalty of an invalid candidate


@register("genetic", n_candidates=100, max_rounds=40, fallback="random")
def _search(problem, context, queries, n_candidates, max_rounds):
    """Genetic search seeded with the nearest desired-outcome training rows
    (half a population of them per query, projected into its box) and, when
    the context has a seeder, each query's optimum of the model's own or a
    surrogate's program
    (see :mod:`skcfx.counterfactual._engine.exact.seeding`)."""
    from skcfx.counterfactual._engine.methods.kdtree import projected_neighbors

    seeds = None
    if context.index is not None and len(queries):
        seeds, _ = projected_neighbors(
            problem, context.index, queries, max(1, n_candidates // 2)
        )
    seeder = getattr(context, "seeder", None)
    if seeder is not None and len(queries):
        first = seeder.seeds(problem, queries)
        seeds = first if seeds is None else np.concatenate([first, seeds], axis=1)
        # queries the model's own program proved infeasible: nothing to search
        keep = ~problem.proved_infeasible[queries]
        queries, seeds = np.asarray(queries)[keep], seeds[keep]
    return genetic_search(
        problem,
        n_candidates=n_candidates,
        max_rounds=max_rounds,
        seeds=seeds,
        queries=queries,
    )


def genetic_search(
    problem, *, n_candidates=100, max_rounds=40, seeds=None, patience=8, queries=None
):
    """Evolve a population of candidates per query, all queries at once.

    Population of ``n_candidates`` rows per query, initialised with random
    sparse perturbations of the query and, when ``seeds`` is given, the
    nearest training rows of the desired class projected into the
    admissible region (as DiCE's genetic method does), and every one-feature
    change of the query on a grid. Fitness (lower is
    better) is ``cost + invalid * (10 + hinge loss)``, with ``cost`` the
    proximity and sparsity terms of :meth:`Problem.cost`. Each generation
    makes ``n_candidates`` children per query by binary tournament, uniform
    crossover, reset of genes to the query's value (probability 0.1, which
    favours sparse changes) and mutation (probability ``1/n_vary`` per gene:
    a Gaussian step of one MAD or a uniform redraw for numeric genes, a
    uniform redraw among the allowed categories for categorical ones),
    repairs them into the admissible region, scores them with one model call
    for the whole batch, and keeps the best ``n_candidates`` of parents and
    children. A query stops after ``patience`` generations without
    improvement once it has ``k`` valid candidates.

    ``queries`` restricts the search to those query indices (default: every
    feasible query); ``seeds`` is then aligned with ``queries``.

    Returns
    -------
    pools : list of ndarray, every distinct valid candidate seen per query.
    """
    bounds = problem.bounds
    n, d = problem.Zq.shape
    P = n_candidates
    if queries is None:
        qidx = np.flatnonzero(bounds.feasible)
        if seeds is not None:
            seeds = seeds[qidx]
    else:
        qidx = np.asarray(queries, dtype=int)
    pools = [[] for _ in range(n)]
    if len(qidx) == 0:
        return [np.zeros((0, d)) for _ in range(n)]

    pop = _initial_population(problem, qidx, P, seeds)
    fit, valid, loss = _fitness(problem, pop, qidx)
    seen = np.zeros(n, dtype=int)  # valid rows archived per query, repeats too
    seen[qidx] += valid.sum(axis=1)
    archived, compacted = _archive(pools, pop, valid, qidx), 0
    hopeless = problem.note_progress(qidx, loss, valid)
    keep = np.argsort(fit, axis=1, kind="stable")[:, :P]
    pop = np.take_along_axis(pop, keep[..., None], axis=1)
    fit = np.take_along_axis(fit, keep, axis=1)

    best = np.full(n, np.inf)
    best[qidx] = fit.min(axis=1)
    stale = np.zeros(n, dtype=int)
    active = ~hopeless
    varying = bounds.varying[qidx]
    p_mut = 1.0 / np.maximum(varying.sum(axis=1), 1)
    for _ in range(max_rounds):
        if not active.any():
            break
        a = np.flatnonzero(active)
        qa = qidx[a]
        popa, fita = pop[a], fit[a]
        # offspring drawn in runs of queries (each query's random stream is
        # its own, so the runs change nothing but the memory in use)
        child = np.concatenate(
            [
                _offspring(problem, qa[r], popa[r], fita[r], varying[a][r], p_mut[a][r])
                for r in _runs(len(a), P * d)
            ]
        )
        cfit, cvalid, closs = _fitness(problem, child, qa)
        archived += _archive(pools, child, cvalid, qa)
        seen[qa] += cvalid.sum(axis=1)
        if archived > max(BLOCK_ROWS, 2 * compacted):
            # the archive without repeats, so far (the result is the same)
            pools = [[u] if len(u) else [] for u in _unique(pools, d)]
            archived = compacted = sum(len(p[0]) for p in pools if p)
        hopeless = problem.note_progress(qa, closs, cvalid)
        # (mu + lambda) replacement
        allz = np.concatenate([popa, child], axis=1)
        allf = np.concatenate([fita, cfit], axis=1)
        keep = np.argsort(allf, axis=1, kind="stable")[:, :P]
        pop[a] = np.take_along_axis(allz, keep[..., None], axis=1)
        fit[a] = np.take_along_axis(allf, keep, axis=1)
        newbest = fit[a].min(axis=1)
        improved = newbest < best[qa] - 1e-9
        stale[qa] = np.where(improved, 0, stale[qa] + 1)
        best[qa] = np.minimum(best[qa], newbest)
        done = ((stale[qa] >= patience) & (seen[qa] >= problem.k)) | hopeless
        active[a[done]] = False
    return _unique(pools, d)


def _initial_population(problem, qidx, P, seeds):
    """Sparse random perturbations of each query, the seeds (projected
    training rows, aligned with ``qidx``) in the second half, and every
    one-feature change of the query (the sparsest candidates)."""
    d = problem.Zq.shape[1]
    U = draw(problem.rngs, qidx, (P, 2 * d + 1))
    pop = sample(
        problem,
        qidx,
        P,
        U[..., :d],
        U[..., d : 2 * d],
        U[..., 2 * d],
        max_change=3,
        power=1,
    )
    if seeds is not None:
        take = min(seeds.shape[1], P // 2)
        if take:
            pop[:, P - take :, :] = seeds[:, :take, :]
    # the best ``n_candidates`` of both form the first population
    return np.concatenate([pop, single_changes(problem, qidx)], axis=1)


def _offspring(problem, qa, popa, fita, varying, p_mut):
    """One child per population slot: binary tournaments, uniform
    crossover, reset to the query's value (probability 0.1), mutation
    (a Gaussian step of one MAD or a uniform redraw; a redrawn allowed
    category), repaired into the admissible region."""
    space, bounds = problem.space, problem.bounds
    q, P, d = popa.shape
    U = draw(problem.rngs, qa, (P, 4 + 5 * d))
    N = draw(problem.rngs, qa, (P, d), kind="normal")
    rows = np.arange(q)[:, None]
    i1, i2, i3, i4 = ((U[..., c] * P).astype(int) for c in range(4))
    pa = np.where(fita[rows, i1] <= fita[rows, i2], i1, i2)
    pb = np.where(fita[rows, i3] <= fita[rows, i4], i3, i4)
    A, B = popa[rows, pa], popa[rows, pb]
    u_cross, u_reset, u_mut, u_kind, u_val = (
        U[..., 4 + k * d : 4 + (k + 1) * d] for k in range(5)
    )
    child = np.where(u_cross < 0.5, A, B)
    child = np.where(u_reset < 0.1, problem.Zq[qa][:, None, :], child)
    mutate = (u_mut < p_mut[:, None, None]) & varying[:, None, :]
    lo, hi = bounds.lo[qa][:, None, :], bounds.hi[qa][:, None, :]
    new = np.where(u_kind < 0.7, child + N * space.mad, lo + u_val * (hi - lo))
    for j in space.categorical:
        # a redrawn category, for the mutated cells only
        r, c = np.nonzero(mutate[..., j])
        if len(r):
            allowed = bounds.allowed[j][qa[r]]
            codes = categorical_from_uniform(allowed, u_val[r, c, j][:, None])
            new[r, c, j] = codes[:, 0]
    child = np.where(mutate, new, child)
    return project(child, bounds, space, qa, u_val)


def _fitness(problem, Z, qidx):
    q, m, d = Z.shape
    owner = np.repeat(qidx, m)
    flat = Z.reshape(-1, d)
    valid, loss = problem.evaluate(flat, owner)
    cost = problem.cost(flat, owner)
    fit = cost + (~valid) * (INVALID_PENALTY + loss)
    return fit.reshape(q, m), valid.reshape(q, m), loss.reshape(q, m)


def _archive(pools, Z, valid, qidx):
    """Add each query's valid rows to its archive; the number added."""
    for row, i in enumerate(qidx):
        if valid[row].any():
            pools[i].append(Z[row][valid[row]])
    return int(valid.sum())


def _runs(q, width):
    """Slices of ``q`` queries into runs whose (run, width) arrays hold at
    most about ``8 * BLOCK_ROWS`` numbers."""
    step = max(1, BLOCK_ROWS * 8 // max(width, 1))
    return [slice(i, i + step) for i in range(0, q, step)]


def _unique(pools, d):
    """Each query's archive without repeats, its rows in lexicographic
    order: a stable sort of many queries' rows at once (query first; runs
    of up to ``BLOCK_ROWS`` rows), not a ``np.unique`` per query."""
    parts = [np.vstack(p) if p else np.zeros((0, d)) for p in pools]
    sizes = np.array([len(x) for x in parts], dtype=np.intp)
    out = []
    for a, b in pool_blocks(sizes):
        if sizes[a:b].sum() == 0:
            out.extend(parts[a:b])
            continue
        Z = np.vstack(parts[a:b])
        owner = np.repeat(np.arange(b - a), sizes[a:b])
        order = np.lexsort(np.vstack([Z.T[::-1], owner]))
        Z, owner = Z[order], owner[order]
        new = np.ones(len(Z), dtype=bool)
        same = (Z[1:] == Z[:-1]) | (np.isnan(Z[1:]) & np.isnan(Z[:-1]))
        new[1:] = ~same.all(axis=1) | (owner[1:] != owner[:-1])
        Z, owner = Z[new], owner[new]
        out.extend(np.split(Z, np.cumsum(np.bincount(owner, minlength=b - a))[:-1]))
    return out
