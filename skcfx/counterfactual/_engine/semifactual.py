"""Semi-factual ("even if") search: the farthest one-feature change that
keeps the prediction, toward the decision boundary.

A semi-factual of a query tells what would *not* be enough: "even if you
worked 60 hours a week, the model would still predict <= 50K". Following the
"most distant neighbour" idea of the semi-factual literature (Kenny and
Keane, 2021; Aryal and Keane, 2023), for each query and each feature that
may vary, the search finds the admissible value farthest from the query such
that every value in between keeps the query's predicted class (for a
regressor, its prediction outside the desired range) and the user's
predicates, on the side where the model moves toward the desired
outcome; a semi-factual whose change does not bring the model any closer to
the desired outcome says nothing and is dropped.

All queries and features are searched together: one model call scores a
grid of ``n_grid`` values on each side of every numeric feature, each of
``refine`` further calls places a finer grid in the gap between the
farthest unchanged value and the first changed one, and one call scores
every allowed category of every categorical feature.
"""

import numpy as np

from skcfx.counterfactual._engine.sparsity import to_grid

__all__ = ["semifactual_search"]


def _unchanged(problem, Z, owner):
    """Still the query's predicted class (for a regressor: still outside the
    desired range) and predicates hold; the margin toward the desired
    outcome (a regressor's: minus its distance to the range, in units of
    the predictions' spread); and the desired class's own score (NaN for a
    regressor or "any other class")."""
    out = problem.oracle.outcome(Z, owner, problem)
    if out is None:
        return np.zeros(0, dtype=bool), np.zeros(0), np.zeros(0)
    if problem.oracle.task == "regression":
        same = ~out["valid"]
    else:
        same = out["pred"] == problem.orig[owner]
    if out["predicates_ok"] is not None:
        same &= out["predicates_ok"]
    return same, out["margin"], out["desired"]


def _toward(gain, desired, base_desired):
    """A change toward the desired outcome: the margin grows and, for a
    specific desired class, that class's own score grows too (with three
    classes the margin against the strongest other class also grows when
    the query's class loses ground to a third one, which is no step toward
    the desired class)."""
    # relative: a saturated model's probabilities of the desired class may
    # be 1e-40 and still grow
    closer = np.isnan(base_desired) | (desired > base_desired * (1 + 1e-9))
    return (gain > 1e-9) & closer


def _best_per_key(key, gain):
    """Index of the largest ``gain`` for each distinct ``key``."""
    order = np.lexsort((-gain, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return order[first]


def semifactual_search(problem, *, n_grid=12, refine=2):
    """Farthest prediction-keeping one-feature change per query and feature.

    Parameters
    ----------
    problem : Problem
        Classification problem (``orig`` is each query's predicted class).
    n_grid : int
        Values per side of a numeric feature in the first grid.
    refine : int
        Further calls refining the gap after the farthest unchanged value.

    Returns
    -------
    Z : ndarray (m, d)
        Semi-factual rows (coded).
    owner : ndarray of int (m,)
        Their query.
    feature : ndarray of int (m,)
        The feature each changes.
    gain : ndarray (m,)
        Increase of the margin toward the desired outcome over the query's
        (positive: closer to it).
    """
    n, d = problem.Zq.shape
    _, base_margin, base_desired = _unchanged(problem, problem.Zq, np.arange(n))
    found = [
        part
        for part in (
            _numeric(problem, base_margin, base_desired, n_grid, refine),
            _categorical(problem, base_margin, base_desired),
        )
        if part is not None
    ]
    if not found:
        return np.zeros((0, d)), np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    Z, owner, feature, gain = zip(*found)
    return (
        np.vstack(Z),
        np.concatenate(owner).astype(int),
        np.concatenate(feature).astype(int),
        np.concatenate(gain),
    )


def _numeric_ends(problem):
    """(query, feature, end of its box) of every numeric side to search."""
    bounds, Zq = problem.bounds, problem.Zq
    rows, feats, sides = [], [], []
    for j in problem.space.numeric:
        for side in (0, 1):
            for i in range(problem.n):
                if not bounds.varying[i, j]:
                    continue
                end = bounds.lo[i, j] if side == 0 else bounds.hi[i, j]
                if abs(end - Zq[i, j]) <= 1e-12:
                    continue
                rows.append(i)
                feats.append(j)
                sides.append(end)
    return (
        np.asarray(rows, dtype=int),
        np.asarray(feats, dtype=int),
        np.asarray(sides, dtype=float),
    )


def _numeric(problem, base_margin, base_desired, n_grid, refine):
    """Numeric features: a grid on each side of the query, then ``refine``
    finer grids in the gap where the prediction changes."""
    Zq = problem.Zq
    d = Zq.shape[1]
    fr = np.linspace(0.0, 1.0, n_grid + 1)[1:]  # excludes the query
    owner, feat, end = _numeric_ends(problem)
    if len(owner) == 0:
        return None
    start = Zq[owner, feat]
    r_idx = np.arange(len(owner))[:, None]
    g_idx = np.arange(len(fr))[None, :]
    lo = start.copy()  # farthest value known to keep the prediction
    hi = end.copy()  # nearest value known to change it (or the bound)
    for level in range(refine + 1):
        cand = lo[:, None] + fr[None, :] * (hi - lo)[:, None]
        # on the column's grid (rounded toward the query) and inside the
        # query's box; every other feature keeps the query's value
        cand = to_grid(problem, owner, feat, cand, toward=start)
        Z = np.repeat(Zq[owner][:, None, :], len(fr), axis=1)
        Z[r_idx, g_idx, feat[:, None]] = cand
        same, margin, desired = _unchanged(
            problem, Z.reshape(-1, d), np.repeat(owner, len(fr))
        )
        same = same.reshape(len(owner), len(fr))
        # the unchanged run from ``lo`` (contiguous: no jump across a region
        # where the prediction changes)
        n_run = np.cumprod(same, axis=1).astype(bool).sum(axis=1)
        last = np.maximum(n_run - 1, 0)
        moved = n_run > 0
        new_lo = np.where(moved, cand[np.arange(len(owner)), last], lo)
        nxt = np.minimum(n_run, len(fr) - 1)
        new_hi = np.where(n_run < len(fr), cand[np.arange(len(owner)), nxt], hi)
        if level == 0:
            margin_at = np.full(len(owner), -np.inf)
            desired_at = np.full(len(owner), np.nan)
        at = np.arange(len(owner)), last
        margin_at = np.where(moved, margin.reshape(len(owner), len(fr))[at], margin_at)
        desired_at = np.where(
            moved, desired.reshape(len(owner), len(fr))[at], desired_at
        )
        lo, hi = new_lo, new_hi
    gain = margin_at - base_margin[owner]
    # a missing query value has no "even if" of its own (no direction from
    # it is defined)
    keep = ~np.isnan(start) & (np.abs(lo - start) > 1e-12)
    keep &= _toward(gain, desired_at, base_desired[owner])
    # per (query, feature) the better side (the larger gain) of those
    # toward the desired outcome
    best = _best_per_key(owner * d + feat, np.where(keep, gain, -np.inf))
    best = best[keep[best]]
    Z = Zq[owner[best]].copy()
    Z[np.arange(len(best)), feat[best]] = lo[best]
    return Z, owner[best], feat[best], gain[best]


def _categorical(problem, base_margin, base_desired):
    """Categorical features: every allowed other category (all columns in
    one model call); per column the one closest to the desired outcome that
    keeps the prediction."""
    bounds, Zq = problem.bounds, problem.Zq
    n, d = Zq.shape
    parts = []
    for j in problem.space.categorical:
        ok = bounds.allowed[j] & bounds.varying[:, j : j + 1]
        ok[np.arange(n), Zq[:, j].astype(int)] = False
        qi, code = np.nonzero(ok)
        parts.append((np.full(len(qi), j), qi, code))
    if not parts or not sum(len(p[1]) for p in parts):
        return None
    col = np.concatenate([p[0] for p in parts]).astype(int)
    qi = np.concatenate([p[1] for p in parts]).astype(int)
    code = np.concatenate([p[2] for p in parts])
    Z = Zq[qi].copy()
    Z[np.arange(len(qi)), col] = code
    same, margin, desired = _unchanged(problem, Z, qi)
    gain = margin - base_margin[qi]
    good = np.flatnonzero(same & _toward(gain, desired, base_desired[qi]))
    best = good[_best_per_key(qi[good] * d + col[good], gain[good])]
    return Z[best], qi[best], col[best], gain[best]
