"""Choosing the counterfactuals: diverse selection and the final step.

:func:`select_diverse` is the diversity criterion; :func:`finalize` turns
each query's pool of valid candidates into its ranked counterfactuals
(exploration, diverse pre-selection, post-hoc sparsity, final selection).
"""

import numpy as np

from skcfx.counterfactual._engine.candidates import unique_rows
from skcfx.counterfactual._engine.refine import expand
from skcfx.counterfactual._engine.sparsity import sparsify

__all__ = ["finalize", "select_diverse"]


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
    space = problem.space
    pools = expand(problem, pools, target=k + 1)
    pre, owners = [], []
    for i, pool in enumerate(pools):
        pool = unique_rows(pool)
        if pool.shape[0] == 0:
            pre.append(pool)
            continue
        owner = np.full(pool.shape[0], i)
        cost = problem.cost(pool, owner)
        keep = np.argsort(cost, kind="stable")[:max_pool]
        pool, cost = pool[keep], cost[keep]
        dist = space.distance
        sel = select_diverse(
            pool, cost, 2 * k, dist, problem.diversity_weight, problem.min_separation
        )
        pre.append(pool[sel])
        owners.append(np.full(len(sel), i))
    if posthoc_sparsity and owners:
        Zall = np.vstack([p for p in pre if p.shape[0]])
        owner = np.concatenate(owners)
        Zsp = sparsify(problem, Zall, owner)
        for i in range(problem.n):
            # sparsified rows first; the originals stay as fall-backs so that
            # k distinct counterfactuals remain when several collapse into one
            pre[i] = np.vstack([Zsp[owner == i], Zall[owner == i]])
    results = []
    for i, pool in enumerate(pre):
        pool = unique_rows(pool)
        if pool.shape[0] == 0:
            results.append(pool.reshape(0, space.n_features))
            continue
        cost = problem.cost(pool, np.full(pool.shape[0], i))
        dist = space.distance
        sel = select_diverse(
            pool, cost, k, dist, problem.diversity_weight, problem.min_separation
        )
        results.append(pool[sel])
    return results
