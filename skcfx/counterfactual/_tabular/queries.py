"""From the caller's rows to one query object, and from it to a search problem.

:func:`check_input` validates X (pandas, polars, arrays) the scikit-learn
way; :func:`prepare` turns checked rows into :class:`Queries` (codes,
admissible boxes, the model's prediction and the desired outcome of every
row), which travels unchanged from ``explain`` to the result;
:class:`SearchSetup` holds what every chunk of an ``explain`` call shares
(model, space, training summary, settings) and builds the search
:class:`Problem` of a :class:`QueryChunk`; :func:`make_problem` does both for
a set of queries (also the factory that tests use).
"""

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted, validate_data

from skcfx.counterfactual._base import describe_desired, resolve_targets
from skcfx.counterfactual._engine.oracle import Oracle
from skcfx.counterfactual._engine.problem import Problem

__all__ = [
    "Queries",
    "QueryChunk",
    "SearchSetup",
    "check_input",
    "make_problem",
    "oracle_of",
    "prepare",
]


def _frame_input(explainer, X, reset):
    validate_data(explainer, X, reset=reset, skip_check_array=True)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D DataFrame; got {X.ndim} dims.")
    if X.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}) while a minimum "
            "of 1 is required."
        )
    if (
        not reset
        and hasattr(explainer, "feature_names_in_")
        and list(map(str, X.columns)) != explainer._names
    ):
        raise ValueError(
            f"X has columns {list(X.columns)}; expected {explainer._names}."
        )
    return X


def check_input(explainer, X, reset):
    """Validate X; return (DataFrame view of it, "frame" or "array")."""
    if hasattr(X, "columns") and not hasattr(X, "iloc") and hasattr(X, "to_pandas"):
        # polars and other dataframes: work on a pandas copy, with the same
        # column names, which the model accepts as well
        validate_data(explainer, X, reset=reset, skip_check_array=True)
        X = pd.DataFrame({str(c): np.asarray(X[c].to_numpy()) for c in X.columns})
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        return _frame_input(explainer, X, reset), "frame"
    arr = validate_data(
        explainer, X, reset=reset, dtype=None, ensure_all_finite="allow-nan"
    )
    if arr.dtype.kind not in "biufO":
        arr = arr.astype(object)
    names = (
        [str(c) for c in explainer.feature_names_in_]
        if hasattr(explainer, "feature_names_in_")
        else [f"x{i}" for i in range(arr.shape[1])]
    )
    frame = pd.DataFrame(arr, columns=names)
    if arr.dtype.kind == "O":
        frame = frame.infer_objects()
    return frame, "array"


@dataclass
class Queries:
    """The checked queries of one ``explain`` / ``evaluate`` call.

    Attributes
    ----------
    frame : DataFrame
        The rows as given (a copy), index preserved.
    Zq : ndarray (n, d)
        Coded rows.
    bounds : QueryBounds
        Admissible region of each row.
    prediction : ndarray
        The model's prediction (label, or value for a regressor).
    orig, target : ndarray of int
        Predicted and desired class index (-1: any class but ``orig``);
        for a regressor 0 and 1 (out of / in the desired range).
    low, high : ndarray of float or None
        Desired range per row (regression).
    groups : list of list of int
        Training-row groups that reach each row's desired outcome.
    failed : ndarray of bool
        Rows the model raised on; ``failure`` holds its first message.
    desired : ndarray
        Readable desired outcome per row.
    """

    frame: pd.DataFrame
    Zq: np.ndarray
    bounds: object
    prediction: np.ndarray
    orig: np.ndarray
    target: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    groups: list
    failed: np.ndarray
    failure: str = ""
    desired: np.ndarray = field(default=None)

    @property
    def n(self):
        return self.Zq.shape[0]

    @property
    def already(self):
        """Rows that already have the desired outcome (no search needed)."""
        if self.low is not None:
            ok = (self.prediction >= self.low) & (self.prediction <= self.high)
        else:
            ok = self.target == self.orig
        return ok & ~self.failed


def oracle_of(explainer):
    """The oracle of a fitted explainer: its model, space and constraints."""
    return Oracle(
        explainer.estimator_,
        explainer.feature_space_,
        explainer.constraints_,
        explainer.model_input_,
        explainer._task,
        getattr(explainer, "classes_", None),
        explainer._use_predict,
        explainer._y_scale,
        getattr(explainer, "_coded_scm", None),
    )


def _regression_targets(explainer, out, failed, n):
    low, high = explainer._range()
    pred = np.full(n, np.nan) if out is None else out.astype(float).ravel()
    pred[failed] = np.nan
    desired = np.empty(n, dtype=object)
    for i in range(n):
        desired[i] = (float(low), float(high))
    return dict(
        prediction=pred,
        orig=np.zeros(n, dtype=int),
        target=np.ones(n, dtype=int),
        low=np.full(n, low),
        high=np.full(n, high),
        groups=[[1]] * n,
        desired=desired,
    )


def _classification_targets(explainer, out, n):
    classes = explainer.classes_
    labels = np.full(n, classes[0], dtype=classes.dtype) if out is None else out
    orig = np.searchsorted(classes, np.asarray(labels))
    target = resolve_targets(explainer.desired_class, classes, orig)
    groups = [
        [int(t)] if t >= 0 else [c for c in range(len(classes)) if c != o]
        for t, o in zip(target, orig)
    ]
    return dict(
        prediction=np.asarray(labels),
        orig=orig,
        target=target,
        low=None,
        high=None,
        groups=groups,
        desired=describe_desired(classes, target, orig),
    )


def prepare(explainer, X):
    """Check ``X`` and compute everything the search and the result need."""
    check_is_fitted(explainer)
    frame, _ = check_input(explainer, X, reset=False)
    space = explainer.feature_space_
    Zq = space.encode(frame)
    out, failed, failure = oracle_of(explainer).predict(
        explainer.model_input_(space.decode(Zq))
    )
    n = Zq.shape[0]
    if explainer._task == "regression":
        targets = _regression_targets(explainer, out, failed, n)
    else:
        targets = _classification_targets(explainer, out, n)
    return Queries(
        frame=frame.copy(),
        Zq=Zq,
        bounds=explainer.constraints_.bounds(Zq),
        failed=failed,
        failure=failure,
        **targets,
    )


def make_problem(explainer, queries, rows=None):
    """The search problem of ``queries`` (or of its ``rows``)."""
    return SearchSetup(explainer).problem(QueryChunk.of(queries, rows))


@dataclass
class QueryChunk:
    """The part of :class:`Queries` a search needs for some of its rows
    (what travels to a worker per chunk of parallel work)."""

    Zq: np.ndarray
    bounds: object
    target: np.ndarray
    orig: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    groups: list

    @classmethod
    def of(cls, queries, rows=None):
        rows = np.arange(queries.n) if rows is None else np.asarray(rows, dtype=int)

        def take(a):
            return None if a is None else a[rows]

        return cls(
            queries.Zq[rows],
            queries.bounds.take(rows),
            queries.target[rows],
            queries.orig[rows],
            take(queries.low),
            take(queries.high),
            [queries.groups[i] for i in rows],
        )


class SearchSetup:
    """What every chunk of one ``explain`` call shares: the oracle (the
    model), the feature space, the training summary, the method's context
    and the settings. One object, handed over once per ``explain``:
    broadcast to every dask worker before the chunks, inherited by forked
    workers."""

    def __init__(self, explainer):
        space = explainer.feature_space_
        self.space = space
        self.oracle = oracle_of(explainer)
        context = getattr(explainer, "_context", None)
        if context is not None:  # time_limit as set now, not as in fit
            context = replace(context, time_limit=explainer.time_limit)
        self.context = context
        self.method = explainer._search_method
        # method="auto" that chose the gradient search: queries with missing
        # values, which it cannot start from, get the genetic search
        self.missing_method = (
            "genetic"
            if explainer.method == "auto" and self.method == "gradient"
            else None
        )
        self.n_candidates = explainer.n_candidates
        self.max_rounds = explainer.max_rounds
        self.posthoc_sparsity = explainer.posthoc_sparsity
        self.settings = dict(
            base_seed=explainer._seed,
            k=explainer.n_counterfactuals,
            proximity_weight=explainer.proximity_weight,
            sparsity_weight=explainer.sparsity_weight,
            diversity_weight=explainer.diversity_weight,
            min_separation=explainer.min_separation / space.n_features,
            manifold=explainer._manifold,
            plausibility_weight=explainer.plausibility_weight,
            plausibility_neighbors=explainer.plausibility_neighbors,
        )

    def _trees(self):
        """The KD-trees of the training rows that the chunks query: the
        search's index (genetic, random and kdtree seeds) and the manifold
        (plausibility, and every result's distance to the data)."""
        trees = []
        index = getattr(self.context, "index", None)
        heuristic = ("genetic", "random", "kdtree")
        if index is not None and (
            self.method in heuristic or self.missing_method in heuristic
        ):
            trees += list(index.trees.values())
        manifold = self.settings["manifold"]
        if manifold is not None:
            trees += list(manifold.trees.values())
        return trees

    def build(self):
        """Build the KD-trees of the training rows now, once per explainer
        (they are kept on it): forked workers then share one copy, and
        workers that receive the setup pickled (loky, dask, ray) get them
        built, instead of building their own per chunk or per ``explain``."""
        for tree in self._trees():
            tree.build()
        return self

    def __getstate__(self):
        # a fitted explainer pickles without its trees (they are rebuilt on
        # first use); the setup of one explain, sent to workers, carries
        # those already built (their arrays cost less to send than to rebuild)
        return {**self.__dict__, "_built": [t._tree for t in self._trees()]}

    def __setstate__(self, state):
        built = state.pop("_built", [])
        self.__dict__.update(state)
        for tree, kd in zip(self._trees(), built):
            if kd is not None and tree._tree is None:
                tree._tree = kd

    def problem(self, chunk):
        """The search :class:`Problem` of a :class:`QueryChunk`."""
        return Problem(
            chunk.Zq,
            chunk.bounds,
            self.space,
            self.oracle,
            target=chunk.target,
            orig=chunk.orig,
            low=chunk.low,
            high=chunk.high,
            groups=chunk.groups,
            **self.settings,
        )
