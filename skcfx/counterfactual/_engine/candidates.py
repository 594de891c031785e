"""Drawing and repairing candidates inside the admissible region.

:func:`sample` draws sparse random perturbations, :func:`single_changes` and
:func:`pair_changes` enumerate one- and two-feature changes, and
:func:`project` repairs any candidate into the query's admissible box
(grid rounding, clipping, allowed categories): this is how the box
constraints hold by construction in every search.
"""

import numpy as np
import pandas as pd

__all__ = [
    "categorical_from_uniform",
    "draw",
    "pair_changes",
    "pool_blocks",
    "project",
    "sample",
    "single_changes",
    "unique_pools",
    "unique_rows",
]


def draw(rngs, idx, shape, kind="uniform"):
    """Stack per-query random draws: one generator call per query."""
    if kind == "normal":
        return np.stack([rngs[i].standard_normal(shape) for i in idx])
    return np.stack([rngs[i].random(shape) for i in idx])


def categorical_from_uniform(allowed, u):
    """Pick an allowed code per row from uniforms.

    allowed : (q, K) bool; u : (q, m) in [0, 1). Returns (q, m) codes.

    Code ``k`` is picked where ``u`` falls in ``[c_{k-1}, c_k)``, ``c_k``
    being the share of allowed codes up to ``k`` (each allowed code an
    equal slice of [0, 1)); a row with none allowed gets the last code.
    Found without a (q, m, K) comparison: ``J``, the number of slices
    ``u`` has passed, from ``floor(u * count)`` checked against the same
    float quotients ``j / count``, indexes the row's allowed codes.
    """
    q, K = allowed.shape
    counts = allowed.sum(axis=1)[:, None]
    per = np.maximum(counts, 1)
    J = np.floor(u * per).astype(np.intp)
    for _ in range(2):  # rounding leaves it at most one step off
        J = np.where((J >= 1) & (u < J / per), J - 1, J)
        J = np.where((J + 1 <= counts) & (u >= (J + 1) / per), J + 1, J)
    order = np.argsort(~allowed, axis=1, kind="stable")  # allowed codes first
    codes = np.take_along_axis(order, np.minimum(J, K - 1), axis=1)
    return np.where(J >= counts, K - 1, codes).astype(float)


def project(Z, bounds, space, qidx, U):
    """Repair candidates into the admissible region, in place.

    Numeric values are rounded to their grid and clipped into the box;
    categorical codes that are not allowed are replaced by a random allowed
    code (drawn from ``U``). ``Z`` has shape (q, m, d), ``qidx`` the queries'
    indices in ``bounds``, ``U`` uniforms of shape (q, m, d).
    """
    Zq = None if bounds.Zq is None else bounds.Zq[qidx][:, None, :]
    num = space.numeric
    if Zq is not None:
        # a search never makes a value missing (it may fill one): a missing
        # value (from a training row, say) becomes the query's, then is
        # clipped like any other
        lost = np.isnan(Z[..., num]) & ~np.isnan(Zq[..., num])
        if lost.any():
            Z[..., num] = np.where(
                lost, np.broadcast_to(Zq[..., num], lost.shape), Z[..., num]
            )
    space.round(Z, Zq)
    lo = bounds.lo[qidx][:, None, :]
    hi = bounds.hi[qidx][:, None, :]
    Z[..., num] = np.clip(Z[..., num], lo[..., num], hi[..., num])
    for j in space.categorical:
        allowed = bounds.allowed[j][qidx]  # (q, K)
        codes = Z[..., j].astype(np.intp)
        ok = np.take_along_axis(allowed, codes, axis=1)
        if not ok.all():
            r, c = np.nonzero(~ok)
            repl = categorical_from_uniform(allowed[r], U[r, c, j][:, None])
            Z[r, c, j] = repl[:, 0]
    return Z


def sample(problem, qidx, m, U_val, U_key, U_num, max_change=None, base=None, power=2):
    """Random candidates around each query: a few features resampled.

    Each candidate changes ``1 + floor(u**power * n_vary)`` of the query's varying
    features (at most ``max_change``), chosen uniformly, to values drawn
    uniformly from the admissible box (numeric) or set (categorical).

    ``base`` (q, m, d), when given, replaces the query as the row that is
    perturbed (used to explore around valid candidates).

    Returns an array of shape (q, m, d).
    """
    space = problem.space
    bounds = problem.bounds
    Zq = problem.Zq[qidx]
    lo, hi = bounds.lo[qidx], bounds.hi[qidx]
    varying = bounds.varying[qidx]  # (q, d)
    new = lo[:, None, :] + U_val * (hi - lo)[:, None, :]
    for j in space.categorical:
        new[..., j] = categorical_from_uniform(bounds.allowed[j][qidx], U_val[..., j])
    keys = np.where(varying[:, None, :], U_key, np.inf)
    rank = keys.argsort(axis=-1).argsort(axis=-1)
    nv = varying.sum(axis=1)[:, None]
    if max_change is not None:
        nv = np.minimum(nv, max_change)
    # skewed toward few changes (power > 1): P(n_change <= t) ~ (t/nv)**(1/power)
    n_change = 1 + np.floor(U_num**power * nv).astype(int)
    change = rank < n_change[..., None]
    if base is None:
        base = np.broadcast_to(Zq[:, None, :], new.shape)
    Z = np.where(change, new, base)
    return project(Z, bounds, space, qidx, U_val)


def single_changes(problem, qidx, n_grid=10):
    """Every one-feature change of each query, on a grid.

    For each varying feature: ``n_grid`` evenly spaced admissible values
    (numeric, on the column's grid) or every allowed category
    (categorical), all other features at the query's value. These are the
    sparsest possible counterfactuals; every method scores them in its
    first batch.

    Returns
    -------
    Z : ndarray of shape (q, M, d)
        Padded with copies of the query (never valid, so harmless).
    """
    space = problem.space
    b = problem.bounds
    Zq = problem.Zq[qidx]
    q, d = Zq.shape
    blocks = []
    fr = np.linspace(0.0, 1.0, n_grid)
    for j in range(d):
        var = b.varying[qidx, j]
        if not var.any():
            continue
        if space.is_categorical[j]:
            K = len(space.categories[j])
            vals = np.broadcast_to(np.arange(K, dtype=float), (q, K)).copy()
            allowed = b.allowed[j][qidx]
            vals = np.where(allowed, vals, Zq[:, j : j + 1])
        else:
            lo, hi = b.lo[qidx, j], b.hi[qidx, j]
            vals = lo[:, None] + fr[None, :] * (hi - lo)[:, None]
        vals = np.where(var[:, None], vals, Zq[:, j : j + 1])
        block = np.repeat(Zq[:, None, :], vals.shape[1], axis=1)
        block[..., j] = vals
        blocks.append(block)
    if not blocks:
        return Zq[:, None, :].copy()
    Z = np.concatenate(blocks, axis=1)
    U = np.zeros(Z.shape)
    return project(Z, b, space, qidx, U)


def pair_changes(problem, qidx, singles, loss, top=12, per_feature=1):
    """Two-feature changes built from the most promising one-feature ones.

    For each query, the ``top`` one-feature changes with the lowest loss
    (closest to the desired outcome; at most ``per_feature`` values of each
    feature) are combined pairwise (different features), a beam search one
    level deep: sparse candidates for queries that no single change flips.

    Parameters
    ----------
    singles : ndarray (q, M, d)
        Output of :func:`single_changes` for ``qidx``.
    loss : ndarray (q, M)
        Their loss from :meth:`Oracle.__call__`.
    top : int
        One-feature changes combined per query.
    per_feature : int
        At most this many values of one feature among them.

    Returns
    -------
    Z : ndarray (q, top * (top - 1) / 2, d)
        Padded with copies of the query.
    """
    Zq = problem.Zq[qidx]
    q, M, d = singles.shape
    changed = problem.space.changed(Zq[:, None, :], singles)
    feat = np.where(changed.any(axis=-1), changed.argmax(axis=-1), -1)
    order = np.argsort(np.where(feat >= 0, loss, np.inf), axis=1, kind="stable")
    n_pairs = top * (top - 1) // 2
    out = np.repeat(Zq[:, None, :], max(n_pairs, 1), axis=1)
    for r in range(q):
        picked, used = [], {}
        for idx in order[r]:
            f = feat[r, idx]
            if f < 0 or not np.isfinite(loss[r, idx]) or used.get(f, 0) >= per_feature:
                continue
            used[f] = used.get(f, 0) + 1
            picked.append(idx)
            if len(picked) == top:
                break
        n = 0
        for a in range(len(picked)):
            for b in range(a + 1, len(picked)):
                fb = feat[r, picked[b]]
                if fb == feat[r, picked[a]]:
                    continue
                out[r, n] = singles[r, picked[a]]
                out[r, n, fb] = singles[r, picked[b], fb]
                n += 1
    return out


_HASH_ROWS = 256


def distinct_rows(Z):
    """The distinct rows of ``Z`` in order of first appearance, and where
    each row of ``Z`` is among them (``distinct[inverse] == Z``, NaN equal
    to NaN).

    From ``_HASH_ROWS`` rows on, rows are hashed column by column and
    grouped by hash, then checked against their group's first row, so the
    answer is exact: should two different rows ever share a hash, or for
    fewer rows, a stable lexicographic sort of the rows decides instead.
    Both are several times faster than ``np.unique(Z, axis=0)``.

    Returns
    -------
    distinct : ndarray (k, d)
    first : ndarray of int (k,)
        Position in ``Z`` of each distinct row's first appearance.
    inverse : ndarray of int (m,)
    """
    m, d = Z.shape
    if m == 0:
        return Z, np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    if m >= _HASH_ROWS:
        h = np.zeros(m, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(d):
                h = h * np.uint64(1_000_003) + pd.util.hash_array(Z[:, j])
        inverse, _ = pd.factorize(h)
        first = np.flatnonzero(~pd.Index(h).duplicated())
        distinct = Z[first]
        back = distinct[inverse]
        if ((back == Z) | (np.isnan(back) & np.isnan(Z))).all():  # no collision
            return distinct, first, inverse.astype(np.intp)
    # a stable sort of the rows: equal rows become neighbours, the first
    # appearance first among them
    order = np.lexsort(Z.T[::-1])
    Zs = Z[order]
    new = np.ones(m, dtype=bool)
    same = (Zs[1:] == Zs[:-1]) | (np.isnan(Zs[1:]) & np.isnan(Zs[:-1]))
    new[1:] = ~same.all(axis=1)
    run = np.cumsum(new) - 1
    starts = order[new]  # first appearance of each distinct row, sorted order
    by_appearance = np.argsort(starts)
    rank = np.empty_like(by_appearance)
    rank[by_appearance] = np.arange(len(by_appearance))
    inverse = np.empty(m, dtype=np.intp)
    inverse[order] = rank[run]
    first = starts[by_appearance]
    return Z[first], first, inverse


def unique_rows(Z):
    """The distinct rows of ``Z`` (to nine decimals), in order of first
    appearance."""
    if Z.shape[0] == 0:
        return Z
    _, first, _ = distinct_rows(np.round(Z, 9))
    return Z[first]


BLOCK_ROWS = 32_768


def pool_blocks(sizes, padded=False, limit=None):
    """Runs ``[a, b)`` of consecutive pools, each run holding at most
    ``limit`` rows (with ``padded``, its pool count times its largest pool,
    as when padded into one array; default ``BLOCK_ROWS``), or a single
    pool. Grouped work done run by run keeps its memory bounded however
    many queries a chunk holds."""
    limit = BLOCK_ROWS if limit is None else limit
    a, n = 0, len(sizes)
    while a < n:
        b, big = a + 1, sizes[a]
        total = sizes[a]
        while b < n:
            big2 = max(big, sizes[b])
            need = (b + 1 - a) * big2 if padded else total + sizes[b]
            if need > limit:
                break
            b, big, total = b + 1, big2, total + sizes[b]
        yield a, b
        a = b


def unique_pools(pools, d):
    """:func:`unique_rows` of every pool in ``pools`` (a list of arrays of
    ``d`` columns), grouping the rows of many pools at once (runs of up to
    ``BLOCK_ROWS`` rows), not one pool at a time."""
    sizes = np.array([len(p) for p in pools], dtype=np.intp)
    out = []
    for a, b in pool_blocks(sizes):
        block = [p for p in pools[a:b] if len(p)]
        if not block:
            out.extend(np.asarray(p).reshape(0, d) for p in pools[a:b])
            continue
        Z = np.vstack(block)
        owner = np.repeat(np.arange(b - a), sizes[a:b])
        _, first, _ = distinct_rows(np.column_stack([owner, np.round(Z, 9)]))
        # first appearances in order: grouped by pool, each pool's in order
        kept = np.bincount(owner[first], minlength=b - a)
        out.extend(np.split(Z[first], np.cumsum(kept)[:-1]))
    return out
