"""Choosing the counterfactuals: diverse selection and the final step.

:func:`select_diverse` is the diversity criterion; :func:`finalize` turns
each query's pool of valid candidates into its ranked counterfactuals
(exploration, diverse pre-selection, post-hoc sparsity, final selection).
"""

import numpy as np

from skcfx.counterfactual._engine.candidates import pool_blocks, unique_pools
from skcfx.counterfactual._engine.refine import expand
from skcfx.counterfactual._engine.sparsity import sparsify

__all__ = ["finalize", "select_diverse", "select_diverse_grouped"]


def select_diverse(Z, cost, k, distance, diversity_weight, min_separation=0.0):
    """Greedy diverse selection of ``k`` rows from a pool of valid candidates.

    The first pick is the cheapest candidate. Each next pick minimises
    ``cost(c) - diversity_weight * min_{s in S} distance(c, s)`` over the
    candidates not yet picked and not identical to a picked one, where ``S``
    is the set picked so far (a maximal-marginal-relevance rule: close to the
    query, far from the others), among the candidates at least
    ``min_separation`` away from every pick (near-duplicates are never
    picked: fewer than ``k`` rows come back when the pool holds no more
    separated ones). Returns indices in pick order (rank).
    """
    p = Z.shape[0]
    if p == 0:
        return np.zeros(0, dtype=int)
    chosen = [int(np.argmin(cost))]
    nearest = distance(Z, Z[chosen[0]][None, :])
    while len(chosen) < min(k, p):
        score = cost - diversity_weight * nearest
        score[nearest <= max(1e-12, min_separation - 1e-12)] = np.inf  # near-duplicates
        score[chosen] = np.inf
        nxt = int(np.argmin(score))
        if not np.isfinite(score[nxt]):
            break
        chosen.append(nxt)
        nearest = np.minimum(nearest, distance(Z, Z[nxt][None, :]))
    return np.asarray(chosen, dtype=int)


def select_diverse_grouped(
    Z, cost, owner, n, k, distance, diversity_weight, min_separation=0.0
):
    """:func:`select_diverse` for the pools of ``n`` queries at once.

    ``Z`` (rows), ``cost`` and ``owner`` (each row's query, non-decreasing)
    list the pools one after the other, each in its own order. Runs of
    pools are padded into one (queries, P, d) array (at most
    ``BLOCK_ROWS`` padded rows) and picked together, one pick per step for
    every query still picking, with the same arithmetic per row as
    :func:`select_diverse`: the picks are the same. Returns, per query, the
    positions in ``Z`` of its picks in pick order.
    """
    counts = np.bincount(owner, minlength=n)
    starts = np.cumsum(counts) - counts
    out = [np.zeros(0, dtype=int) for _ in range(n)]
    for a, b in pool_blocks(counts, padded=True):
        lo, hi = starts[a], starts[b - 1] + counts[b - 1]
        if hi == lo:
            continue
        picks = _select_padded(
            Z[lo:hi],
            cost[lo:hi],
            counts[a:b],
            k,
            distance,
            diversity_weight,
            min_separation,
        )
        for i, p in zip(range(a, b), picks):
            out[i] = starts[i] + p
    return out


def _select_padded(Z, cost, counts, k, distance, diversity_weight, min_separation):
    """The diverse picks of consecutive pools of ``counts`` rows each,
    padded into one array; per pool its picks (positions in the pool)."""
    starts = np.cumsum(counts) - counts
    qs = np.flatnonzero(counts)
    out = [np.zeros(0, dtype=int) for _ in counts]
    slot = np.full(len(counts), -1)
    slot[qs] = np.arange(len(qs))
    owner = np.repeat(np.arange(len(counts)), counts)
    P, d = counts.max(), Z.shape[1]
    r_of, pos = slot[owner], np.arange(len(owner)) - starts[owner]
    Zp = np.zeros((len(qs), P, d))
    Zp[r_of, pos] = Z
    Cp = np.full((len(qs), P), np.inf)
    Cp[r_of, pos] = cost
    rows = np.arange(len(qs))
    picks = np.full((len(qs), min(k, P)), -1)
    picks[:, 0] = np.argmin(Cp, axis=1)
    taken = np.zeros((len(qs), P), dtype=bool)
    taken[rows, picks[:, 0]] = True
    nearest = distance(Zp, Zp[rows, picks[:, 0]][:, None, :])
    active = counts[qs] > 1
    close = max(1e-12, min_separation - 1e-12)
    for t in range(1, picks.shape[1]):
        a = np.flatnonzero(active)
        if len(a) == 0:
            break
        score = Cp[a] - diversity_weight * nearest[a]
        score[nearest[a] <= close] = np.inf  # near-duplicates
        score[taken[a]] = np.inf
        nxt = np.argmin(score, axis=1)
        ok = np.isfinite(score[np.arange(len(a)), nxt])
        active[a[~ok]] = False
        a, nxt = a[ok], nxt[ok]
        picks[a, t] = nxt
        taken[a, nxt] = True
        nearest[a] = np.minimum(nearest[a], distance(Zp[a], Zp[a, nxt][:, None, :]))
        active[a] &= counts[qs[a]] > t + 1
    for r, i in enumerate(qs):
        out[i] = picks[r][picks[r] >= 0]
    return out


def _pick(problem, pools, k, max_pool=None):
    """For every query, its pool's distinct rows, the ``max_pool`` cheapest
    (stable; with ``None`` all, in pool order), and from those ``k`` diverse
    ones: grouped over all queries
    (one cost call, one diverse selection); per query the rows in pick
    order."""
    d = problem.space.n_features
    pools = unique_pools(pools, d)
    sizes = np.array([len(p) for p in pools], dtype=np.intp)
    if sizes.sum() == 0:
        return pools
    Z = np.vstack([p for p in pools if len(p)])
    owner = np.repeat(np.arange(len(pools)), sizes)
    cost = problem.cost(Z, owner)
    if max_pool is not None:
        # each pool's rows by cost (stable), the cheapest ``max_pool`` kept
        order = np.lexsort((cost, owner))
        starts = np.cumsum(sizes) - sizes
        rank = np.arange(len(order)) - starts[owner[order]]
        order = order[rank < max_pool]
        Z, cost, owner = Z[order], cost[order], owner[order]
    picks = select_diverse_grouped(
        Z,
        cost,
        owner,
        len(pools),
        k,
        problem.space.distance,
        problem.diversity_weight,
        problem.min_separation,
    )
    return [Z[p] for p in picks]


def finalize(problem, pools, posthoc_sparsity=True, max_pool=200):
    """Pick, sparsify and rank the counterfactuals of every query.

    Parameters
    ----------
    pools : list of ndarray
        Valid candidates found per query.

    Returns
    -------
    results : list of ndarray
        Up to ``k`` counterfactuals per query, best first.
    """
    k = problem.k
    pools = expand(problem, pools, target=k + 1)
    pre = _pick(problem, pools, 2 * k, max_pool)
    if posthoc_sparsity and any(len(p) for p in pre):
        sizes = np.array([len(p) for p in pre], dtype=np.intp)
        Zall = np.vstack([p for p in pre if len(p)])
        owner = np.repeat(np.arange(len(pre)), sizes)
        Zsp = sparsify(problem, Zall, owner)
        # sparsified rows first; the originals stay as fall-backs so that k
        # distinct counterfactuals remain when several collapse into one
        both = np.concatenate([owner, owner])
        order = np.argsort(both, kind="stable")
        bounds = np.cumsum(2 * sizes)[:-1]
        pre = np.split(np.vstack([Zsp, Zall])[order], bounds)
    results = _pick(problem, pre, k)
    return [r.reshape(-1, problem.space.n_features) for r in results]
