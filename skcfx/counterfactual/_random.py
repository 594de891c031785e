"""Random search (DiCE's ``"random"`` method, vectorised over queries)."""

import numpy as np

from skcfx.counterfactual._search import (
    draw,
    pair_changes,
    sample,
    single_changes,
)

__all__ = ["random_search"]


def random_search(problem, *, n_candidates=60, max_iter=25, queries=None, **_):
    """Sample candidates around each query until enough valid ones are found.

    The first round also scores every one-feature change of the query on a
    grid (:func:`~skcfx.counterfactual._search.single_changes`); the second
    round scores only the pairs of the most promising of them
    (:func:`~skcfx.counterfactual._search.pair_changes`): sparse candidates
    that blind sampling rarely draws.

    Round ``r`` draws ``n_candidates * 4**min(max(r - 1, 0), 2)`` candidates
    per active query (a random
    subset of the varying features resampled inside the admissible region,
    see :func:`~skcfx.counterfactual._search.sample`) and scores the whole
    batch, all queries together, with one model call. A query with ``k``
    valid one-feature changes stops after the first round; from the second
    round on, a query stops once it holds ``k`` distinct valid candidates, or at
    least one after four rounds (the shared exploration step then adds
    neighbours of them); the search stops after ``max_iter`` rounds.

    ``queries`` restricts the search to those query indices (default: every
    feasible query).

    Returns
    -------
    pools : list of ndarray, valid candidates per query.
    """
    n, d = problem.Zq.shape
    pools = [[] for _ in range(n)]
    counts = np.zeros(n, dtype=int)
    rounds = np.zeros(n, dtype=int)
    single_loss = first_qidx = singles = None
    active = problem.bounds.feasible.copy()
    if queries is not None:
        only = np.zeros(n, dtype=bool)
        only[np.asarray(queries, dtype=int)] = True
        active &= only
    for it in range(max_iter):
        qidx = np.flatnonzero(active)
        if len(qidx) == 0:
            break
        # queries still searching after two rounds are the hard ones: widen
        m = n_candidates * (1 if it < 2 else 8)
        U = draw(problem.rngs, qidx, (m, 2 * d + 1))
        # one and two changes are covered by the scans of rounds 0 and 1:
        # later rounds favour more changes (power < 1)
        Z = sample(
            problem,
            qidx,
            m,
            U[..., :d],
            U[..., d : 2 * d],
            U[..., 2 * d],
            power=2.0 if it < 2 else 0.5,
        )
        n_single = 0
        if it == 0:  # the sparsest candidates first: every one-feature change
            singles = single_changes(problem, qidx)
            n_single = singles.shape[1]
            Z = np.concatenate([singles, Z], axis=1)
        elif it == 1 and single_loss is not None:
            # then (only) pairs of the most promising one-feature changes
            keep = np.isin(first_qidx, qidx)
            Z = pair_changes(problem, qidx, singles[keep], single_loss[keep])
        m = Z.shape[1]
        owner = np.repeat(qidx, m)
        valid, loss = problem.evaluate(Z.reshape(-1, d), owner)
        valid = valid.reshape(len(qidx), m)
        n_single_valid = np.zeros(len(qidx), dtype=int)
        if it == 0:
            first_qidx = qidx
            single_loss = loss.reshape(len(qidx), m)[:, :n_single]
            n_single_valid = valid[:, :n_single].sum(axis=1)
        for row, i in enumerate(qidx):
            if valid[row].any():
                found = Z[row][valid[row]]
                pools[i].append(found)
                counts[i] += len(np.unique(found, axis=0))
        rounds[qidx] += 1
        # enough valid candidates, or some found and the exploration step
        # (perturbing valid ones) is a better use of the budget than more
        # blind samples
        # (a query with k valid one-feature changes already holds the
        # sparsest possible answers and skips the pair round)
        done = (n_single_valid >= problem.k) | (
            (it >= 1)
            & ((counts[qidx] >= problem.k) | ((counts[qidx] > 0) & (rounds[qidx] >= 3)))
        )
        active[qidx[done]] = False
    return [np.vstack(p) if p else np.zeros((0, d)) for p in pools]
