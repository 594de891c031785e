"""A decision tree's seeds for a whole batch of queries at once.

A single tree (the depth-6 surrogate that seeds the genetic search for a
large tree ensemble) cuts the coded space into one box per leaf: an
interval per numeric column (a split ``phi_f > t`` on the affine input
``phi_f = base_f + A_fj z_j`` bounds ``z_j`` on one side), a set of allowed
categories per categorical column. The cost is a sum over columns that
grows with each column's change, so the cheapest row into a leaf moves each
column just inside the leaf's interval (clipped to the query's admissible
box and the column's grid) and keeps a category the leaf allows. Every
(query, leaf) pair is built at once, the surrogate checks which reach the
desired outcome in one call, and each query keeps its cheapest. This is
the optimum of the single-tree program that
:class:`~skcfx.counterfactual._engine.exact.tree_search.TreeSearch` would
find query by query, in array operations instead of one search per query.
"""

import numpy as np

__all__ = ["LeafBoxes"]


class LeafBoxes:
    """The leaves of a single tree as boxes of the coded space.

    Parameters
    ----------
    ensemble : Ensemble
        A one-tree ensemble (``len(ensemble.tree_start) == 1``).
    input_map : InputMap
        How the tree's inputs depend on the coded columns.
    space : FeatureSpace
    """

    def __init__(self, ensemble, input_map, space):
        L, d = len(ensemble.leaf_value), space.n_features
        self.lo = np.full((L, d), -np.inf)
        self.hi = np.full((L, d), np.inf)
        self.lo_strict = np.zeros((L, d), dtype=bool)
        self.hi_strict = np.zeros((L, d), dtype=bool)
        self.allowed = {
            j: np.ones((L, len(space.categories[j])), dtype=bool)
            for j in space.categorical
        }
        for s, j in enumerate(ensemble.split_columns(input_map)):
            if j < 0:
                continue
            f = ensemble.split_input[s]
            (la, lz), (ra, rz) = ensemble.split_left[s], ensemble.split_right[s]
            if space.is_categorical[j]:
                values = input_map.base[f] + input_map.tables[j][:, f]
                right = ensemble.goes_right(values, s)
                self.allowed[j][ra:rz] &= right[None, :]
                self.allowed[j][la:lz] &= ~right[None, :]
                continue
            a = input_map.A[f, j]
            t = (ensemble.split_threshold[s] - input_map.base[f]) / a
            if a > 0:  # right: z > t; left: z <= t
                self._lower(slice(ra, rz), j, t, True)
                self._upper(slice(la, lz), j, t, False)
            else:  # right: z < t; left: z >= t
                self._upper(slice(ra, rz), j, t, True)
                self._lower(slice(la, lz), j, t, False)

    def _lower(self, leaves, j, t, strict):
        lo, st = self.lo[leaves, j], self.lo_strict[leaves, j]
        self.lo_strict[leaves, j] = np.where(t > lo, strict, st | (strict & (t == lo)))
        self.lo[leaves, j] = np.maximum(lo, t)

    def _upper(self, leaves, j, t, strict):
        hi, st = self.hi[leaves, j], self.hi_strict[leaves, j]
        self.hi_strict[leaves, j] = np.where(t < hi, strict, st | (strict & (t == hi)))
        self.hi[leaves, j] = np.minimum(hi, t)

    def candidates(self, problem, queries):
        """The cheapest admissible row into every leaf, per query.

        Returns
        -------
        rows : ndarray (q, n_leaves, d)
        ok : ndarray of bool (q, n_leaves)
            Whether the leaf can be reached within the query's box.
        """
        space, b = problem.space, problem.bounds
        Zq = problem.Zq[queries]
        varying = b.varying[queries]
        q, L = len(queries), self.lo.shape[0]
        rows = np.repeat(Zq[:, None, :], L, axis=1)
        ok = np.ones((q, L), dtype=bool)
        for j in space.numeric:
            z = Zq[:, j][:, None]
            lo = _snap_up(self.lo[None, :, j], self.lo_strict[None, :, j], space, j)
            hi = _snap_down(self.hi[None, :, j], self.hi_strict[None, :, j], space, j)
            lo = np.maximum(lo, b.lo[queries, j][:, None])
            hi = np.minimum(hi, b.hi[queries, j][:, None])
            fixed = ~varying[:, j][:, None] | np.isnan(z)
            inside = (z >= lo) & (z <= hi)
            ok &= np.where(fixed, inside | np.isnan(z), lo <= hi)
            rows[:, :, j] = np.where(fixed, z, np.clip(z, lo, hi))
        for j in space.categorical:
            own = Zq[:, j].astype(int)
            allowed = b.allowed[j][queries][:, None, :] & self.allowed[j][None]
            keeps = allowed[np.arange(q), :, own]
            fixed = ~varying[:, j][:, None]
            ok &= np.where(fixed, keeps, allowed.any(axis=2))
            other = allowed.argmax(axis=2)
            rows[:, :, j] = np.where(fixed | keeps, own[:, None], other)
        return rows, ok

    def seeds(self, problem, queries, predict):
        """Per query, the cheapest row that ``predict`` (the surrogate's
        predictions on coded rows: class indices, or values) gives the
        desired outcome.

        Returns
        -------
        rows : ndarray (q, d)
        found : ndarray of bool (q,)
            False where no leaf gives the desired outcome (the row is then
            the query's own).
        """
        rows, ok = self.candidates(problem, queries)
        q, L, d = rows.shape
        out = problem.Zq[queries].copy()
        found = np.zeros(q, dtype=bool)
        r, leaf = np.nonzero(ok)
        if not len(r):
            return out, found
        flat = rows[r, leaf]
        owner = np.asarray(queries)[r]
        pred = np.asarray(predict(flat))
        if problem.oracle.task == "regression":
            good = (pred >= problem.low[owner]) & (pred <= problem.high[owner])
        else:
            pred = pred.astype(int)
            target = problem.target[owner]
            good = np.where(target >= 0, pred == target, pred != problem.orig[owner])
        r, flat, owner = r[good], flat[good], owner[good]
        if not len(r):
            return out, found
        cost = problem.cost(flat, owner)
        order = np.lexsort((cost, r))
        first = order[np.r_[True, r[order][1:] != r[order][:-1]]]
        out[r[first]] = flat[first]
        found[r[first]] = True
        return out, found


def _snap_up(t, strict, space, j):
    """The smallest value of column ``j``'s grid above ``t`` (``> t`` where
    ``strict``, else ``>= t``)."""
    dec = space.decimals[j]
    with np.errstate(invalid="ignore"):
        if dec is None:
            return np.where(strict, t + 1e-9 * np.maximum(1.0, np.abs(t)), t)
        step = 10.0**-dec
        k = np.where(strict, np.floor(t / step + 1e-9) + 1, np.ceil(t / step - 1e-9))
        return np.where(np.isfinite(t), np.round(k * step, dec), t)


def _snap_down(t, strict, space, j):
    """The largest value of column ``j``'s grid below ``t`` (``< t`` where
    ``strict``, else ``<= t``)."""
    dec = space.decimals[j]
    with np.errstate(invalid="ignore"):
        if dec is None:
            return np.where(strict, t - 1e-9 * np.maximum(1.0, np.abs(t)), t)
        step = 10.0**-dec
        k = np.where(strict, np.ceil(t / step - 1e-9) - 1, np.floor(t / step + 1e-9))
        return np.where(np.isfinite(t), np.round(k * step, dec), t)
