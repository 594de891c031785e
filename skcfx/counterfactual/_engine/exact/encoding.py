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
scalers alone on numeric data.
"""

import numpy as np

from skcfx.counterfactual._engine.models import (
    category_tables,
    coded_selections,
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
        model, self.offset = split_threshold(model)
        self.model = model
        d = space.n_features
        found = raw_column_transformer(model)
        if found is not None:
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
        p = len(self.base)
        self.depends = [set(np.flatnonzero(self.A[f] != 0)) for f in range(p)]
        for j, T in self.tables.items():
            for f in np.flatnonzero(np.ptp(T, axis=0) > 0):
                self.depends[f].add(j)

    def _column_transformer(self, ct, step_name):
        space = self.space
        names, d = space.names, space.n_features
        bases, As, tables = [], [], {}
        offset = 0
        for name, trans, idx in coded_selections(ct, space):
            where = f"{step_name}.{name}"
            cat = [j for j in idx if space.is_categorical[j]]
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
    def preprocess(self, frame):
        """The exact input of the head for raw rows (the real transform)."""
        if hasattr(self.model, "steps"):
            return _dense(self.model[:-1].transform(frame))
        return np.asarray(frame, dtype=np.float64)

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
