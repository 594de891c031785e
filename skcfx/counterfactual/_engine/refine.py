"""Exploring around valid candidates: more, and closer, valid rows.

:func:`expand` perturbs the valid candidates of queries that have too few;
:func:`nudges` tries one-feature neighbours of each query's best ones.
Both feed the diverse selection.
"""

import numpy as np

from skcfx.counterfactual._engine.candidates import (
    draw,
    project,
    sample,
    unique_pools,
    unique_rows,
)

__all__ = ["expand", "nudges"]


def expand(problem, pools, target, rounds=3, m=96):
    """Explore around the valid candidates of queries that have too few.

    For each query holding at least one but fewer than ``target`` distinct
    valid candidates, each round perturbs ``m`` randomly chosen valid ones
    (half with one or two varying features redrawn in the admissible region,
    half with their changed numeric features nudged by a quarter of a MAD)
    and keeps the valid results; one model call per round for all such
    queries.
    """
    d = problem.Zq.shape[1]
    pools = unique_pools(pools, d)
    for _ in range(rounds):
        qidx = np.array(
            [i for i, p in enumerate(pools) if 0 < len(p) < target], dtype=int
        )
        if len(qidx) == 0:
            break
        U = draw(problem.rngs, qidx, (m, 2 * d + 2))
        base = np.stack(
            [
                pools[i][(U[r, :, -1] * len(pools[i])).astype(int)]
                for r, i in enumerate(qidx)
            ]
        )
        Z = sample(
            problem,
            qidx,
            m,
            U[..., :d],
            U[..., d : 2 * d],
            U[..., 2 * d],
            max_change=2,
            base=base,
        )
        # half of them are small steps instead: every changed numeric
        # feature nudged by a quarter of its MAD, which mostly stays valid
        half = m // 2
        N = draw(problem.rngs, qidx, (half, d), kind="normal")
        space = problem.space
        moved = problem.space.changed(problem.Zq[qidx][:, None, :], base[:, :half])
        num_moved = moved & ~space.is_categorical
        step = np.where(num_moved, N * 0.25 * space.mad, 0.0)
        nudged = project(
            base[:, :half] + step, problem.bounds, space, qidx, U[:, :half, :d]
        )
        # a base without a numeric change keeps its redrawn variant
        Z[:, :half] = np.where(
            num_moved.any(axis=-1, keepdims=True), nudged, Z[:, :half]
        )
        owner = np.repeat(qidx, m)
        valid, _ = problem.evaluate(Z.reshape(-1, d), owner)
        valid = valid.reshape(len(qidx), m)
        for r, i in enumerate(qidx):
            if valid[r].any():
                pools[i] = unique_rows(np.vstack([pools[i], Z[r][valid[r]]]))
    return pools


def nudges(problem, pools, top=8, steps=(-0.5, -0.25, -0.1, 0.1, 0.25, 0.5)):
    """One-feature neighbours of each query's best valid candidates.

    For the ``top`` cheapest valid candidates of every query: each varying
    numeric feature moved alone by each of ``steps`` (in MADs), rounded to
    the column's grid and clipped into the query's box; and each categorical
    feature the candidate changes set to every other allowed category (as
    sparse as the candidate). All queries are scored in one model call and
    the valid neighbours join the pools: they give the diverse selection
    close alternatives to the best answers (as the genetic method's mutations
    do).
    """
    space = problem.space
    bounds = problem.bounds
    d = problem.Zq.shape[1]
    num = list(space.numeric)
    cat = list(space.categorical)
    qidx = np.array([i for i, p in enumerate(pools) if len(p)], dtype=int)
    if len(qidx) == 0:
        return pools
    steps = np.asarray(steps, dtype=float)
    n_cat = sum(len(space.categories[j]) for j in cat)
    per_base = len(num) * len(steps) + n_cat
    m = top * per_base
    Z = np.empty((len(qidx), top, per_base, d))
    keep = np.ones((len(qidx), top, per_base), dtype=bool)
    for r, i in enumerate(qidx):
        P = pools[i]
        cost = problem.cost(P, np.full(len(P), i))
        order = np.argsort(cost, kind="stable")[:top]
        base = P[order[np.arange(top) % len(order)]]  # pad by repetition
        keep[r, len(order) :] = False
        Z[r] = base[:, None, :]
        c = 0
        for j in num:
            Z[r, :, c : c + len(steps), j] += steps[None, :] * space.mad[j]
            keep[r, :, c : c + len(steps)] &= bounds.varying[i, j]
            c += len(steps)
        for j in cat:
            K = len(space.categories[j])
            Z[r, :, c : c + K, j] = np.arange(K)[None, :]
            moved = np.abs(base[:, j] - problem.Zq[i, j]) > 0.5
            keep[r, :, c : c + K] &= moved[:, None] & bounds.allowed[j][i][None, :]
            keep[r, :, c : c + K] &= np.arange(K)[None, :] != base[:, j : j + 1]
            c += K
    Z = Z.reshape(len(qidx), m, d)
    keep = keep.reshape(len(qidx), m)
    frozen = ~bounds.varying[qidx][:, None, :]
    Z = np.where(frozen, problem.Zq[qidx][:, None, :], Z)
    Z = project(Z, bounds, space, qidx, np.zeros_like(Z))
    rows, cols = np.nonzero(keep)
    valid, _ = problem.evaluate(Z[rows, cols], qidx[rows])
    pools = list(pools)
    for r, i in enumerate(qidx):
        mine = valid & (rows == r)
        if mine.any():
            pools[i] = np.vstack([pools[i], Z[r, cols[mine]]])
    return pools
