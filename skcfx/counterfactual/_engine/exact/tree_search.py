"""Exact counterfactuals of tree ensembles by best-first branch and bound.

A tree ensemble's prediction depends on each column only through which
side of its thresholds the value falls, so each varying column has a short
list of *options*: for a categorical column, one category per distinct
split pattern; for a numeric column, the admissible value closest to the
query in each interval between consecutive thresholds (the query's own
value in its own interval). The explainer's cost is a sum over columns, so
an option's cost is its column's share of the cost.

The search enumerates sets of changes in a canonical column order (a state
changes some columns, the last at position ``p``; its children add one
change at a later position), cheapest first. Every state is a complete row
(unchanged columns keep the query's value), so the first state that the
model accepts is the optimum. A state's descendants are pruned when even
the best leaf of every tree, among the leaves its fixed columns still allow
(each tree maximised on its own, the simplest bound of tree-ensemble
verification), cannot give the desired outcome; a state that is not
itself a counterfactual needs at least one more change, which raises its
priority by the cheapest one left.
Leaves are numbered depth-first, so the leaves a split sends left or right
are contiguous ranges and every test is a vectorised mask operation.

When the time limit stops the search, the cheapest priority still queued
is a lower bound on the optimum (the certificate), and the best complete
candidate seen, if any, is returned as feasible.
"""

import heapq
import itertools
import time

import numpy as np

__all__ = ["TreeSearch", "option_inputs"]


def _keep_admissible(problem, i, j):
    """Whether query ``i`` may keep its own value of column ``j``."""
    b, x = problem.bounds, problem.Zq[i, j]
    if problem.space.is_categorical[j]:
        return bool(b.allowed[j][i][int(x)])
    if np.isnan(x):
        return True
    return bool(b.lo[i, j] - 1e-12 <= x <= b.hi[i, j] + 1e-12)


def _candidates(ens, im, problem, i, j):
    """Values of column ``j`` to try for query ``i``: every admissible
    category, or the admissible grid values next to each threshold, the box
    ends and the query's own value."""
    space, b = problem.space, problem.bounds
    x = problem.Zq[i, j]
    if space.is_categorical[j]:
        return np.flatnonzero(b.allowed[j][i]).astype(float)
    lo, hi = b.lo[i, j], b.hi[i, j]
    # the thresholds of the splits on column j, in the column's own units
    on_j = ens.split_columns(im) == j
    f = ens.split_input[on_j]
    ts = (ens.split_threshold[on_j] - im.base[f]) / im.A[f, j]
    dec = space.decimals[j]
    if dec is None:
        eps = 1e-9 * np.maximum(1.0, np.abs(ts))
        cand = np.concatenate([ts - eps, ts + eps, [lo, hi]])
    else:
        step = 10.0**-dec
        n_lo, n_hi = np.ceil(lo / step - 1e-9), np.floor(hi / step + 1e-9)
        base = np.floor(ts / step)
        near = (base[:, None] + np.arange(-3, 4)[None, :]).ravel()
        if not np.isnan(x):
            near = np.concatenate([near, [np.floor(x / step), np.ceil(x / step)]])
        n = np.clip(np.unique(np.concatenate([near, [n_lo, n_hi]])), n_lo, n_hi)
        cand = np.round(np.unique(n) * step, dec)
    cand = cand[(cand >= lo - 1e-12) & (cand <= hi + 1e-12)]
    if _keep_admissible(problem, i, j):
        cand = np.concatenate([[x], cand])
    if np.isnan(x):
        return np.concatenate([[x], np.unique(cand[~np.isnan(cand)])])
    return np.unique(cand)


def option_inputs(ensemble, input_map, problem, queries):
    """For each query, what its search reads off the model's input: the
    varying columns, their candidate values, the coded rows (the query,
    then each column's candidates) and their exact model inputs, all
    queries' rows through the model's preprocessing in one call."""
    parts = []
    for i in queries:
        x = problem.Zq[i]
        columns = [
            j for j in range(problem.space.n_features) if problem.bounds.varying[i, j]
        ]
        values = {j: _candidates(ensemble, input_map, problem, i, j) for j in columns}
        rows = [x[None, :]]
        for j in columns:
            Z = np.repeat(x[None, :], len(values[j]), axis=0)
            Z[:, j] = values[j]
            rows.append(Z)
        parts.append((columns, values, np.vstack(rows)))
    if not parts:
        return {}
    Z = np.vstack([part[2] for part in parts])
    phi = input_map.preprocess(problem.space.decode(Z))
    out, start = {}, 0
    for i, (columns, values, Zi) in zip(queries, parts):
        out[i] = (columns, values, Zi, phi[start : start + len(Zi)])
        start += len(Zi)
    return out


class TreeSearch:
    """Best-first search of one query's counterfactuals for one target.

    Parameters
    ----------
    ensemble : Ensemble
    input_map : InputMap
    problem : Problem
    i : int
        Query index in ``problem``.
    target : int or None
        Class index wanted (None: ``problem``'s value range, regression).
    verify : bool
        Check every answer with the real model (``problem.evaluate``,
        which also applies the user's predicates); False for surrogates.
    inputs : tuple, optional
        The query's entry of :func:`option_inputs` (computed here when
        not given).
    """

    def __init__(
        self, ensemble, input_map, problem, i, target, verify=True, inputs=None
    ):
        self.ens, self.im, self.problem, self.i = ensemble, input_map, problem, i
        self.verify = verify
        self._margins(target)
        if inputs is None:
            inputs = option_inputs(ensemble, input_map, problem, [i])[i]
        self._options(*inputs)
        self._masks()

    # ------------------------------------------------------------ margins
    def _margins(self, target):
        """Linear functions of the leaf values that must all be >= 0 for the
        desired outcome (a strict inequality, and ties, are left to the real
        model, which checks every answer)."""
        ens, p = self.ens, self.problem
        V, c = [], []
        LV = ens.leaf_value
        if ens.rule == "value":
            V += [LV[:, 0], -LV[:, 0]]
            c += [ens.const[0] - p.low[self.i], p.high[self.i] - ens.const[0]]
        elif ens.rule == "sign":
            s = 1.0 if target == 1 else -1.0
            V.append(s * LV[:, 0])
            c.append(s * ens.const[0])
        else:
            for k in range(ens.n_outputs):
                if k != target:
                    V.append(LV[:, target] - LV[:, k])
                    c.append(ens.const[target] - ens.const[k])
        self.V = np.asarray(V, dtype=float)
        self.c = np.asarray(c, dtype=float)
        n_trees = len(ens.tree_start)
        self.tol = 1e-9 * (1.0 + np.abs(self.V).max(initial=0.0) * n_trees)
        self._ranked = [ens.ranked(v) for v in self.V]

    def bound(self, masks):
        """Per mask row, the highest value of each margin over the leaves it
        allows (one leaf per tree): ``(n_rows, n_margins)``.

        Each tree's leaves carry their rank by value (best = highest code),
        so the best allowed leaf is a small-integer maximum per tree."""
        masks = np.atleast_2d(masks)
        out = np.empty((len(masks), len(self.V)))
        starts = self.ens.tree_start
        for r, (code, size, by_rank) in enumerate(self._ranked):
            best = np.maximum.reduceat(masks * code[None, :], starts, axis=1)
            idx = np.minimum(starts[None, :] + size[None, :] - best, len(by_rank) - 1)
            vals = np.where(best > 0, by_rank[idx], -np.inf)
            out[:, r] = self.c[r] + vals.sum(axis=1)
        return out

    def _possible(self, ub):
        return (ub >= -self.tol).all(axis=1)

    # ------------------------------------------------------------ options
    def _options(self, columns, values, Z, phi):
        """Each varying column's options: values, costs and split outcomes
        (one option per split pattern, its cheapest value)."""
        p, i = self.problem, self.i
        space = p.space
        x = p.Zq[i]
        self.columns = list(columns)
        cost = p.cost(Z, np.full(len(Z), i))
        start = 1
        ens = self.ens
        self.split_col = split_col = ens.split_columns(self.im)
        # outcomes of splits on columns that do not vary: the query's
        every = np.arange(len(split_col))
        self.query_right = ens.goes_right(phi[0, ens.split_input], every)
        self.opt_value, self.opt_cost, self.opt_right, self.keep = {}, {}, {}, {}
        for j in self.columns:
            n = len(values[j])
            block = slice(start, start + n)
            start += n
            splits = np.flatnonzero(split_col == j)
            right = ens.goes_right(phi[block][:, ens.split_input[splits]], splits)
            cj = cost[block]
            keep_ok = _keep_admissible(p, i, j)
            is_keep = space.changed(x[None, :], Z[block])[:, j] == 0
            cj = np.where(is_keep, 0.0, cj)
            if not keep_ok:
                cj = np.where(is_keep, np.inf, cj)
            # one option per split pattern: its cheapest value
            order = np.lexsort((~is_keep, cj))
            seen, keepers = set(), []
            for o in order:
                if not np.isfinite(cj[o]):
                    continue
                key = right[o].tobytes()
                if key not in seen:
                    seen.add(key)
                    keepers.append(o)
            keepers = np.asarray(keepers, dtype=np.intp)
            self.opt_value[j] = values[j][keepers]
            self.opt_cost[j] = cj[keepers]
            self.opt_right[j] = (splits, right[keepers])
            k = np.flatnonzero(is_keep[keepers])
            self.keep[j] = int(k[0]) if len(k) else -1

    # -------------------------------------------------------------- masks
    def _masks(self):
        """Leaf masks: what the non-varying columns allow (``base``) and,
        per varying column and option, the leaves consistent with it."""
        ens = self.ens
        L = len(ens.leaf_value)
        base = np.ones(L, dtype=bool)
        for s in np.flatnonzero(~np.isin(self.split_col, self.columns)):
            a, z = ens.split_left[s] if self.query_right[s] else ens.split_right[s]
            base[a:z] = False
        self.base = base
        # columns with the most splits first: the bound tightens soonest
        self.columns.sort(key=lambda j: -np.sum(self.split_col == j))
        self.C = []
        for j in self.columns:
            splits, right = self.opt_right[j]
            C = np.ones((len(right), L), dtype=bool)
            for r, s in enumerate(splits):
                a, z = ens.split_left[s]
                C[right[:, r], a:z] = False
                a, z = ens.split_right[s]
                C[~right[:, r], a:z] = False
            self.C.append(C)
        m = len(self.columns)
        self.any_after = [None] * (m + 1)  # leaves any option of columns > q allows
        self.keep_after = [None] * (m + 1)  # leaves the unchanged columns > q allow
        acc_any, acc_keep = np.ones(L, dtype=bool), np.ones(L, dtype=bool)
        self.any_after[m], self.keep_after[m] = acc_any.copy(), acc_keep.copy()
        min_change = np.full(m + 1, np.inf)
        for q in range(m - 1, -1, -1):
            j = self.columns[q]
            acc_any &= self.C[q].any(axis=0)
            k = self.keep[j]
            acc_keep &= self.C[q][k] if k >= 0 else False
            self.any_after[q], self.keep_after[q] = acc_any.copy(), acc_keep.copy()
            change = np.delete(self.opt_cost[j], k) if k >= 0 else self.opt_cost[j]
            min_change[q] = min(min_change[q + 1], change.min(initial=np.inf))
        self.min_change_from = min_change  # cheapest single change at positions >= q
        self.change_options = [
            np.array(
                [o for o in range(len(self.opt_cost[j])) if o != self.keep[j]],
                dtype=np.intp,
            )
            for j in self.columns
        ]

    # ------------------------------------------------------------- search
    def _row(self, changes):
        Z = self.problem.Zq[self.i].copy()
        for q, o in changes:
            j = self.columns[q]
            Z[j] = self.opt_value[j][o]
        return Z

    def _accept(self, Z):
        if not self.verify:
            return True
        valid, _ = self.problem.evaluate(Z[None, :], np.array([self.i]))
        return bool(valid[0])

    def run(self, k=1, time_limit=10.0, max_work=None):
        """Up to ``k`` rows changing different sets of columns (or a
        categorical column to another category), cheapest first, none an
        earlier one with more changes (its changes, and others), within
        ``time_limit`` seconds and ``max_work`` leaf tests (child states
        times leaves bounded; None: no limit; a deterministic
        budget). Returns
        ``(rows, status, bound)``; ``status`` is "optimal", "feasible",
        "proved infeasible" or "no solution within time limit",
        ``bound`` a lower bound on the optimum's cost when the time limit
        stopped the search (None otherwise: the first row's cost)."""
        if not self.verify and k == 1 and len(self.ens.tree_start) == 1:
            return self._single_tree()
        start = time.perf_counter()
        m = len(self.columns)
        counter = itertools.count()
        # (priority, cost, tie, candidate, last position, changes)
        heap = [(0.0, 0.0, next(counter), False, -1, ())]
        found, patterns, taken = [], set(), []
        budget = np.inf if max_work is None else max_work
        self.work = 0
        while heap:
            if time.perf_counter() - start > time_limit or self.work >= budget:
                return self._stopped(heap, found)
            _, g, _, candidate, p, changes = heapq.heappop(heap)
            if candidate:  # its own margins pass: ask the model
                # the changed columns, a categorical one with its category
                # (another category is another answer; another value of a
                # numeric column is not)
                pattern = frozenset(
                    (q, o) if self.problem.space.is_categorical[self.columns[q]] else q
                    for q, o in changes
                )
                moves = frozenset(changes)
                # another pattern, and not an earlier answer's changes plus
                # pointless ones
                if pattern not in patterns and not any(t <= moves for t in taken):
                    Z = self._row(changes)
                    if self._accept(Z):
                        found.append(Z)
                        patterns.add(pattern)
                        taken.append(moves)
                        if len(found) >= k:
                            return found, "optimal", None
            self._expand(heap, counter, g, p, changes, m)
        return found, ("optimal" if found else "proved infeasible"), None

    def _single_tree(self):
        """One tree (a surrogate's seed): the optimum without a search. A
        row reaches exactly one leaf and the cost is a sum over columns, so
        the cheapest row into a leaf takes, per column, its cheapest option
        consistent with that leaf; the answer is the cheapest leaf whose
        value gives the desired outcome (all leaves at once)."""
        L = len(self.ens.leaf_value)
        total = np.where(
            self.base & (self.c[:, None] + self.V >= -self.tol).all(axis=0),
            0.0,
            np.inf,
        )
        picks = []
        for q, j in enumerate(self.columns):
            if not len(self.opt_cost[j]):
                return [], "proved infeasible", None
            cost = np.where(self.C[q], self.opt_cost[j][:, None], np.inf)
            o = cost.argmin(axis=0)
            total += cost[o, np.arange(L)]
            picks.append(o)
        leaf = int(np.argmin(total))
        if not np.isfinite(total[leaf]):
            return [], "proved infeasible", None
        changes = tuple(
            (q, int(o[leaf]))
            for q, (j, o) in enumerate(zip(self.columns, picks))
            if o[leaf] != self.keep[j]
        )
        return [self._row(changes)], "optimal", None

    def _expand(self, heap, counter, g, p, changes, m):
        prefix = self.base.copy()
        chosen = dict(changes)
        for q in range(p + 1):
            j = self.columns[q]
            o = chosen.get(q, self.keep[j])
            if o < 0:
                return  # a column that must change was left: dead end
            prefix &= self.C[q][o]
        # every child at once: one more change at a position q > p
        descs, owns, where = [], [], []
        for q in range(p + 1, m):
            j = self.columns[q]
            k = self.keep[j]
            opts = self.change_options[q]
            if len(opts):
                M = prefix[None, :] & self.C[q][opts]
                descs.append(M & self.any_after[q + 1][None, :])
                owns.append(M & self.keep_after[q + 1][None, :])
                where.extend((q, int(o)) for o in opts)
            if k < 0:
                break  # column q must change: no state may skip it
            prefix &= self.C[q][k]
        if not where:
            return
        descs = np.vstack(descs)
        self.work += descs.size
        ok = np.flatnonzero(self._possible(self.bound(descs)))
        if not len(ok):
            return
        own_ok = self._possible(self.bound(np.vstack(owns)[ok]))
        for r, valid in zip(ok, own_ok):
            q, o = where[r]
            cost = g + self.opt_cost[self.columns[q]][o]
            h = 0.0 if valid else self.min_change_from[q + 1]
            if np.isfinite(cost + h):
                new = changes + ((q, o),)
                heapq.heappush(
                    heap, (cost + h, cost, next(counter), bool(valid), q, new)
                )

    def _stopped(self, heap, found):
        if found:  # the first answer was proved optimal when it was found
            return found, "optimal", None
        bound = heap[0][0] if heap else np.inf
        # the cheapest queued candidates the model accepts
        candidates = sorted(item for item in heap if item[3])
        for item in candidates[:64]:
            Z = self._row(item[5])
            if self._accept(Z):
                return [Z], "feasible", bound
        return [], "no solution within time limit", bound
