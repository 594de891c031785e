"""Constraints on counterfactuals, compiled once and used by every search.

Box constraints (which features may vary, permitted ranges and category
sets, one-direction changes, integrality, seen categories) are turned into
per-query bounds that every search samples and mutates *inside*, so they
hold by construction. User predicates are black boxes: every search
evaluates them on each batch of candidates together with the model, treats
failing candidates as inadmissible while searching, and the final rows are
checked once more.
"""

import inspect
import numbers

import numpy as np

from skcfx.counterfactual._engine.feature_space import ceil_to, floor_to
from skcfx.exceptions import InfeasibleConstraintsError

__all__ = ["Constraints", "QueryBounds"]

_DIRECTIONS = {"increasing": 1, "decreasing": -1, "increase": 1, "decrease": -1}


class QueryBounds:
    """Admissible region of each query: a box, plus allowed category codes.

    Attributes
    ----------
    lo, hi : ndarray of shape (n_queries, n_features)
        Inclusive bounds (category codes for categorical columns).
    allowed : dict int -> ndarray of bool, shape (n_queries, n_categories)
        Allowed codes of each categorical column.
    feasible : ndarray of bool, shape (n_queries,)
        False when the constraints leave no admissible change.
    reason : ndarray of object
        Why a query is infeasible ("" when feasible).
    """

    def __init__(self, lo, hi, allowed, feasible, reason, varying, Zq=None):
        self.Zq = Zq  # the queries themselves: their own values are admissible
        self.lo = lo
        self.hi = hi
        self.allowed = allowed
        self.feasible = feasible
        self.reason = reason
        # (n, d) bool: cells that can take another value than the query's
        # (or must: a query value outside a one-value box)
        self.varying = varying

    def take(self, idx):
        """Bounds of a subset of the queries."""
        return QueryBounds(
            self.lo[idx],
            self.hi[idx],
            {j: a[idx] for j, a in self.allowed.items()},
            self.feasible[idx],
            self.reason[idx],
            self.varying[idx],
            None if self.Zq is None else self.Zq[idx],
        )


def column_index(names, param, name, index=None):
    """Position of the column ``name`` in ``names`` (the explainer's column
    names, strings): a name, or an integer position as scikit-learn's
    ColumnTransformer reads one (a column named by that integer wins: a
    frame's integer column names are names); else a ValueError naming
    ``param``."""
    index = index if index is not None else {n: j for j, n in enumerate(names)}
    if str(name) in index and not isinstance(name, bool):
        return index[str(name)]
    if isinstance(name, numbers.Integral) and not isinstance(name, bool):
        if 0 <= name < len(names):
            return int(name)
        raise ValueError(
            f"{param} holds column position {name}, outside [0, {len(names)})."
        )
    raise ValueError(
        f"{param} names unknown column {name!r}; known columns: {list(names)}."
    )


class Constraints:
    """Compiled constraint set.

    Parameters
    ----------
    space : FeatureSpace
    features_to_vary : "all" or list of str
    permitted_range : dict or None
        ``{numeric column: (low, high)}`` closed interval (``None`` for an
        open side); ``{categorical column: [allowed values]}``.
    monotonic : dict or None
        ``{column: "increasing" | "decreasing"}``; categorical columns must
        be ordered categoricals.
    predicates : callable, list of callables or None
        ``f(candidates)`` or ``f(candidates, queries)`` returning a boolean
        mask, one entry per candidate row.
    """

    def __init__(
        self,
        space,
        features_to_vary="all",
        permitted_range=None,
        monotonic=None,
        predicates=None,
    ):
        self.space = space
        self._index = {n: j for j, n in enumerate(space.names)}
        self._compile_vary(features_to_vary)
        self._compile_ranges(permitted_range or {})
        self._compile_monotonic(monotonic or {})
        self._compile_predicates(predicates)

    def _lookup(self, param, name):
        return column_index(self.space.names, param, name, self._index)

    def _compile_vary(self, features_to_vary):
        self.vary = np.zeros(self.space.n_features, dtype=bool)
        if isinstance(features_to_vary, str) and features_to_vary == "all":
            self.vary[:] = True
        else:
            if isinstance(features_to_vary, str):
                features_to_vary = [features_to_vary]
            for name in features_to_vary:
                self.vary[self._lookup("features_to_vary", name)] = True
        if not self.vary.any():
            raise InfeasibleConstraintsError(
                f"features_to_vary={list(features_to_vary)!r} lets no feature "
                "vary, so no counterfactual can exist."
            )

    def _compile_ranges(self, permitted_range):
        space = self.space
        self.lower = space.lower.astype(float).copy()
        self.upper = space.upper.astype(float).copy()
        self.strict = np.zeros(space.n_features, dtype=bool)
        self.allowed_global = {}
        for j in space.categorical:
            mask = np.ones(len(space.categories[j]), dtype=bool)
            if space.missing_code[j] >= 0:
                mask[space.missing_code[j]] = False  # never moved *to* missing
            self.allowed_global[j] = mask
        for name, rng in permitted_range.items():
            j = self._lookup("permitted_range", name)
            self.strict[j] = True
            if space.is_categorical[j]:
                self.allowed_global[j] = self._category_set(j, name, rng)
            else:
                self._numeric_range(j, name, rng)

    def _category_set(self, j, name, rng):
        space = self.space
        if isinstance(rng, str) or not hasattr(rng, "__iter__"):
            raise ValueError(
                f"permitted_range[{name!r}] must be a list of allowed "
                f"categories for a categorical column; got {rng!r}."
            )
        cats = space.categories[j]
        if space.missing_code[j] >= 0:
            cats = cats[: space.missing_code[j]]
        known = {c: i for i, c in enumerate(cats)}
        unknown = [v for v in rng if v not in known]
        if unknown:
            raise ValueError(
                f"permitted_range[{name!r}] holds categories unseen "
                f"during fit: {unknown}; known: {list(cats)}."
            )
        mask = np.zeros(len(space.categories[j]), dtype=bool)
        mask[[known[v] for v in rng]] = True
        if not mask.any():
            raise InfeasibleConstraintsError(f"permitted_range[{name!r}] is empty.")
        return mask

    def _numeric_range(self, j, name, rng):
        space = self.space
        try:
            low, high = rng
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"permitted_range[{name!r}] must be a (low, high) pair "
                f"for a numeric column; got {rng!r}."
            ) from exc
        low = -np.inf if low is None else float(low)
        high = np.inf if high is None else float(high)
        if not low <= high:
            raise InfeasibleConstraintsError(
                f"permitted_range[{name!r}]=({low}, {high}) is empty: "
                "low must not exceed high."
            )
        dec = space.decimals[j]
        if ceil_to(low, dec) > floor_to(high, dec):
            raise InfeasibleConstraintsError(
                f"permitted_range[{name!r}]=({low}, {high}) contains "
                f"no value with {dec} decimals."
            )
        # open sides fall back to the training range
        self.lower[j] = low if np.isfinite(low) else min(space.lower[j], high)
        self.upper[j] = high if np.isfinite(high) else max(space.upper[j], low)

    def _compile_monotonic(self, monotonic):
        space = self.space
        self.direction = np.zeros(space.n_features, dtype=int)
        for name, how in monotonic.items():
            j = self._lookup("monotonic", name)
            if isinstance(how, numbers.Integral) and how in (-1, 1):
                sign = int(how)
            elif isinstance(how, str) and how in _DIRECTIONS:
                sign = _DIRECTIONS[how]
            else:
                raise ValueError(
                    f"monotonic[{name!r}] must be 'increasing' or "
                    f"'decreasing'; got {how!r}."
                )
            if space.is_categorical[j] and not space.ordered[j]:
                raise ValueError(
                    f"monotonic[{name!r}] needs an order on the categories; "
                    "make the column an ordered pandas Categorical."
                )
            self.direction[j] = sign

    def _compile_predicates(self, predicates):
        if predicates is None:
            predicates = []
        elif callable(predicates):
            predicates = [predicates]
        self.predicates = list(predicates)
        self._pred_arity = []
        for f in self.predicates:
            if not callable(f):
                raise TypeError(f"predicates must hold callables; got {f!r}.")
            self._pred_arity.append(_n_positional(f))

    # ------------------------------------------------------------ per query
    def bounds(self, Zq):
        """Per-query admissible box and category sets."""
        space = self.space
        n, d = Zq.shape
        lo = np.broadcast_to(self.lower, (n, d)).copy()
        hi = np.broadcast_to(self.upper, (n, d)).copy()
        soft = ~self.strict
        # fmin / fmax: a missing query value leaves the training range
        lo[:, soft] = np.fmin(lo[:, soft], Zq[:, soft])
        hi[:, soft] = np.fmax(hi[:, soft], Zq[:, soft])
        inc, dec = self.direction > 0, self.direction < 0
        lo[:, inc] = np.fmax(lo[:, inc], Zq[:, inc])
        hi[:, dec] = np.fmin(hi[:, dec], Zq[:, dec])
        for j in space.numeric:
            if self.vary[j]:
                # the grid admits the query's own value, whatever its
                # precision; other values snap to the training grid
                raw_lo, raw_hi = lo[:, j].copy(), hi[:, j].copy()
                lo[:, j] = ceil_to(raw_lo, space.decimals[j])
                hi[:, j] = floor_to(raw_hi, space.decimals[j])
                q = Zq[:, j]
                inside = (q >= raw_lo - 1e-12) & (q <= raw_hi + 1e-12)
                lo[:, j] = np.where(inside & (q < lo[:, j]), q, lo[:, j])
                hi[:, j] = np.where(inside & (q > hi[:, j]), q, hi[:, j])
        frozen = ~self.vary
        # a frozen feature must already satisfy a strict range
        outside = (Zq < self.lower) | (Zq > self.upper)
        bad_frozen = frozen & self.strict & outside
        lo[:, frozen] = Zq[:, frozen]
        hi[:, frozen] = Zq[:, frozen]
        empty = lo > hi + 1e-12
        allowed = {}
        for j in space.categorical:
            codes = np.arange(len(space.categories[j]))
            mask = np.broadcast_to(self.allowed_global[j], (n, len(codes))).copy()
            q = Zq[:, j].astype(np.intp)
            if not self.strict[j]:
                mask[np.arange(n), q] = True
            mask &= (codes >= lo[:, j, None] - 0.5) & (codes <= hi[:, j, None] + 0.5)
            if not self.vary[j]:
                keep = mask[np.arange(n), q].copy()
                mask[:] = False
                mask[np.arange(n), q] = keep
            allowed[j] = mask
            empty[:, j] |= ~mask.any(axis=1)
        varying = hi > lo + 1e-12
        # a query value outside a one-value box must move to it: varying too
        # (it was kept, outside its permitted range, by every search)
        with np.errstate(invalid="ignore"):
            varying |= ((Zq < lo - 1e-12) | (Zq > hi + 1e-12)) & ~empty
        for j in space.categorical:
            own = allowed[j][np.arange(n), Zq[:, j].astype(np.intp)]
            varying[:, j] = (allowed[j].sum(axis=1) > 1) | (
                ~own & allowed[j].any(axis=1)
            )
        varying &= self.vary
        feasible = ~(empty.any(axis=1) | bad_frozen.any(axis=1))
        reason = np.full(n, "", dtype=object)
        for i in np.flatnonzero(~feasible):
            cols = [space.names[j] for j in np.flatnonzero(empty[i] | bad_frozen[i])]
            reason[i] = f"no admissible value for {cols}"
        none_vary = feasible & ~varying.any(axis=1)
        reason[none_vary] = "no feature can take another admissible value"
        feasible &= ~none_vary
        return QueryBounds(lo, hi, allowed, feasible, reason, varying, Zq)

    # --------------------------------------------------------------- checks
    def cell_violations(self, Zq, Zc, frozen=True):
        """Boolean (m, d) matrix of cells breaking a constraint.

        ``Zq`` holds the query of each counterfactual row (aligned with
        ``Zc``). Checked: frozen features changed (unless ``frozen=False``:
        cells that a structural causal model moved as a consequence of
        interventions), values outside a permitted range or category set,
        one-direction changes the wrong way, changed values off the column's
        integer (or decimal) grid, values made missing. An unchanged cell is
        never a violation of the grid or of a direction.
        """
        space = self.space
        changed = space.changed(Zq, Zc)
        bad = changed & ~self.vary if frozen else np.zeros_like(changed)
        num_ = space.numeric
        bad[:, num_] |= np.isnan(Zc[:, num_]) & ~np.isnan(Zq[:, num_])
        for j in space.categorical:
            if space.missing_code[j] >= 0:
                made_missing = (Zc[:, j] == space.missing_code[j]) & changed[:, j]
                bad[:, j] |= made_missing
        num = space.numeric
        tol = 1e-9 * np.maximum(1.0, np.abs(Zc[:, num]))
        bad[:, num] |= self.strict[num] & (
            (Zc[:, num] < self.lower[num] - tol) | (Zc[:, num] > self.upper[num] + tol)
        )
        for j in space.categorical:
            if self.strict[j]:
                bad[:, j] |= ~self.allowed_global[j][Zc[:, j].astype(np.intp)] & (
                    changed[:, j] | self.vary[j]
                )
        bad |= changed & (self.direction > 0) & (Zc < Zq)
        bad |= changed & (self.direction < 0) & (Zc > Zq)
        bad |= changed & space.off_grid(Zc)
        return bad

    def predicate_mask(self, candidates, queries):
        """AND of the user predicates on decoded candidate rows.

        Parameters
        ----------
        candidates, queries : DataFrame
            Aligned row by row (``queries`` repeats each candidate's query).

        Returns
        -------
        mask : ndarray of bool, shape (n_candidates,)
        """
        m = len(candidates)
        ok = np.ones(m, dtype=bool)
        for f, arity in zip(self.predicates, self._pred_arity):
            out = f(candidates, queries) if arity >= 2 else f(candidates)
            name = getattr(f, "__name__", repr(f))
            ok &= _boolean_mask(out, m, name)
        return ok


def _boolean_mask(out, m, name):
    """A predicate's output as a boolean array, or a clear error: NaN,
    floats, objects or missing values are never read as True or False."""
    dtype = getattr(out, "dtype", None)
    if dtype is not None and not isinstance(dtype, np.dtype):  # pandas boolean
        if str(dtype) == "boolean":
            if out.isna().any():
                raise TypeError(
                    f"predicate {name!r} returned missing values (pd.NA) for "
                    f"{int(out.isna().sum())} of {m} candidate rows; it must "
                    "return True or False for every row."
                )
            out = out.to_numpy(dtype=bool)
    arr = np.asarray(out)
    if arr.shape != (m,):
        raise ValueError(
            f"predicate {name!r} must return one boolean per candidate row, "
            f"shape ({m},); got shape {arr.shape}."
        )
    if arr.dtype != bool:
        sample = arr[:3].tolist()
        raise TypeError(
            f"predicate {name!r} must return booleans; got dtype {arr.dtype} "
            f"(values such as {sample}). NaN or numbers are not read as "
            "True/False: compare explicitly, e.g. (c.age < 45)."
        )
    return arr


def _n_positional(f):
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return 1
    params = [
        p
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return 2
    return len(params)
