"""Closeness to the data manifold: the training rows of every outcome.

:class:`Manifold` keeps the explainer's training sample per predicted
outcome (class index, or 1 = inside the desired range) and measures how far
a row sits from the real rows of its desired outcome:

- :meth:`Manifold.knn_distance`: mean mixed distance to the ``k`` nearest
  such rows (exact, KD-tree in the L1 embedding); the objective's
  plausibility term and the ``plausibility`` metrics;
- :meth:`Manifold.local_outlier_factor`: Breunig et al.'s LOF of the row
  among the desired-outcome rows (about 1 inside the data, larger outside);
- :meth:`Manifold.ynn`: CARLA's yNN, the fraction of the row's ``k``
  nearest training rows (of any outcome) that the model gives the row's own
  predicted outcome.

During a search the plausibility term is measured against each query's
:data:`LOCAL_SIZE` nearest desired-outcome rows (:meth:`Manifold.local`,
one KD-tree query per query, then compiled brute force per candidate
batch): exact
for a candidate whose ``k`` nearest rows are among them, an over-estimate
otherwise; results are always reported with the exact distance.
"""

import numpy as np

from skcfx.counterfactual._engine.methods.kdtree import EmbeddedKDTree

__all__ = ["LOCAL_SIZE", "Manifold"]

LOCAL_SIZE = 256


class Manifold:
    """Training rows per predicted outcome, as nearest-neighbour indexes.

    Parameters
    ----------
    Z : ndarray (n_train, d)
        Coded training rows (the explainer's sample).
    group : ndarray of int (n_train,)
        Outcome group of each row.
    space : FeatureSpace
    """

    def __init__(self, Z, group, space):
        self.space = space
        self.groups = [int(g) for g in np.unique(group)]
        self.rows = {g: np.unique(Z[group == g], axis=0) for g in self.groups}
        self.trees = {g: EmbeddedKDTree(self.rows[g], space) for g in self.groups}
        self._all = None
        self._lof = {}

    def __getstate__(self):
        # the fitted LOF models and the all-rows tree are rebuilt on use
        return {**self.__dict__, "_all": None, "_lof": {}}

    def _rows_of(self, wanted):
        """Indices (into ``Z``) of the rows whose groups list holds ``g``."""
        return [
            np.array([r for r, gs in enumerate(wanted) if g in gs], dtype=int)
            for g in self.groups
        ]

    # -------------------------------------------------------------- exact
    def knn_distance(self, Z, wanted, k=1):
        """Mean mixed distance of each row to its ``k`` nearest training rows
        among the groups ``wanted[r]`` (NaN where those groups have none).

        Parameters
        ----------
        Z : ndarray (m, d)
        wanted : list of list of int
            Admissible groups per row (several for "any other class").
        k : int
        """
        space = self.space
        m = len(Z)
        best = np.full((m, k), np.inf)
        if m == 0:
            return np.zeros(0)
        emb = space.embed(Z)
        for g, rows in zip(self.groups, self._rows_of(wanted)):
            if len(rows) == 0:
                continue
            kk = min(k, len(self.rows[g]))
            dist, _ = self.trees[g].query(emb[rows], k=kk)
            dist = dist / space.n_features
            if kk < k:
                dist = np.hstack([dist, np.full((len(rows), k - kk), np.inf)])
            best[rows] = np.sort(np.hstack([best[rows], dist]), axis=1)[:, :k]
        # fewer than k rows in the groups: the mean of those there are
        return _finite_mean(best)

    # -------------------------------------------------------------- local
    def local(self, Zq, wanted, size=LOCAL_SIZE):
        """The ``size`` nearest desired-outcome training rows of each query
        (padded by repeating the nearest where there are fewer), shape
        ``(n, size, d)``."""
        space = self.space
        n = len(Zq)
        emb = space.embed(Zq)
        cand_d = [[] for _ in range(n)]
        cand_z = [[] for _ in range(n)]
        for g, rows in zip(self.groups, self._rows_of(wanted)):
            if len(rows) == 0:
                continue
            kk = min(size, len(self.rows[g]))
            dist, ind = self.trees[g].query(emb[rows], k=kk)
            for r, i in enumerate(rows):
                cand_d[i].append(dist[r])
                cand_z[i].append(self.rows[g][ind[r]])
        out = np.full((n, size, space.n_features), np.nan)
        for i in range(n):
            if not cand_d[i]:
                continue
            dist = np.concatenate(cand_d[i])
            rows = np.vstack(cand_z[i])[np.argsort(dist, kind="stable")[:size]]
            out[i] = rows[np.arange(size) % len(rows)]
        return out

    def local_distance(self, reference, Z, owner, k=1):
        """Mean mixed distance of each candidate to its ``k`` nearest rows
        among its query's ``reference`` rows (see :meth:`local`).

        Candidates are grouped by query; each group is one ``cdist`` call on
        the numeric columns (Manhattan, in MADs) and one on the categorical
        codes (Hamming), so the cost is linear in candidates x reference
        rows x columns, in compiled code.
        """
        from scipy.spatial.distance import cdist

        space = self.space
        m = len(Z)
        out = np.zeros(m)
        if m == 0:
            return out
        k = min(k, reference.shape[1])
        num, cat = self._split(Z)
        order = np.argsort(owner, kind="stable")
        bounds = np.flatnonzero(np.diff(owner[order])) + 1
        for rows in np.split(order, bounds):
            i = owner[rows[0]]
            if np.isnan(reference[i]).all():
                continue  # no desired-outcome training row: no term
            ref_num, ref_cat = self._split(reference[i])
            dist = np.zeros((len(rows), reference.shape[1]))
            if num.shape[1]:
                dist += cdist(num[rows], ref_num, "cityblock")
            if cat.shape[1]:
                dist += cdist(cat[rows], ref_cat, "hamming") * cat.shape[1]
            dist /= space.n_features
            if k == 1:
                out[rows] = dist.min(axis=1)
            else:
                out[rows] = np.partition(dist, k - 1, axis=1)[:, :k].mean(axis=1)
        return out

    def _split(self, Z):
        """Numeric columns in MADs (missing values at the median, as in the
        KD-trees) and categorical codes."""
        space = self.space
        num = space.numeric
        A = Z[:, num]
        A = np.where(np.isnan(A), space.median[num], A) / space.mad[num]
        return A, Z[:, space.categorical]

    # ------------------------------------------------------------ metrics
    def local_outlier_factor(self, Z, wanted, n_neighbors=20):
        """Local outlier factor of each row among the training rows of its
        desired outcome (Manhattan distance in the L1 embedding; ~1 inside
        the data, larger away from it; NaN without such rows). The LOF
        model of each outcome is fitted on first use."""
        from sklearn.neighbors import LocalOutlierFactor

        out = np.full(len(Z), np.nan)
        if len(Z) == 0:
            return out
        emb = self.space.embed(Z)
        for g, rows in zip(self.groups, self._rows_of(wanted)):
            if len(rows) == 0 or len(self.rows[g]) < 2:
                continue
            key = (g, n_neighbors)
            if key not in self._lof:
                train = self.space.embed(self.rows[g])
                self._lof[key] = LocalOutlierFactor(
                    n_neighbors=min(n_neighbors, len(train) - 1),
                    novelty=True,
                    metric="manhattan",
                ).fit(train)
            lof = -self._lof[key].score_samples(emb[rows])
            out[rows] = lof if np.isnan(out[rows]).all() else np.fmin(out[rows], lof)
        return out

    def ynn(self, Z, predicted, k=5):
        """CARLA's yNN per row: the fraction of its ``k`` nearest training
        rows (all outcomes, mixed distance) whose outcome group is
        ``predicted[r]`` (the row's own predicted group)."""
        if len(Z) == 0:
            return np.zeros(0)
        if self._all is None:
            Zall = np.vstack([self.rows[g] for g in self.groups])
            labels = np.concatenate(
                [np.full(len(self.rows[g]), g) for g in self.groups]
            )
            self._all = (EmbeddedKDTree(Zall, self.space), labels)
        tree, labels = self._all
        kk = min(k, len(labels))
        _, ind = tree.query(self.space.embed(Z), k=kk)
        return (labels[ind] == np.asarray(predicted)[:, None]).mean(axis=1)


def _finite_mean(values):
    """Row means over the finite entries (NaN for a row with none)."""
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(axis=1)
    count = finite.sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)
