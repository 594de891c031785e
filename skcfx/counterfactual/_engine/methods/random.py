"""Random search (DiCE's ``"random"`` method, vectorised over queries)."""

import numpy as np

from skcfx.counterfactual._engine.candidates import (
    draw,
    pair_changes,
    sample,
    single_changes,
)
from skcfx.counterfactual._engine.methods import register

__all__ = ["random_search"]


@register("random", n_candidates=60, max_rounds=25, fallback="genetic")
def _search(problem, context, queries, n_candidates, max_rounds):
    return random_search(
        problem, n_candidates=n_candidates, max_rounds=max_rounds, queries=queries
    )


def random_search(problem, *, n_candidates=60, max_rounds=25, queries=None):
    """Sample candidates around each query until enough valid ones are found.

    The first round also scores every one-feature change of the query on a
    grid (:func:`~skcfx.counterfactual._engine.candidates.single_changes`); the second
    round scores only the pairs of the most promising of them
    (:func:`~skcfx.counterfactual._engine.candidates.pair_changes`): sparse candidates
    that blind sampling rarely draws.

    Round ``r`` draws ``n_candidates * 4**min(max(r - 1, 0), 2)`` candidates
    per active query (a random
    subset of the varying features resampled inside the admissible region,
    see :func:`~skcfx.counterfactual._engine.candidates.sample`) and scores the whole
    batch, all queries together, with one model call. A query with ``k``
    valid one-feature changes stops after the first round; from the second
    round on, a query stops once it holds ``k`` distinct valid candidates, or at
    least one after four rounds (the shared exploration step then adds
    neighbours of them); the search stops after ``max_rounds`` rounds.

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
    scan = {}  # round 0's one-feature changes, for round 1's pairs
    active = problem.bounds.feasible.copy()
    if queries is not None:
        only = np.zeros(n, dtype=bool)
        only[np.asarray(queries, dtype=int)] = True
        active &= only
    for it in range(max_rounds):
        qidx = np.flatnonzero(active)
        if len(qidx) == 0:
            break
        groups, n_single = _round_candidates(
            problem, it, qidx, n_candidates, counts, scan
        )
        flat = np.vstack([Zg.reshape(-1, d) for _, Zg in groups])
        owner = np.concatenate([np.repeat(g, Zg.shape[1]) for g, Zg in groups])
        valid_all, loss_all = problem.evaluate(flat, owner)
        start = 0
        n_single_valid = {}
        for g, Zg in groups:
            q, m = Zg.shape[:2]
            valid = valid_all[start : start + q * m].reshape(q, m)
            loss = loss_all[start : start + q * m].reshape(q, m)
            start += q * m
            if it == 0:
                scan.update(qidx=g, loss=loss[:, :n_single])
                n_single_valid = dict(zip(g, valid[:, :n_single].sum(axis=1)))
            for row, i in enumerate(g):
                if valid[row].any():
                    found = Zg[row][valid[row]]
                    pools[i].append(found)
                    counts[i] += len(np.unique(found, axis=0))
        rounds[qidx] += 1
        hopeless = np.zeros(len(qidx), dtype=bool)
        start = 0
        for g, Zg in groups:
            q, m = Zg.shape[:2]
            stop = problem.note_progress(
                g,
                loss_all[start : start + q * m].reshape(q, m),
                valid_all[start : start + q * m].reshape(q, m),
            )
            start += q * m
            hopeless[np.isin(qidx, g[stop])] = True
        # enough valid candidates, or some found and the exploration step
        # (perturbing valid ones) is a better use of the budget than more
        # blind samples (a query with k valid one-feature changes already
        # holds the sparsest possible answers and skips the pair round)
        singles_ok = np.array([n_single_valid.get(i, 0) for i in qidx])
        done = (singles_ok >= problem.k) | (
            (it >= 1)
            & ((counts[qidx] >= problem.k) | ((counts[qidx] > 0) & (rounds[qidx] >= 3)))
        )
        active[qidx[done | hopeless]] = False
    return [np.vstack(p) if p else np.zeros((0, d)) for p in pools]


def _round_candidates(problem, it, qidx, n_candidates, counts, scan):
    """Candidates of round ``it`` as ``[(queries, Z (q, m, d)), ...]`` and the
    number of one-feature changes leading round 0's candidates.

    Round 0: every one-feature change of the query on a grid, then sparse
    samples; round 1: pairs of the most promising one-feature changes;
    later rounds: samples favouring more changes, 8x more for a query with
    no valid candidate yet than for one that has some (a query's draws
    depend on its own state only).
    """
    d = problem.Zq.shape[1]
    if it == 0:  # the sparsest candidates first: every one-feature change
        U = draw(problem.rngs, qidx, (n_candidates, 2 * d + 1))
        Z = sample(
            problem,
            qidx,
            n_candidates,
            U[..., :d],
            U[..., d : 2 * d],
            U[..., 2 * d],
            power=2.0,
        )
        scan["singles"] = singles = single_changes(problem, qidx)
        return [(qidx, np.concatenate([singles, Z], axis=1))], singles.shape[1]
    if it == 1 and "loss" in scan:
        # then (only) pairs of the most promising one-feature changes
        keep = np.isin(scan["qidx"], qidx)
        pairs = pair_changes(problem, qidx, scan["singles"][keep], scan["loss"][keep])
        return [(qidx, pairs)], 0
    # one and two changes are covered by the scans of rounds 0 and 1: later
    # rounds favour more changes (power < 1)
    groups = []
    for sel, mult in ((counts[qidx] == 0, 8), (counts[qidx] > 0, 2)):
        g = qidx[sel]
        if len(g) == 0:
            continue
        m = n_candidates * mult
        U = draw(problem.rngs, g, (m, 2 * d + 1))
        Z = sample(
            problem, g, m, U[..., :d], U[..., d : 2 * d], U[..., 2 * d], power=0.5
        )
        groups.append((g, Z))
    return groups, 0
