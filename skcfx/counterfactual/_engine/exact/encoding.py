"""The model's input as a linear map of the coded row, read off the fitted
preprocessing.

``phi(row) = base + A @ c + sum_j T_j[k_j]``: ``c`` the numeric values,
``k_j`` the category of categorical column ``j``. Supported in front of the
model: a ColumnTransformer whose numeric columns go through StandardScaler,
MinMaxScaler, MaxAbsScaler, SimpleImputer (the identity on the complete rows
the exact search works on), passthrough or a Pipeline of these, and whose
categorical columns go
through any encoder that maps each category to a fixed vector
(OneHotEncoder, OrdinalEncoder, ...), followed by affine scalers; or affine
scalers alone on numeric data; or a histogram gradient boosting on the raw
columns that encodes its own categorical ones (pandas ``category`` columns,
``categorical_features="from_dtype"``): its fitted ColumnTransformer is
read as the first step.
"""

import numpy as np

from skcfx.counterfactual._engine.models import (
    category_tables,
    coded_selections,
    column_names,
    is_identity,
    raw_column_transformer,
    split_threshold,
    unwrap,
)

__all__ = ["InputMap", "UnsupportedModelError"]

_ADVICE = (
    'method="exact" supports linear models and tree ensembles behind '
    "scalers and categorical encoders; use a heuristic method "
    '("genetic", "random" or "kdtree") for this model.'
)


class UnsupportedModelError(TypeError):
    """The model or one of its steps cannot be written as a MILP."""


def _affine(step):
    from skcfx.utils._torch_forward import _affine_scaler

    return _affine_scaler(step)


def _linear_step(step):
    from skcfx.utils._torch_forward import _linear_step as linear

    return linear(step)


def _dense(out):
    out = out.toarray() if hasattr(out, "toarray") else out
    return np.asarray(out, dtype=np.float64)


def _varies(T):
    """Columns of a category table that differ between categories (a
    missing code differs from every value)."""
    T = np.asarray(T, dtype=float)
    same = (T == T[:1]) | (np.isnan(T) & np.isnan(T[:1]))
    return ~same.all(axis=0)


def _code(values, known):
    """An OrdinalEncoder's codes of ``values`` (missing where unknown)."""
    values = np.atleast_1d(np.asarray(values, dtype=float))
    known = np.asarray(known, dtype=float)
    pos = np.clip(np.searchsorted(known, values), 0, max(len(known) - 1, 0))
    hit = len(known) > 0 and known[pos] == values
    return np.where(hit, pos, np.nan).astype(float)


def _is_encoder(trans):
    from skcfx.counterfactual._engine.models import _routes_to_encoder

    return not isinstance(trans, str) and _routes_to_encoder(trans)


def _own_encoder(model, space):
    """The fitted ColumnTransformer with which a histogram gradient boosting
    that takes the raw columns encodes its categorical ones (pandas
    ``category`` columns under ``categorical_features="from_dtype"``); None
    for any other model."""
    head = unwrap(model)
    if not type(head).__name__.startswith("HistGradientBoost"):
        return None
    own = getattr(head, "_preprocessor", None)
    names = list(getattr(head, "feature_names_in_", []))
    if own is None or names != list(space.names):
        return None
    return own


class InputMap:
    """The head estimator and its input as a linear map of the coded row.

    Attributes
    ----------
    head : estimator
        The final estimator (linear model or tree ensemble).
    base : ndarray (p,)
    A : ndarray (p, d)
        Coefficient of each numeric column (zero for categorical ones).
    tables : dict of int -> ndarray (K_j, p)
        What category ``k`` of column ``j`` adds to the input.
    depends : list of set
        Raw columns each input column depends on.
    """

    def __init__(self, model, space):
        self.space = space
        # a decision threshold (FixedThresholdClassifier, ...) moves the
        # head's boundary by ``offset``; what it wraps is read as usual
        model, self.offset, self.response = split_threshold(model, True)
        self.model = model
        d = space.n_features
        found = raw_column_transformer(model)
        self.own = _own_encoder(model, space)
        if self.own is not None:
            # the model's own ColumnTransformer (an OrdinalEncoder, the rest
            # as floats) is its first step
            where = type(unwrap(model)).__name__
            self.base, self.A, self.tables = self._column_transformer(
                self.own, where, numeric_as_is=True
            )
            steps = [("model", model)]
        elif found is not None:
            name, ct, rest = found
            self.base, self.A, self.tables = self._column_transformer(ct, name)
            steps = list(rest.steps) if hasattr(rest, "steps") else [("model", rest)]
        else:
            if len(space.categorical):
                raise UnsupportedModelError(
                    "Categorical columns must be encoded by a ColumnTransformer "
                    f"at the start of the model's Pipeline. {_ADVICE}"
                )
            self.base, self.A, self.tables = np.zeros(d), np.eye(d), {}
            steps = list(model.steps) if hasattr(model, "steps") else [("model", model)]
        for name, step in steps[:-1]:
            if step in (None, "passthrough"):
                continue
            affine = _affine(unwrap(step))
            if affine is not None:
                scale, offset = (np.asarray(v, dtype=float) for v in affine)
                self.base = self.base * scale + offset
                self.A = self.A * scale[:, None]
                self.tables = {j: T * scale[None, :] for j, T in self.tables.items()}
                continue
            linear = _linear_step(unwrap(step))
            if linear is None:
                raise UnsupportedModelError(
                    f"Pipeline step {name!r} ({type(step).__name__}) is not an "
                    f"affine scaler, a linear projection or a feature selector. "
                    f"{_ADVICE}"
                )
            # a projection (PCA) mixes columns: a linear head takes it, a
            # tree ensemble's splits on it are refused (single_column)
            W, b = (np.asarray(v, dtype=float) for v in linear)
            self.base = W @ self.base + b
            self.A = W @ self.A
            self.tables = {j: T @ W.T for j, T in self.tables.items()}
        self.head = unwrap(steps[-1][1])
        # a histogram gradient boosting behind other steps that encodes
        # categorical inputs itself (categorical_features): its own
        # ColumnTransformer (an OrdinalEncoder first, the rest after) read as
        # the last step
        self.inner = None
        if self.own is None and type(self.head).__name__.startswith("HistGradient"):
            self.inner = getattr(self.head, "_preprocessor", None)
            if self.inner is not None:
                self._compose_inner(self.inner, type(self.head).__name__)
        p = len(self.base)
        self.depends = [set(np.flatnonzero(self.A[f] != 0)) for f in range(p)]
        for j, T in self.tables.items():
            for f in np.flatnonzero(_varies(T)):
                self.depends[f].add(j)

    def _compose_inner(self, inner, where):
        """Follow the map with the model's own encoder: its OrdinalEncoder's
        inputs (each a function of one categorical column) become category
        codes (missing where it does not know the value), placed first; the
        other inputs follow unchanged."""
        p = len(self.base)
        enc, num, cats = [], [], []
        for _, trans, cols in inner.transformers_:
            # its selections over unnamed inputs: positions
            idx = [int(f) for f in column_names(cols, list(range(p)))]
            if isinstance(trans, str) and trans == "drop":
                continue
            if _is_encoder(trans):
                enc += idx
                cats += list(trans.categories_)
            else:
                num += idx
        base, A = [], []
        tables = {j: [] for j in self.tables}
        names = self.space.names
        for f, known in zip(enc, cats):
            cols = np.flatnonzero(self.A[f])
            dep = [j for j, T in self.tables.items() if _varies(T[:, [f]])[0]]
            if len(cols) or len(dep) > 1:
                raise UnsupportedModelError(
                    f"{where} treats its input {f}, which depends on the "
                    f"columns {[names[j] for j in sorted(set(cols) | set(dep))]}, "
                    "as categories (categorical_features); only an encoded "
                    f"categorical column can be read so. {_ADVICE}"
                )
            # the codes sit in the column's table (a constant input: in base)
            base.append(0.0 if dep else _code(self.base[f], known)[0])
            A.append(np.zeros(self.A.shape[1]))
            for j, T in self.tables.items():
                values = self.base[f] + T[:, f]
                tables[j].append(_code(values, known) if j in dep else 0 * T[:, f])
        for f in num:
            base.append(self.base[f])
            A.append(self.A[f])
            for j, T in self.tables.items():
                tables[j].append(T[:, f])
        self.base = np.asarray(base, dtype=float)
        self.A = np.asarray(A, dtype=float).reshape(len(base), self.A.shape[1])
        self.tables = {j: np.column_stack(c) for j, c in tables.items()}

    def _column_transformer(self, ct, step_name, numeric_as_is=False):
        space = self.space
        names, d = space.names, space.n_features
        bases, As, tables = [], [], {}
        offset = 0
        selections = coded_selections(ct, space)
        if numeric_as_is:  # all but the encoders pass their columns on as floats
            selections = [
                entry
                for name, trans, idx in selections
                for entry in (
                    [(name, trans, idx)]
                    if _is_encoder(trans)
                    else [(name, "passthrough", [j]) for j in idx]
                )
            ]
        for name, trans, idx in selections:
            where = f"{step_name}.{name}"
            cat = [j for j in idx if space.is_categorical[j]]
            if numeric_as_is and _is_encoder(trans) and len(cat) < len(idx):
                num = [names[j] for j in idx if not space.is_categorical[j]]
                raise UnsupportedModelError(
                    f"{step_name} treats the numeric columns {num} as categories "
                    "(categorical_features); pass them to the explainer's "
                    "categorical_features too, so that they are searched as "
                    f"categories. {_ADVICE}"
                )
            identity = is_identity(trans)
            if cat and len(cat) == len(idx):
                maps = category_tables(trans, idx, space, where)
                width = maps[0].shape[1]
                bases.append(maps[0][0])
                As.append(np.zeros((width, d)))
                for j, M in zip(idx, maps[1:]):
                    T = tables.setdefault(j, np.zeros((len(space.categories[j]), 0)))
                    pad = np.zeros((M.shape[0], offset - T.shape[1]))
                    tables[j] = np.hstack([T, pad, M])
                offset += width
                continue
            if cat:
                raise UnsupportedModelError(
                    f"{where!r} ({type(trans).__name__}) passes categorical "
                    f"columns {[names[j] for j in cat]} on unencoded. {_ADVICE}"
                )
            identity = identity or numeric_as_is
            affine = (np.ones(len(idx)), np.zeros(len(idx))) if identity else None
            affine = affine or _affine(trans)
            if affine is None:
                raise UnsupportedModelError(
                    f"{where!r} ({type(trans).__name__}) is not an affine "
                    f"scaler. {_ADVICE}"
                )
            scale, shift = affine
            A = np.zeros((len(idx), d))
            A[np.arange(len(idx)), idx] = scale
            bases.append(np.asarray(shift, dtype=float))
            As.append(A)
            offset += len(idx)
        base = np.concatenate(bases)
        tables = {
            j: np.hstack([T, np.zeros((T.shape[0], offset - T.shape[1]))])
            for j, T in tables.items()
        }
        return base, np.vstack(As), tables

    # ------------------------------------------------------------ exact
    def head_input(self, frame):
        """What the head receives for raw rows (the real transform)."""
        if self.own is not None:
            return frame[list(self.space.names)]
        if hasattr(self.model, "steps"):
            return self.model[:-1].transform(frame)
        return frame

    def preprocess(self, frame):
        """The exact input of the head's trees or coefficients for raw rows
        (the real transform, the model's own encoding included)."""
        if self.own is not None:
            return _dense(self.own.transform(frame[list(self.space.names)]))
        x = self.head_input(frame)
        if self.inner is not None:
            x = self.inner.transform(x)
        return _dense(x)

    def single_column(self, f):
        """The raw column input ``f`` depends on (None for a constant);
        an error when it mixes several."""
        dep = self.depends[f]
        if len(dep) > 1:
            cols = [self.space.names[j] for j in sorted(dep)]
            raise UnsupportedModelError(
                f"Model input {f} mixes the columns {cols}; a tree split on it "
                f"cannot be written exactly. {_ADVICE}"
            )
        return next(iter(dep)) if dep else None
