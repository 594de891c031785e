"""Result object of :meth:`CounterfactualExplainer.explain`."""

import numpy as np
import pandas as pd

from skcfx.counterfactual._base import STATUS, BaseCounterfactualExplanations
from skcfx.counterfactual._engine.problem import cost
from skcfx.counterfactual._tabular.display import DisplayMixin

__all__ = ["CounterfactualExplanations"]


class CounterfactualExplanations(DisplayMixin, BaseCounterfactualExplanations):
    """Counterfactuals of a batch of queries, with their checks and metrics.

    Returned by :meth:`CounterfactualExplainer.explain`; not built by hand.

    Attributes
    ----------
    queries : DataFrame
        The queries as given (a copy), index preserved.
    counterfactuals : list of DataFrame
        One per query, best first, in the caller's columns and dtypes
        (empty when none was found).
    status : ndarray of str, shape (n_queries,)
        ``"found"``, ``"infeasible under constraints"``, ``"search budget
        exhausted"`` or ``"query already has the desired outcome"``.
    query_prediction : ndarray
        The model's prediction for each query.
    desired : ndarray
        Desired class per query (``"opposite"`` resolved; for multi-class
        "opposite" the string ``"not <class>"``), or the desired range.
    n_requested : int
        Counterfactuals requested per query (``n_counterfactuals``).
    metrics : DataFrame
        Per-query metrics (see :mod:`skcfx.metrics`).
    summary : dict
        Aggregate metrics.
    seconds : float
        Wall time of :meth:`CounterfactualExplainer.explain` (NaN for
        :meth:`~CounterfactualExplainer.evaluate`).
    owner, rank, valid, prediction, probability : ndarray
        Per counterfactual (rows of :meth:`to_frame`): its query's
        position, its rank, whether the model gives it the desired outcome,
        the prediction and the probability of the predicted class.
    codes, query_codes : ndarray
        The counterfactuals and the queries in the coded feature space
        (numeric values, category codes), as :mod:`skcfx.metrics` reads
        them.
    action_codes : ndarray
        What the person changes, coded: the counterfactuals themselves, or
        with causal recourse (the explainer's ``scm``) the interventions,
        whose consequences ``codes`` holds. Proximity, sparsity, diversity
        and the fixed ruler of :meth:`score` measure these.
    causal : bool
        Whether the counterfactuals are causal recourse (an SCM
        propagated the interventions); :meth:`to_frame` then lists
        ``interventions`` and ``downstream`` changes.
    cell_violations : ndarray of bool, shape (n_counterfactuals, n_features)
        Cells that break a constraint.
    predicate_ok : ndarray of bool
        Rows that every user predicate admits.
    nearest_distance : ndarray
        Mixed distance of each counterfactual to the nearest training row
        of its query's desired outcome.
    certificate : DataFrame or None
        ``method="exact"`` only: per query the solver's ``solver_status``
        (``"optimal"``, ``"feasible"`` within the time limit, ``"proved
        infeasible"``, ...), the ``objective`` (the cost of the best
        counterfactual), the ``bound`` (no counterfactual costs less) and
        the relative ``gap``; linear programs are solved to a relative gap
        of 1e-6, which on a column with a fine grid (six decimals) is less
        than one step of it: another search may find a row cheaper by that
        much.
    """

    def __init__(
        self,
        *,
        queries,
        space,
        constraints,
        query_codes,
        codes,
        cell_violations,
        predicate_ok,
        nearest_distance,
        task,
        certificate=None,
        action_codes=None,
        manifold=None,
        groups=None,
        pred_group=None,
        **common,
    ):
        self.queries = queries
        self.space = space
        self.constraints = constraints
        self.query_codes = query_codes
        self.codes = codes
        self.causal = action_codes is not None
        self.action_codes = codes if action_codes is None else action_codes
        self._manifold = manifold
        self._groups = groups
        self._pred_group = pred_group
        self.cell_violations = cell_violations
        self.predicate_ok = predicate_ok
        self.nearest_distance = nearest_distance
        self.task = task
        self.certificate = certificate
        self.feature_names = list(space.names)
        self._init_common(index=queries.index, **common)
        # decoded once, in the caller's columns and dtypes
        self._rows = space.decode(
            codes if len(codes) else np.zeros((0, space.n_features))
        )

    @property
    def counterfactuals(self):
        out = []
        for i in range(self.n_queries):
            rows = np.flatnonzero(self.owner == i)
            cf = self._rows.iloc[rows].reset_index(drop=True)
            out.append(cf)
        return out

    def __getitem__(self, i):
        """Counterfactuals of query ``i`` (position) as a DataFrame."""
        return self.counterfactuals[i]

    def to_frame(self):
        """Long DataFrame of every counterfactual in the raw feature space.

        Returns
        -------
        frame : DataFrame
            The caller's columns with their dtypes, plus ``query`` (the
            query row's index label), ``rank`` (0 = best), ``prediction``,
            ``probability`` (of the predicted class, classification only)
            and ``valid``; for causal recourse also ``interventions`` and
            ``downstream`` (readable lists of the intervened cells and of
            the cells the SCM changed as a consequence, ``"income 30.2 ->
            35.4"``, separated by ``"; "``).
        """
        frame = self._rows.reset_index(drop=True).copy()
        # the query column has the dtype of the queries' index
        frame.insert(0, "query", self.queries.index[self.owner].to_numpy())
        frame.insert(1, "rank", self.rank.astype(int))
        frame["prediction"] = self.prediction
        if self.task == "classification":
            frame["probability"] = self.probability
        frame["valid"] = self.valid.astype(bool)
        if self.causal:
            act, down = self.change_kinds()
            frame["interventions"] = self._describe(act)
            frame["downstream"] = self._describe(down)
        return frame

    def change_kinds(self):
        """Which cells of each counterfactual the person changes and which
        change as a consequence.

        Returns
        -------
        interventions, downstream : ndarray of bool, shape (n_rows, d)
            Cells intervened on (changed in :attr:`action_codes`) and cells
            changed only through the SCM (all False without one).
        """
        Zq = self.query_codes[self.owner]
        act = self.space.changed(Zq, self.action_codes)
        down = self.space.changed(Zq, self.codes) & ~act
        return act, down

    def causal_gap(self, scm):
        """How far each counterfactual sits from what ``scm`` makes of its
        own changes.

        The changes are the interventions (causal recourse) or every changed
        cell (an explanation that ignored causes); the SCM propagates them
        from the query with the query's abducted noise. The gap is the
        largest difference, over the columns the SCM computes and the row
        did not intervene on, in units of that column's noise standard
        deviation (a categorical mismatch counts as infinite).

        Parameters
        ----------
        scm : StructuralCausalModel
            Fitted, over the explanation's columns (the true model, say).

        Returns
        -------
        gap : ndarray of shape (n_rows,)
            0 for a row the SCM reproduces exactly.
        """
        if self.causal:
            act, _ = self.change_kinds()
        else:
            act = self.space.changed(self.query_codes[self.owner], self.codes)
        names = self.feature_names
        factual = self.queries.iloc[self.owner].reset_index(drop=True)
        factual.columns = names
        rows = self._rows.reset_index(drop=True)
        rows.columns = names
        out = scm.propagate(factual, rows, act)
        gap = np.zeros(len(rows))
        for node in scm.parents_:
            j = names.index(node)
            if node in scm.categorical_:
                diff = np.where(
                    out[node].to_numpy() != rows[node].to_numpy(), np.inf, 0.0
                )
            else:
                scale = scm.noise_scale_.get(node) or 1.0
                diff = (
                    np.abs(
                        out[node].to_numpy(dtype=float)
                        - rows[node].to_numpy(dtype=float)
                    )
                    / scale
                )
            gap = np.maximum(gap, np.where(act[:, j], 0.0, diff))
        return gap

    def _describe(self, mask):
        from skcfx.counterfactual._tabular.display import fmt

        out = []
        for r in range(len(mask)):
            i = self.owner[r]
            parts = [
                f"{self.feature_names[j]} "
                f"{fmt(self.queries.iloc[i, j], self.space.decimals[j])} -> "
                f"{fmt(self._rows.iloc[r, j], self.space.decimals[j])}"
                for j in np.flatnonzero(mask[r])
            ]
            out.append("; ".join(parts))
        return out

    # ------------------------------------------------------------- metrics
    def per_query_diversity(self):
        """Mean pairwise distance of each query's valid counterfactuals.

        Returns
        -------
        diversity : ndarray of shape (n_queries,)
            NaN for a query with fewer than two.
        """
        out = np.full(self.n_queries, np.nan)
        for i in range(self.n_queries):
            rows = np.flatnonzero((self.owner == i) & self.valid)
            r = len(rows)
            if r < 2:
                continue
            Z = self.action_codes[rows]
            d = self.space.distance(Z[:, None, :], Z[None, :, :])
            out[i] = d[np.triu_indices(r, 1)].mean()
        return out

    @property
    def metrics(self):
        """Per-query metrics as a DataFrame indexed like the queries."""
        n = self.n_queries
        space = self.space
        Zq = self.query_codes[self.owner]
        A = self.action_codes
        dist = space.distance(Zq, A) if len(A) else np.zeros(0)
        nchg = space.changed(Zq, A).sum(axis=1) if len(A) else np.zeros(0)
        viol = self.cell_violations.sum(axis=1) + (~self.predicate_ok)

        def per_query(values, only_valid=True, agg=np.mean):
            out = np.full(n, np.nan)
            for i in range(n):
                sel = self.owner == i
                if only_valid:
                    sel &= self.valid
                if sel.any():
                    out[i] = agg(values[sel])
            return out

        counts = np.bincount(self.owner[self.valid], minlength=n)
        return pd.DataFrame(
            {
                "status": self.status,
                "n_valid": counts,
                "validity": counts / max(self.n_requested, 1),
                "proximity": per_query(dist),
                "sparsity": per_query(nchg.astype(float)),
                "diversity": self.per_query_diversity(),
                "plausibility": per_query(self.nearest_distance),
                "constraint_violations": np.nan_to_num(
                    per_query(viol.astype(float), only_valid=False, agg=np.sum)
                ).astype(int),
            },
            index=self.queries.index,
        )

    @property
    def summary(self):
        """Aggregate metrics (see :mod:`skcfx.metrics`)."""
        from skcfx import metrics as m

        return {
            "n_queries": self.n_queries,
            "validity": m.validity(self),
            "coverage": m.coverage(self),
            "proximity": m.proximity(self),
            "proximity_continuous": m.proximity_continuous(self),
            "proximity_categorical": m.proximity_categorical(self),
            "sparsity": m.sparsity(self),
            "diversity": m.diversity(self),
            "plausibility": m.plausibility(self),
            "constraint_violations": m.constraint_violations(self),
        }

    def _row_keys(self):
        return [row.tobytes() for row in np.round(self.action_codes, 9)]

    def _cost(self, plausibility_weight=0.0):
        """``dist(x, c) + n_changed(x, c) / d`` with unit weights (plus
        ``plausibility_weight`` times the distance to the nearest
        desired-outcome training row)."""
        c = cost(self.space, self.query_codes[self.owner], self.action_codes)
        if plausibility_weight:
            c = c + plausibility_weight * np.nan_to_num(self.nearest_distance)
        return c

    def knn_distance(self, k=5):
        """Mean mixed distance of each counterfactual (the resulting row) to
        its ``k`` nearest training rows that the model gives its query's
        desired outcome.

        Parameters
        ----------
        k : int, default=5
            Neighbours averaged.

        Returns
        -------
        distance : ndarray of shape (n_rows,)
        """
        return self._manifold.knn_distance(
            self.codes, [self._groups[i] for i in self.owner], k=k
        )

    def local_outlier_factor(self, n_neighbors=20):
        """Local outlier factor of each counterfactual among the training
        rows of its desired outcome (about 1 inside the data, larger
        outside; Breunig et al. 2000).

        Parameters
        ----------
        n_neighbors : int, default=20
            Neighbourhood size of the LOF.

        Returns
        -------
        lof : ndarray of shape (n_rows,)
        """
        return self._manifold.local_outlier_factor(
            self.codes, [self._groups[i] for i in self.owner], n_neighbors
        )

    def ynn(self, k=5):
        """CARLA's yNN per counterfactual: the fraction of its ``k`` nearest
        training rows that the model gives the counterfactual's own
        predicted outcome (1: it sits among rows of its class).

        Parameters
        ----------
        k : int, default=5
            Neighbours.

        Returns
        -------
        ynn : ndarray of shape (n_rows,)
        """
        pred = self._pred_group
        return self._manifold.ynn(self.codes, pred, k)

    def score(self, plausibility_weight=0.0):
        """One number on a fixed ruler, higher is better.

        ``score = validity - mean over valid counterfactuals of
        (dist(x, c) + n_changed(x, c) / d)``, with ``dist`` the MAD-scaled
        mixed distance of :mod:`skcfx.metrics` and unit weights that do
        **not** depend on the explainer's ``proximity_weight`` or
        ``sparsity_weight``: tuning those weights, the method or the search
        budget with :class:`~sklearn.model_selection.GridSearchCV` compares
        every configuration on the same ruler (a score built from the
        explainer's own weights would simply favour the smallest weights).
        ``validity`` counts missing counterfactuals as failures (coverage
        enters through it); queries that already have the desired outcome
        are left out. 0 when no counterfactual is valid.

        Parameters
        ----------
        plausibility_weight : float, default=0.0
            Also charge each valid counterfactual this weight times its
            distance to the nearest training row of its desired outcome (the
            ``plausibility`` metric): a ruler of the user's choosing that
            values closeness to the data, so that GridSearchCV can tune the
            explainer's ``plausibility_weight`` (with
            ``make_counterfactual_scorer("score", plausibility_weight=1)``).

        Returns
        -------
        score : float
        """
        if not self.valid.any():
            return 0.0
        value = self.validity()
        c = self._cost(plausibility_weight)[self.valid]
        return float((0.0 if np.isnan(value) else value) - c.mean())

    def best(self):
        """Best valid counterfactual of each query, in the caller's columns.

        Returns
        -------
        rows : DataFrame indexed like the queries
            A query's valid counterfactual of lowest rank; the query itself
            where it already has the desired outcome; missing values where
            it has none. Numeric columns are float64, categorical ones keep
            their dtype (object where a missing value must be held).
        """
        space = self.space
        best = self.best_index()
        out = self.queries.copy()
        rows = np.flatnonzero(best >= 0)
        cf = self._rows.iloc[best[rows]]
        none = np.flatnonzero((best < 0) & (self.status != STATUS["already"]))
        for j in range(space.n_features):
            col = out.iloc[:, j]
            if not space.is_categorical[j]:
                col = col.astype(float)
            elif len(none) and not isinstance(col.dtype, pd.CategoricalDtype):
                col = col.astype(object)
            values = col.to_numpy(copy=True)
            if len(rows):
                values[rows] = cf.iloc[:, j].to_numpy()
            if len(none):
                values[none] = np.nan
            out.isetitem(j, pd.Series(values, index=out.index).astype(col.dtype))
        return out
