"""KD-tree search over training rows (DiCE's ``"kdtree"`` method)."""

import numpy as np
from sklearn.neighbors import KDTree

from skcfx.counterfactual._engine.candidates import draw, project, single_changes
from skcfx.counterfactual._engine.methods import register

__all__ = ["EmbeddedKDTree", "TrainingIndex", "kdtree_search", "projected_neighbors"]


class EmbeddedKDTree:
    """A Manhattan KD-tree over coded rows in the feature space's L1
    embedding (:meth:`FeatureSpace.embed`), built on first query.

    A pickle holds the coded rows only (``d`` numbers per row, not the
    embedding's one column per category): a fitted explainer stays small,
    and a worker that receives it rebuilds the tree once.
    """

    def __init__(self, Z, space, columns=None, weights=None, leaf_size=40):
        self.Z, self.space = Z, space
        self.columns, self.weights, self.leaf_size = columns, weights, leaf_size
        self._tree = None

    def __getstate__(self):
        return {**self.__dict__, "_tree": None}

    def build(self):
        """Build the tree now (before forking workers that will share it)."""
        if self._tree is None:
            emb = self.space.embed(self.Z, self.columns, self.weights)
            self._tree = KDTree(emb, leaf_size=self.leaf_size, metric="manhattan")
        return self

    def query(self, X, k=1, **kw):
        """``KDTree.query`` of the embedded rows ``X`` (already embedded)."""
        return self.build()._tree.query(X, k=k, **kw)


class TrainingIndex:
    """KD-trees over the training rows, one per predicted outcome.

    Rows are embedded with numeric / MAD and categorical one-hot / 2, so
    the Manhattan distance in the tree is the explainer's mixed distance,
    with the features that may not vary weighted ``frozen_weight`` times:
    the nearest rows then share the query's frozen values where possible,
    so that moving them into the admissible region changes them least and
    they tend to stay real, valid training rows.

    Parameters
    ----------
    Z : ndarray (n_train, d)
        Coded training rows.
    group : ndarray of int (n_train,)
        Predicted class index of each row (classification) or 1 for rows
        whose prediction lies in the desired range (regression).
    space : FeatureSpace
    columns : ndarray of int
        Features that may vary.
    leaf_size : int
    frozen_weight : float
    """

    def __init__(self, Z, group, space, columns, leaf_size=40, frozen_weight=10.0):
        self.Z = Z
        self.group = group
        self.space = space
        self.columns = np.arange(space.n_features)
        self.weights = np.full(space.n_features, float(frozen_weight))
        self.weights[np.asarray(columns, dtype=int)] = 1.0
        self.trees = {}
        self.rows = {}
        for g in np.unique(group):
            rows = np.flatnonzero(group == g)
            # each distinct row once (Adult's eight columns repeat rows by
            # the thousand): the n nearest are n different rows, not copies
            _, first = np.unique(Z[rows], axis=0, return_index=True)
            rows = rows[np.sort(first)]
            self.rows[int(g)] = rows
            self.trees[int(g)] = EmbeddedKDTree(
                Z[rows], space, self.columns, self.weights, leaf_size
            )

    def neighbors(self, Zq, groups, n):
        """The ``n`` nearest training rows of the given groups, per query.

        Parameters
        ----------
        Zq : ndarray (q, d)
        groups : list of list of int
            Admissible groups of each query (several for "any other class").
        n : int

        Returns
        -------
        Z : ndarray (q, n', d)
            Rows sorted by distance, ``n' <= n`` (padded by repeating the
            last row when a group holds fewer rows).
        count : ndarray (q,) number of distinct rows returned.
        """
        q = Zq.shape[0]
        emb = self.space.embed(Zq, self.columns, self.weights)
        total = sum(len(r) for r in self.rows.values())
        n = max(1, min(n, total))
        out_idx = np.zeros((q, n), dtype=int)
        count = np.zeros(q, dtype=int)
        keys = {}
        for i, gs in enumerate(groups):
            keys.setdefault(tuple(gs), []).append(i)
        for gs, qs in keys.items():
            qs = np.asarray(qs)
            dists, idxs = [], []
            for g in gs:
                if g not in self.trees:
                    continue
                kk = min(n, len(self.rows[g]))
                dd, ii = self.trees[g].query(emb[qs], k=kk, sort_results=True)
                dists.append(dd)
                idxs.append(self.rows[g][ii])
            if not dists:
                continue
            dd = np.concatenate(dists, axis=1)
            ii = np.concatenate(idxs, axis=1)
            order = np.argsort(dd, axis=1, kind="stable")[:, :n]
            ii = np.take_along_axis(ii, order, axis=1)
            c = ii.shape[1]
            count[qs] = c
            if c < n:
                ii = np.concatenate([ii, np.repeat(ii[:, -1:], n - c, axis=1)], axis=1)
            out_idx[qs] = ii
        Z = self.Z[out_idx]
        return Z, count


def projected_neighbors(problem, index, qidx, n):
    """Nearest desired-outcome training rows, moved into each query's
    admissible region: frozen features take the query's value, numeric
    values are clipped into the box, disallowed categories are redrawn."""
    Zn, count = index.neighbors(problem.Zq[qidx], [problem.groups[i] for i in qidx], n)
    d = Zn.shape[-1]
    frozen = ~problem.bounds.varying[qidx]
    Zn = np.where(frozen[:, None, :], problem.Zq[qidx][:, None, :], Zn)
    U = draw(problem.rngs, qidx, (Zn.shape[1], d))
    return project(Zn, problem.bounds, problem.space, qidx, U), count


@register("kdtree", n_candidates=100, max_rounds=3, fallback="genetic")
def _search(problem, context, queries, n_candidates, max_rounds):
    return kdtree_search(
        problem,
        index=context.index,
        n_candidates=n_candidates,
        max_rounds=max_rounds,
        queries=queries,
    )


def kdtree_search(problem, *, index, n_candidates=100, max_rounds=3, queries=None):
    """Retrieve, project and check the nearest training rows of the desired
    outcome.

    Stage ``s`` (``s = 0 .. max_rounds-1``) takes the ``n_candidates * 8**s``
    nearest training rows predicted as the desired outcome (on the varying
    features), projects them into the query's admissible region and scores
    them with one model call for all queries still short of ``k`` valid
    candidates; the first stage also scores every one-feature change of the
    query on a grid. Projection keeps every constraint exact; it can also make a
    neighbour invalid, which is why later stages widen the net (DiCE's
    kd-tree method, which does not widen it, misses many queries under
    constraints). Queries for which no projected neighbour is valid are
    left to the registry's fall-back (a genetic search seeded with their
    projected neighbours), so that the kd-tree's misses do not become
    missing explanations.

    Returns
    -------
    pools : list of ndarray, valid candidates per query.
    """
    n, d = problem.Zq.shape
    pools = [np.zeros((0, d)) for _ in range(n)]
    active = np.zeros(n, dtype=bool)
    active[np.flatnonzero(problem.bounds.feasible) if queries is None else queries] = (
        True
    )
    size = n_candidates
    total = len(index.Z)
    for stage in range(max_rounds):
        qidx = np.flatnonzero(active)
        if len(qidx) == 0:
            break
        m = min(size, total, 4096)
        Zc, _ = projected_neighbors(problem, index, qidx, m)
        if stage == 0:  # with every one-feature change, the sparsest candidates
            Zc = np.concatenate([single_changes(problem, qidx), Zc], axis=1)
        m = Zc.shape[1]
        owner = np.repeat(qidx, m)
        valid, loss = problem.evaluate(Zc.reshape(-1, d), owner)
        valid = valid.reshape(len(qidx), m)
        # a stage holds hundreds of candidates per query: after two stages in
        # which none moved the model toward the outcome, give up on a query
        hopeless = problem.note_progress(
            qidx, loss.reshape(len(qidx), m), valid, patience=1
        )
        active[qidx[hopeless]] = False
        for row, i in enumerate(qidx):
            found = np.unique(np.vstack([pools[i], Zc[row][valid[row]]]), axis=0)
            pools[i] = found
            if len(found) >= problem.k:
                active[i] = False
        if m >= min(total, 4096):
            break
        size *= 8
    return pools
