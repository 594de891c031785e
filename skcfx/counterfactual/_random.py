"""Random search (DiCE's ``"random"`` method, vectorised over queries)."""

import numpy as np

from skcfx.counterfactual._search import draw, sample

__all__ = ["random_search"]


def random_search(problem, *, n_candidates=500, max_iter=10, **_):
    """Sample candidates around each query until enough valid ones are found.

    Every round draws ``n_candidates`` candidates per active query (a random
    subset of the varying features resampled inside the admissible region,
    see :func:`~skcfx.counterfactual._search.sample`) and scores the whole
    batch, all queries together, with one model call. A query stops once it
    holds ``3 * k`` distinct valid candidates; the search stops after
    ``max_iter`` rounds.

    Returns
    -------
    pools : list of ndarray, valid candidates per query.
    """
    n, d = problem.Zq.shape
    pools = [[] for _ in range(n)]
    counts = np.zeros(n, dtype=int)
    active = problem.bounds.feasible.copy()
    for _ in range(max_iter):
        qidx = np.flatnonzero(active)
        if len(qidx) == 0:
            break
        m = n_candidates
        U = draw(problem.rngs, qidx, (m, 2 * d + 1))
        Z = sample(problem, qidx, m, U[..., :d], U[..., d : 2 * d], U[..., 2 * d])
        owner = np.repeat(qidx, m)
        valid, _ = problem.evaluate(Z.reshape(-1, d), owner)
        valid = valid.reshape(len(qidx), m)
        for row, i in enumerate(qidx):
            if valid[row].any():
                found = Z[row][valid[row]]
                pools[i].append(found)
                counts[i] += len(np.unique(found, axis=0))
        active[qidx[counts[qidx] >= 3 * problem.k]] = False
    return [np.vstack(p) if p else np.zeros((0, d)) for p in pools]
