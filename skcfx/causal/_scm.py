"""Structural causal models over the columns of a table.

A :class:`StructuralCausalModel` holds a DAG over columns and one structural
equation per node with parents: ``x_j = f_j(pa(x_j)) + u_j`` for a numeric
node (an additive-noise model), a classifier's decision for a categorical
one. It answers the counterfactual question of algorithmic recourse (Karimi,
Schölkopf and Valera, FAccT 2021): *had we intervened ``do(x_I = v)`` on this
person, what would every other column have been?*, in three steps:
abduction (each numeric node's noise ``u_j = x_j - f_j(pa(x_j))`` from the
person's own row), action (the intervened columns set to their values) and
prediction (the descendants recomputed in topological order with their
abducted noise).
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context, clone, is_classifier
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, validate_data

from skcfx.utils._dtypes import is_categorical_dtype

__all__ = ["StructuralCausalModel", "topological_order"]


def topological_order(graph):
    """Nodes of a DAG with every parent before its children.

    Parameters
    ----------
    graph : dict
        ``{child: [parents]}``.

    Returns
    -------
    order : list
        Every node named in ``graph`` (children and parents) once.

    Raises
    ------
    ValueError
        Naming the columns of a cycle.
    """
    nodes = list(dict.fromkeys([*graph, *(p for ps in graph.values() for p in ps)]))
    state = dict.fromkeys(nodes, 0)  # 0 new, 1 on the path, 2 done
    order = []

    def visit(node, path):
        if state[node] == 2:
            return
        if state[node] == 1:
            cycle = path[path.index(node) :] + [node]
            raise ValueError(
                f"graph has a cycle: {' -> '.join(map(str, cycle[::-1]))}; a "
                "structural causal model needs a DAG."
            )
        state[node] = 1
        for parent in graph.get(node, ()):
            visit(parent, path + [node])
        state[node] = 2
        order.append(node)

    for node in nodes:
        visit(node, [])
    return order


def _is_categorical(series):
    return is_categorical_dtype(series.dtype)


class _Callable:
    """A structural equation given as a function of the parents' frame."""

    def __init__(self, func):
        self.func = func

    def predict(self, X):
        return np.asarray(self.func(X))


class StructuralCausalModel(BaseEstimator):
    """A structural causal model over the columns of a DataFrame.

    Each node with parents gets a structural equation: a numeric node is
    an additive-noise model ``x = f(parents) + u`` (``f`` a regressor), a
    categorical node follows a classifier of its parents. Nodes without
    parents, and columns the graph does not name, are exogenous: they change
    only when intervened on. Used by
    :class:`~skcfx.CounterfactualExplainer` (its ``scm`` parameter) to turn
    counterfactuals into causal recourse: the search proposes interventions,
    the SCM computes their consequences.

    Read more in the :ref:`User Guide <causal_recourse>`.

    Parameters
    ----------
    graph : dict
        ``{child: [parents]}``, a DAG over column names.
    equations : dict, default=None
        ``{node: equation}`` for some nodes with parents. An equation is a
        scikit-learn regressor (numeric node) or classifier (categorical
        node), fitted in :meth:`fit` on the parents' columns (a DataFrame)
        unless it is a :class:`~sklearn.frozen.FrozenEstimator`, or a
        function ``f(parents: DataFrame) -> array`` (a known equation, never
        fitted). Nodes left out get the default: a linear regression
        (numeric node) or a logistic regression (categorical node) on the
        parents, categorical parents one-hot encoded, which makes the helper
        ``StructuralCausalModel(graph).fit(X)`` learn a linear
        additive-noise model from data.

    Attributes
    ----------
    equations_ : dict
        The fitted equation of every node with parents.
    order_ : list of str
        Nodes in topological order (parents first).
    parents_ : dict
        ``{node: [parents]}`` of every node with parents.
    categorical_ : list of str
        Nodes with parents that are categorical.
    noise_scale_ : dict
        Standard deviation of the abducted noise of each numeric node with
        parents on the training data (how far a row may sit from its
        equation).
    feature_names_in_ : ndarray of str
        Columns seen in :meth:`fit` (a DataFrame's; an array's columns are
        called ``x0``, ``x1``, ...).
    n_features_in_ : int

    Notes
    -----
    *Abduction of a categorical node.* A classifier leaves no additive
    noise to recover. A row whose category is the one its equation predicts
    from its own parents follows the equation after an intervention on its
    ancestors; a row whose category differs from that prediction keeps its
    category (its noise, whatever it is, decided it). This is exact for a
    deterministic mechanism and a documented approximation otherwise.

    *Missing values.* Each equation is fitted on the rows where its node is
    observed and, unless the equation takes missing values (its
    ``allow_nan`` tag, as ``HistGradientBoostingRegressor``), its parents
    are too. A missing value has no noise to abduct, so the factual row is
    first completed: in topological order each missing node with parents
    takes its equation's prediction (zero noise). The noise of every other
    node is abducted from the completed row, so a node below a missing one
    keeps its own noise, and an intervention moves it by what the
    intervention changes, not by the gap between the row and its
    equation. A missing node below an intervention gets a value (a change);
    one the interventions do not reach stays missing; a node whose equation
    cannot be evaluated (a parent without parents of its own is missing)
    keeps its factual value.

    *Limits.* Noise is additive for numeric nodes (the equation is a
    location model); counterfactuals are unit-level and deterministic given
    the abducted noise (no sampling over uncertain noise, as in Karimi et
    al.'s probabilistic recourse), and an equation learned from data is
    only as right as the graph and the regressor.

    References
    ----------
    .. [1] Karimi, A.-H., Schölkopf, B. and Valera, I. (2021). Algorithmic
       recourse: from counterfactual explanations to interventions. FAccT.
    .. [2] Pearl, J. (2009). Causality, 2nd edition, chapter 7.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skcfx.causal import StructuralCausalModel
    >>> rng = np.random.default_rng(0)
    >>> education = rng.normal(12, 2, 500)
    >>> income = 3 * education + rng.normal(0, 1, 500)
    >>> X = pd.DataFrame({"education": education, "income": income})
    >>> scm = StructuralCausalModel({"income": ["education"]}).fit(X)
    >>> row = X.iloc[[0]]
    >>> after = scm.counterfactual(row, {"education": row.education + 2})
    >>> bool(np.isclose(after.income.iloc[0] - row.income.iloc[0], 6, atol=0.2))
    True
    """

    _parameter_constraints: dict = {
        "graph": [dict],
        "equations": [dict, None],
    }

    def __init__(self, graph, *, equations=None):
        self.graph = graph
        self.equations = equations

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # each equation on its observed rows
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Check the graph against ``X``'s columns and fit the equations.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Observational data with every column the graph names.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X = self._check_frame(X, reset=True)
        graph = {str(k): [str(p) for p in v] for k, v in self.graph.items()}
        for child, parents in graph.items():
            if not isinstance(self.graph[child], (list, tuple)):
                raise ValueError(
                    f"graph[{child!r}] must be a list of parent columns; got "
                    f"{self.graph[child]!r}."
                )
            if child in parents:
                raise ValueError(f"graph[{child!r}] lists {child!r} as its own parent.")
        unknown = sorted(
            {n for n in [*graph, *(p for ps in graph.values() for p in ps)]}
            - set(X.columns)
        )
        if unknown:
            raise ValueError(
                f"graph names columns not in X: {unknown}; X has {list(X.columns)}."
            )
        equations = dict(self.equations or {})
        stray = sorted(set(map(str, equations)) - {c for c, p in graph.items() if p})
        if stray:
            raise ValueError(
                f"equations given for {stray}, which have no parents in graph."
            )
        self.order_ = topological_order(graph)
        self.parents_ = {c: list(p) for c, p in graph.items() if p}
        self.categorical_ = [c for c in self.parents_ if _is_categorical(X[c])]
        self.equations_ = {}
        self.noise_scale_ = {}
        for node, parents in self.parents_.items():
            eq = equations.get(node)
            categorical = node in self.categorical_
            if eq is None:
                eq = self._default_equation(X[parents], categorical)
            if categorical and isinstance(eq, BaseEstimator) and not is_classifier(eq):
                raise ValueError(
                    f"equations[{node!r}]: {node!r} is categorical, so its "
                    f"equation must be a classifier; got {type(eq).__name__}."
                )
            if callable(eq) and not hasattr(eq, "predict"):
                fitted = _Callable(eq)
            elif hasattr(eq, "predict"):
                rows = X[node].notna().to_numpy().copy()
                if not _allows_nan(eq):
                    rows &= X[parents].notna().all(axis=1).to_numpy()
                if not rows.any():
                    raise ValueError(
                        f"No row of X has {node!r} and its parents {parents} "
                        f"all observed, so the equation of {node!r} cannot be "
                        f"fitted."
                    )
                fitted = clone(eq).fit(X.loc[rows, parents], X.loc[rows, node])
            else:
                raise ValueError(
                    f"equations[{node!r}] must be an estimator with predict or "
                    f"a function of the parents' DataFrame; got {eq!r}."
                )
            self.equations_[node] = fitted
            if not categorical:
                u = X[node].to_numpy(dtype=float) - self._predict(node, X)
                self.noise_scale_[node] = float(np.nanstd(u))
        return self

    @staticmethod
    def _default_equation(parents, categorical):
        cats = [c for c in parents.columns if _is_categorical(parents[c])]
        head = LogisticRegression(max_iter=1000) if categorical else LinearRegression()
        if not cats:
            return head
        encoder = make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), cats), remainder="passthrough"
        )
        return make_pipeline(encoder, head)

    def _check_frame(self, X, reset=False):
        """X as a DataFrame with string column names (an array's columns are
        named ``x0``, ``x1``, ...), checked the scikit-learn way."""
        if hasattr(X, "columns") and hasattr(X, "iloc"):
            validate_data(self, X, reset=reset, skip_check_array=True)
            X = X.rename(columns=str)
        else:
            arr = validate_data(
                self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan"
            )
            names = [f"x{i}" for i in range(arr.shape[1])] if reset else self._names
            X = pd.DataFrame(arr, columns=names)
            if arr.dtype.kind == "O":
                X = X.infer_objects()
        if reset:
            self._names = list(X.columns)
        return X

    def _predict(self, node, frame):
        """The equation of ``node`` on ``frame``'s rows: NaN (None for a
        categorical node) where a parent is missing and the equation does
        not take missing values."""
        parents = frame[self.parents_[node]]
        equation = self.equations_[node]
        categorical = node in self.categorical_
        ok = np.ones(len(frame), dtype=bool)
        if not isinstance(equation, _Callable) and not _allows_nan(equation):
            ok = parents.notna().all(axis=1).to_numpy()
        out = np.full(len(frame), None if categorical else np.nan, dtype=object)
        if ok.all():
            out = np.asarray(equation.predict(parents))
        elif ok.any():
            out[ok] = np.asarray(equation.predict(parents[ok])).ravel()
        return out if categorical else out.astype(float).ravel()

    # ------------------------------------------------------------- queries
    def abduct(self, X):
        """The noise terms of each row.

        Parameters
        ----------
        X : DataFrame
            Factual rows.

        Returns
        -------
        noise : DataFrame
            One column per node with parents: ``x - f(parents)`` for a
            numeric node; for a categorical node, whether the row's
            category is the one its equation predicts (see Notes).
        """
        check_is_fitted(self)
        X = self._check_frame(X)
        out = {}
        for node in self.parents_:
            pred = self._predict(node, X)
            if node in self.categorical_:
                out[node] = np.asarray(X[node].to_numpy() == pred, dtype=bool)
            else:
                out[node] = X[node].to_numpy(dtype=float) - pred
        return pd.DataFrame(out, index=X.index)

    def counterfactual(self, X, interventions):
        """The rows ``X`` would have been under the interventions.

        Parameters
        ----------
        X : DataFrame
            Factual rows (not modified).
        interventions : dict or DataFrame
            ``{column: value or array of one value per row}``, or a
            DataFrame aligned with ``X`` whose missing cells mean "no
            intervention" on that cell.

        Returns
        -------
        rows : DataFrame
            Intervened columns at their values, their descendants
            recomputed with each row's abducted noise, every other cell as
            in ``X``.
        """
        check_is_fitted(self)
        X = self._check_frame(X)
        if isinstance(interventions, pd.DataFrame):
            V = interventions.rename(columns=str).reindex(
                index=X.index, columns=X.columns
            )
            mask = V.notna().to_numpy()
        elif isinstance(interventions, dict):
            V = X.copy()
            mask = np.zeros(X.shape, dtype=bool)
            for col, value in interventions.items():
                col = str(col)
                if col not in X.columns:
                    raise ValueError(
                        f"interventions name {col!r}, not a column of X "
                        f"({list(X.columns)})."
                    )
                j = X.columns.get_loc(col)
                values = np.asarray(value, dtype=object)
                if values.ndim and len(values) != len(X):
                    raise ValueError(
                        f"interventions[{col!r}] has {len(values)} values for "
                        f"{len(X)} rows."
                    )
                V = V.astype({col: object}) if _is_categorical(X[col]) else V
                V[col] = np.broadcast_to(values, len(X)) if values.ndim else value
                mask[:, j] = True
        else:
            raise TypeError(
                "interventions must be a dict {column: values} or a DataFrame; "
                f"got {type(interventions).__name__}."
            )
        return self.propagate(X, V, mask)

    def _complete(self, X):
        """``X`` with each missing node that has parents set to its
        equation's prediction from the (completed) parents, in topological
        order; ``X`` itself when nothing is missing."""
        out = X
        for node in self.order_:
            if node not in self.parents_:
                continue
            miss = X[node].isna().to_numpy()
            if not miss.any():
                continue
            if out is X:
                out = X.copy()
            values = out[node].to_numpy(copy=True)
            if node in self.categorical_ and values.dtype.kind != "O":
                values = values.astype(object)
            elif node not in self.categorical_:
                values = values.astype(float)
            values[miss] = self._predict(node, out.iloc[np.flatnonzero(miss)])
            out[node] = _like(values, X[node])
        return out

    def propagate(self, X, V, mask):
        """Abduction, action and prediction for aligned frames.

        Parameters
        ----------
        X : DataFrame
            Factual rows.
        V : DataFrame
            Intervention values, aligned with ``X`` (same index and columns).
        mask : ndarray of bool, shape X.shape
            Intervened cells.

        Returns
        -------
        rows : DataFrame
        """
        check_is_fitted(self)
        cols = list(X.columns)
        base = self._complete(X)  # the factual rows, missing nodes filled
        out = X.copy()
        changed = np.asarray(mask, dtype=bool).copy()
        for j in np.flatnonzero(changed.any(axis=0)):
            col = cols[j]
            values = out[col].to_numpy(copy=True)
            if not _is_categorical(out[col]):
                values = values.astype(float)
            elif values.dtype.kind != "O":
                values = values.astype(object)
            values[changed[:, j]] = V[col].to_numpy()[changed[:, j]]
            out[col] = _like(values, X[col])
        for node in self.order_:
            if node not in self.parents_:
                continue
            j = cols.index(node)
            par = [cols.index(p) for p in self.parents_[node]]
            rows = ~mask[:, j] & changed[:, par].any(axis=1)
            if not rows.any():
                continue
            idx = np.flatnonzero(rows)
            new = self._predict(node, out.iloc[idx])
            old_frame = base.iloc[idx]
            values = out[node].to_numpy(copy=True)
            old = old_frame[node].to_numpy()
            # new: NaN / None where a parent is still missing (keep the
            # factual value); zero noise where even the completed row has
            # no value or parents for the node
            known = pd.notna(new)
            if node in self.categorical_:
                before = self._predict(node, old_frame)
                follows = (old == before) | pd.isna(before) | pd.isna(old)
                if values.dtype.kind != "O":
                    values = values.astype(object)
                values[idx] = np.where(follows & known, new, old)
                after = values[idx]
                moved = (after != X[node].to_numpy()[idx]) & pd.notna(after)
            else:
                noise = old.astype(float) - self._predict(node, old_frame)
                noise = np.where(np.isnan(noise), 0.0, noise)
                values = values.astype(float)
                values[idx] = np.where(known, new + noise, old.astype(float))
                before = X[node].to_numpy(dtype=float)[idx]
                gap = np.abs(values[idx] - before)
                moved = (gap > 1e-9 * np.maximum(1.0, np.abs(before))) | (
                    np.isnan(before) & ~np.isnan(values[idx])
                )
            out[node] = _like(values, X[node])
            changed[idx, j] = moved
        return out


def _allows_nan(estimator):
    """Whether a scikit-learn estimator takes missing values."""
    try:
        return bool(get_tags(estimator).input_tags.allow_nan)
    except (AttributeError, TypeError, ValueError):
        return False


def _like(values, template):
    """``values`` as a column of ``template``'s kind: its categorical dtype,
    bool, object for other categories, float for numbers."""
    if isinstance(template.dtype, pd.CategoricalDtype):
        return pd.Categorical(values, dtype=template.dtype)
    if template.dtype.kind == "b":
        return values.astype(bool)
    if _is_categorical(template):
        return values.astype(object)
    return values.astype(float)
