"""Post-hoc sparsity: revert the changes the outcome does not need."""

import numpy as np

from skcfx.counterfactual._engine.feature_space import ceil_to, floor_to

__all__ = ["sparsify", "to_grid"]


def _admissible(problem, owner, j, values):
    """True where ``values`` of features ``j`` (one per row) are admissible
    for the rows' queries ``owner``."""
    b = problem.bounds
    ok = (values >= b.lo[owner, j] - 1e-12) & (values <= b.hi[owner, j] + 1e-12)
    # a missing query value may be restored (the box holds the query's other
    # values already)
    q = problem.Zq[owner, j]
    ok |= np.isnan(values) & np.isnan(q)
    for jj in problem.space.categorical:
        sel = j == jj
        if sel.any():
            ok[sel] = b.allowed[jj][owner[sel], values[sel].astype(np.intp)]
    return ok


def sparsify(problem, Z, owner, grid=8, refine=1):
    """Post-hoc sparsity: revert changes the outcome does not need.

    All counterfactuals of all queries are processed together, in ``4 + refine``
    model calls:

    1. One call tries, for every counterfactual, resetting each changed
       feature alone to the query's value.
    2. One call tries resetting all the individually revertible features
       together and, alongside, all of them but one (each choice of the one);
       the valid variant that resets most is kept (failing all, the single
       reset that saves most, known valid from call 1).
    3. One call evaluates, for each remaining numeric change, ``grid`` evenly
       spaced values between the query's value and the current one (on the
       column's grid, inside the admissible box), each alone; per feature the
       valid value nearest to the query is retained. ``refine`` more calls
       each place a finer grid in the gap between that value and the invalid
       one before it.
    4. One call checks those shrunk values together; where the combination
       fails, only the single largest saving is applied.

    Only admissible values are tried, so constraints keep holding.
    """
    Z = Z.copy()
    if Z.shape[0] == 0:
        return Z
    Z = _revert(problem, Z, owner)
    return _shrink(problem, Z, owner, grid, refine)


def _revert(problem, Z, owner):
    """Steps 1 and 2 of :func:`sparsify`: reset changed features to the
    query's values where the outcome allows, in two model calls."""
    space = problem.space
    m, d = Z.shape
    Zq = problem.Zq[owner]
    scale = space.scale
    # ---- 1. single reverts
    changed = space.changed(Zq, Z)
    rr, jj = np.nonzero(changed)
    revertible = np.zeros((m, d), dtype=bool)
    if len(rr):
        qv = Zq[rr, jj]
        ok = _admissible(problem, owner[rr], jj, qv)
        rr, jj, qv = rr[ok], jj[ok], qv[ok]
        trial = Z[rr].copy()
        trial[np.arange(len(rr)), jj] = qv
        valid, _ = problem.evaluate(trial, owner[rr])
        revertible[rr[valid], jj[valid]] = True
    rows = np.flatnonzero(revertible.any(axis=1))
    if len(rows):
        # ---- 2. all revertible together, and all but one
        n_rev = revertible[rows].sum(axis=1)
        variants = [np.where(revertible[rows], Zq[rows], Z[rows])]
        vrow = [rows]
        vsaved = [n_rev.astype(float)]
        multi = rows[n_rev > 1]
        if len(multi):
            mr, mj = np.nonzero(revertible[multi])
            mr = multi[mr]
            keep = revertible[mr].copy()
            keep[np.arange(len(mr)), mj] = False
            variants.append(np.where(keep, Zq[mr], Z[mr]))
            vrow.append(mr)
            vsaved.append(
                keep.sum(axis=1)
                - 1e-3 * (np.abs(Z[mr] - Zq[mr]) * scale)[np.arange(len(mr)), mj]
            )
        trial = np.vstack(variants)
        vrow = np.concatenate(vrow)
        vsaved = np.concatenate(vsaved)
        valid, _ = problem.evaluate(trial, owner[vrow])
        vsaved[~valid] = -np.inf
        best = np.full(m, -1)
        best_saved = np.full(m, -np.inf)
        for t in np.argsort(-vsaved, kind="stable"):
            r = vrow[t]
            if best[r] < 0 and np.isfinite(vsaved[t]):
                best[r], best_saved[r] = t, vsaved[t]
        for r in rows:
            if best[r] >= 0:
                Z[r] = trial[best[r]]
            else:
                single = np.where(revertible[r], np.abs(Z[r] - Zq[r]) * scale, -1.0)
                j = int(np.argmax(single))
                Z[r, j] = Zq[r, j]
    return Z


def _shrink(problem, Z, owner, grid, refine):
    """Steps 3 and 4 of :func:`sparsify`: move each remaining numeric change
    toward the query by a grid search (``refine`` finer passes), then apply
    the shrunk values together where the outcome allows."""
    space = problem.space
    Zq = problem.Zq[owner]
    scale = space.scale
    # ---- 3. shrink numeric changes toward the query, each alone
    changed = space.changed(Zq, Z)
    num = changed & ~space.is_categorical & ~np.isnan(Zq)  # fills stay fills
    rr, jj = np.nonzero(num)
    if len(rr):
        hi = Z[rr, jj]
        new = hi.copy()  # nearest valid value to the query found so far
        below = Zq[rr, jj].copy()  # farthest value known (or assumed) invalid
        fr = np.linspace(0.0, 1.0, grid + 1)[:-1]
        for level in range(refine + 1):
            # grid from ``below`` (included on the first level only: the
            # query's value) toward ``new``; later levels refine the last gap
            f = fr if level == 0 else fr[1:]
            cand = below[:, None] + f[None, :] * (new - below)[:, None]
            cand = to_grid(problem, owner[rr], jj, cand, toward=new)
            g = cand.shape[1]
            trial = np.repeat(Z[rr], g, axis=0)
            trial[np.arange(len(rr) * g), np.repeat(jj, g)] = cand.ravel()
            moving = (np.abs(cand - new[:, None]) > 1e-12).ravel()
            valid = np.zeros(len(trial), dtype=bool)
            if moving.any():
                valid[moving], _ = problem.evaluate(
                    trial[moving], np.repeat(owner[rr], g)[moving]
                )
            valid = valid.reshape(len(rr), g)
            has = valid.any(axis=1)
            first = valid.argmax(axis=1)
            prev = np.maximum(first - 1, 0)
            rows = np.arange(len(rr))
            below = np.where(has & (first > 0), cand[rows, prev], below)
            below = np.where(has | (level > 0), below, cand[rows, -1])
            new = np.where(has, cand[rows, first], new)
        has = np.abs(new - hi) > 1e-12
        saving = np.abs(hi - new) * scale[jj]
        # ---- 4. all shrunk values together
        shrunk = Z.copy()
        shrunk[rr, jj] = new
        touched = np.unique(rr[has])
        if len(touched):
            valid, _ = problem.evaluate(shrunk[touched], owner[touched])
            Z[touched[valid]] = shrunk[touched[valid]]
            for r in touched[~valid]:
                mine = np.flatnonzero(rr == r)
                t = mine[np.argmax(saving[mine])]
                Z[r, jj[t]] = new[t]
    return Z


def to_grid(problem, owner, j, values, toward):
    """Round candidate values of features ``j`` (one per row) to their
    column's grid (toward ``toward`` so no move overshoots the query) and
    clip them into each query's box."""
    space = problem.space
    out = values.copy()
    for jj in np.unique(j):
        sel = j == jj
        dec = space.decimals[jj]
        up = (toward[sel] > values[sel][:, 0])[:, None]
        out[sel] = np.where(up, ceil_to(out[sel], dec), floor_to(out[sel], dec))
    lo = problem.bounds.lo[owner, j][:, None]
    hi = problem.bounds.hi[owner, j][:, None]
    return np.clip(out, lo, hi)
