"""What every counterfactual explainer and result shares, whatever the modality.

* :data:`STATUS`: the per-query statuses.
* :func:`resolve_targets`: ``desired_class`` (a label, ``"opposite"``, or one
  label per query) to class indices, the one spelling of the goal used by
  the tabular, image and text explainers.
* :class:`BaseCounterfactualExplanations`: the result API common to
  :class:`~skcfx.CounterfactualExplanations`,
  :class:`~skcfx.counterfactual.ImageCounterfactualExplanations` and
  :class:`~skcfx.counterfactual.TextCounterfactualExplanations`: per-query
  ``status``, ``owner`` / ``rank`` / ``valid`` per counterfactual,
  :meth:`~BaseCounterfactualExplanations.best_index`, validity, coverage
  and the fixed-ruler :meth:`~BaseCounterfactualExplanations.score`.
"""

import numpy as np
import pandas as pd

__all__ = [
    "STATUS",
    "BaseCounterfactualExplanations",
    "class_index",
    "resolve_targets",
]

STATUS = {
    "found": "found",
    "infeasible": "infeasible under constraints",
    "exhausted": "search budget exhausted",
    "already": "query already has the desired outcome",
    "unreachable": "unreachable within budget",
    "failed": "model failed on the query",
    "evaluated": "evaluated",
}

#: statuses of a query that needed a counterfactual and got none
NOT_FOUND = (
    STATUS["exhausted"],
    STATUS["infeasible"],
    STATUS["unreachable"],
    STATUS["failed"],
)


def resolve_targets(desired_class, classes, orig, *, name="desired_class"):
    """Desired class index per query; -1 means "any class but the query's".

    Parameters
    ----------
    desired_class : "opposite", label, or array-like of labels (n,)
        ``"opposite"``: the other class of a binary model, any other class
        of a multi-class one.
    classes : ndarray of the model's classes.
    orig : ndarray of int (n,)
        Index of each query's predicted class.

    Returns
    -------
    target : ndarray of int (n,)
    """
    n = len(orig)
    if isinstance(desired_class, str) and desired_class == "opposite":
        if len(classes) == 2:
            return 1 - np.asarray(orig, dtype=int)
        return np.full(n, -1)
    values = np.asarray(desired_class, dtype=object)
    labels = np.broadcast_to(values, (n,)) if values.ndim == 0 else values.ravel()
    if values.ndim and len(labels) != n:
        raise ValueError(
            f"{name} holds {len(labels)} labels for {n} queries; pass one "
            "label, 'opposite', or one label per query."
        )
    pos = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
    target = np.empty(n, dtype=int)
    for i, lab in enumerate(labels):
        key = lab.item() if isinstance(lab, np.generic) else lab
        if key not in pos:
            raise ValueError(
                f"{name}={key!r} is not a class of the model; classes_ = "
                f"{np.asarray(classes).tolist()}."
            )
        target[i] = pos[key]
    return target


def in_range(y, low, high):
    """Whether predictions ``y`` lie in ``[low, high]``, inclusive up to
    rounding (``1e-9`` relative): a row on a bound is predicted a few ulps
    either side of it depending on the batch it is predicted in, and a
    solver's optimum sits exactly on the bound."""
    y, low, high = (np.asarray(v, dtype=float) for v in (y, low, high))
    with np.errstate(invalid="ignore"):
        tol_low = 1e-9 * np.maximum(1.0, np.abs(np.where(np.isfinite(low), low, 0.0)))
        tol_high = 1e-9 * np.maximum(
            1.0, np.abs(np.where(np.isfinite(high), high, 0.0))
        )
        return (y >= low - tol_low) & (y <= high + tol_high)


def class_index(classes, labels):
    """Position of each label in ``classes`` (which need not be sorted)."""
    pos = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
    return np.array([pos[v] for v in np.asarray(labels).tolist()], dtype=int)


def describe_desired(classes, target, orig):
    """Readable desired outcome per query (``"not <class>"`` for -1)."""
    return np.array(
        [classes[t] if t >= 0 else f"not {classes[o]}" for t, o in zip(target, orig)],
        dtype=object,
    )


class BaseCounterfactualExplanations:
    """Counterfactuals of a batch of queries: the API every modality shares.

    Returned by the explainers' ``explain``; not built by hand.

    Attributes
    ----------
    index : pandas.Index
        The queries' labels: the caller's index for a pandas input, else
        positions.
    status : ndarray of str, shape (n_queries,)
        Per query: ``"found"``, ``"search budget exhausted"``,
        ``"query already has the desired outcome"``, ...
    reason : ndarray of str, shape (n_queries,)
        Why, where a status needs it ("" otherwise).
    owner : ndarray of int, shape (n_counterfactuals,)
        Position of each counterfactual's query.
    rank : ndarray of int, shape (n_counterfactuals,)
        0 for the best counterfactual of its query.
    valid : ndarray of bool, shape (n_counterfactuals,)
        The model, re-run on the counterfactual, gives the desired outcome.
    query_prediction : ndarray
        The model's prediction for each query.
    desired : ndarray
        Desired outcome per query.
    n_requested : int
        Counterfactuals requested per query.
    seconds : float
        Wall time of the ``explain`` call that made them.
    """

    def _init_common(
        self,
        *,
        index,
        owner,
        rank,
        valid,
        prediction,
        probability,
        status,
        reason,
        query_prediction,
        desired,
        n_requested,
        seconds,
    ):
        self.index = pd.Index(index)
        self.owner = np.asarray(owner, dtype=int)
        self.rank = np.asarray(rank, dtype=int)
        self.valid = np.asarray(valid, dtype=bool)
        self.prediction = np.asarray(prediction)
        self.probability = np.asarray(probability, dtype=float)
        self.status = np.asarray(status, dtype=object)
        self.reason = np.asarray(reason, dtype=object)
        self.query_prediction = np.asarray(query_prediction)
        self.desired = np.asarray(desired, dtype=object)
        self.n_requested = int(n_requested)
        self.seconds = float(seconds)

    # ----------------------------------------------------------- accessors
    @property
    def n_queries(self):
        """Number of queries."""
        return len(self.status)

    def __len__(self):
        return self.n_queries

    def best_index(self):
        """Row of each query's best valid counterfactual.

        Returns
        -------
        rows : ndarray of int, shape (n_queries,)
            Position in :meth:`to_frame` (and in ``owner``, ``valid``, ...)
            of the query's valid counterfactual of lowest rank; -1 where the
            query has none.
        """
        best = np.full(self.n_queries, -1)
        rows = np.flatnonzero(self.valid)
        rows = rows[np.lexsort((self.rank[rows], self.owner[rows]))]
        first = np.unique(self.owner[rows], return_index=True)
        best[first[0]] = rows[first[1]]
        return best

    def needing(self):
        """Queries that needed a counterfactual.

        Returns
        -------
        mask : ndarray of bool, shape (n_queries,)
            False for the queries that already have the desired outcome.
        """
        return np.asarray(self.status != STATUS["already"], dtype=bool)

    # ------------------------------------------------------------ criteria
    def _row_keys(self):
        """A key per counterfactual row, equal for identical rows."""
        raise NotImplementedError

    def _cost(self):
        """Cost of each counterfactual row on the fixed ruler of
        :meth:`score` (a distance plus a changed fraction, both in [0, 1]
        for a typical change)."""
        raise NotImplementedError

    def validity(self):
        """Fraction of requested counterfactuals that are distinct and
        valid, over the queries that needed one (NaN when none did).

        Returns
        -------
        validity : float
        """
        needing = self.needing()
        if self.n_queries == 0:
            return 0.0
        if not needing.any():
            return float("nan")
        sel = self.valid & needing[self.owner]
        if not sel.any():
            return 0.0
        keys = self._row_keys()
        distinct = {
            (int(o), keys[r]) for r, o in zip(np.flatnonzero(sel), self.owner[sel])
        }
        return float(len(distinct) / (int(needing.sum()) * self.n_requested))

    def coverage(self):
        """Fraction of the queries that needed a counterfactual with at
        least one valid one (NaN when none needed one).

        Returns
        -------
        coverage : float
        """
        if self.n_queries == 0:
            return 0.0
        needing = self.needing()
        if not needing.any():
            return float("nan")
        has = np.zeros(self.n_queries, dtype=bool)
        has[self.owner[self.valid]] = True
        return float(has[needing].mean())

    def score(self):
        """One number on a fixed ruler, higher is better.

        ``score = validity - mean over valid counterfactuals of their cost``,
        where the cost adds a distance to the query and the fraction of the
        input changed, with unit weights that do **not** depend on the
        explainer's own weights, so that
        :class:`~sklearn.model_selection.GridSearchCV` compares every
        configuration on the same ruler (the cost of each modality is
        documented on its result class). 0 when no counterfactual is valid.

        Returns
        -------
        score : float
        """
        if not self.valid.any():
            return 0.0
        value = self.validity()
        cost = self._cost()[self.valid]
        return float((0.0 if np.isnan(value) else value) - cost.mean())

    def _status_counts(self):
        found = int((self.status == STATUS["found"]).sum())
        return found, int(self.valid.sum())
