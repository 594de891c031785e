"""The model adapter: everything that looks inside the user's model.

* :func:`unwrap` takes the model out of ``FrozenEstimator`` (the only place
  that does).
* :func:`raw_column_transformer` finds the ColumnTransformer that sees the
  raw columns at the start of a Pipeline, and :func:`column_selections`
  resolves each of its transformers' column selections (names, integers,
  slices, boolean masks, callables once fitted) to column names: the one
  walk used by :func:`categorical_columns_from_estimator`,
  :func:`encoder_categories` and the torch rebuild of the gradient method.
* :class:`ModelInput` turns decoded rows into what the model was fitted on
  (a DataFrame, or an array).
* :func:`coded_forward` builds the model as a torch function of the coded
  feature space (gradient method); :func:`device_of` is the device of a
  torch module's parameters.
"""

import numbers

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder

from skcfx.utils._frozen import unwrap_frozen
from skcfx.utils._torch import device_of

__all__ = [
    "ModelInput",
    "category_tables",
    "categorical_columns_from_estimator",
    "coded_forward",
    "coded_selections",
    "column_selections",
    "is_identity",
    "device_of",
    "encoder_categories",
    "raw_column_transformer",
    "unwrap",
]

_CATEGORICAL_ENCODERS = (OneHotEncoder, OrdinalEncoder, TargetEncoder)


def unwrap(estimator):
    """Return the model inside a FrozenEstimator (recursively)."""
    return unwrap_frozen(estimator)


def _routes_to_encoder(transformer):
    """True when ``transformer`` is (or a Pipeline containing) a categorical
    encoder."""
    transformer = unwrap(transformer)
    if isinstance(transformer, _CATEGORICAL_ENCODERS):
        return True
    if isinstance(transformer, Pipeline):
        return any(_routes_to_encoder(step) for _, step in transformer.steps)
    return False


def column_names(columns, feature_names):
    """Resolve a ColumnTransformer column selection to names."""
    names = np.asarray(feature_names, dtype=object)
    if callable(columns):
        return []  # resolved only on the fitted transformer (transformers_)
    if isinstance(columns, slice):
        if isinstance(columns.start, str) or isinstance(columns.stop, str):
            names_list = list(names)
            start = names_list.index(columns.start) if columns.start else 0
            stop = names_list.index(columns.stop) + 1 if columns.stop else None
            return list(names[start:stop])
        return list(names[columns])
    if isinstance(columns, (str, numbers.Integral)):
        columns = [columns]
    columns = list(np.asarray(columns, dtype=object).ravel())
    if len(columns) == 0:
        return []
    if all(isinstance(c, (bool, np.bool_)) for c in columns):
        return list(names[np.asarray(columns, dtype=bool)])
    if all(isinstance(c, numbers.Integral) for c in columns):
        return list(names[np.asarray(columns, dtype=int)])
    return [str(c) for c in columns]


def split_threshold(model, with_response=False):
    """``(inner model, offset)`` for a fitted FixedThresholdClassifier or
    TunedThresholdClassifierCV (unwrapped): the wrapper predicts
    ``classes_[1]`` exactly when the inner model's binary decision score
    (its log-odds: a logistic model's or a binary MLP's) is at least
    ``offset``; ``(model, None)`` for any other model. A threshold on
    probabilities becomes ``log(t / (1 - t))``, one on decision scores is
    the offset itself. A positive label other than ``classes_[1]``, or a
    threshold outside (0, 1) on probabilities, is refused (TypeError).
    ``with_response``: ``(inner, offset, response)``, the response method
    the wrapper thresholds (None without a wrapper)."""
    model = unwrap(model)
    name = type(model).__name__
    if name not in ("FixedThresholdClassifier", "TunedThresholdClassifierCV"):
        return (model, None, None) if with_response else (model, None)
    inner = unwrap(model.estimator_)
    classes = np.asarray(model.classes_)
    if len(classes) != 2:
        raise TypeError(f"{name} with {len(classes)} classes is not a binary model.")
    if name == "FixedThresholdClassifier":
        pos_label = model.pos_label
    else:  # the scorer's, as the wrapper's predict reads it (private API)
        scorer = getattr(model, "_curve_scorer", None)
        pos_label = (
            scorer._get_pos_label() if hasattr(scorer, "_get_pos_label") else None
        )
    if pos_label is not None and pos_label != classes[1]:
        raise TypeError(
            f"{name}(pos_label={pos_label!r}): only the second class "
            f"({classes[1]!r}) as the positive label can be read; use a "
            'heuristic method ("genetic", "random" or "kdtree").'
        )
    response = model.response_method
    if response == "auto":  # as scikit-learn resolves it: the first it has
        response = next(
            r for r in ("predict_proba", "decision_function") if hasattr(inner, r)
        )
    if name == "FixedThresholdClassifier":
        t = model.threshold
        if isinstance(t, str):  # "auto"
            t = 0.5 if response == "predict_proba" else 0.0
    else:
        t = model.best_threshold_
    t = float(t)
    if response == "predict_proba":
        if not 0.0 < t < 1.0:
            raise TypeError(
                f"{name} decides on probabilities at threshold {t}, outside "
                '(0, 1); use a heuristic method ("genetic", "random" or "kdtree").'
            )
        out = inner, float(np.log(t / (1.0 - t)))
    else:
        out = inner, t
    return (*out, response) if with_response else out


def raw_column_transformer(estimator):
    """``(step name, ColumnTransformer, rest)`` when the (unwrapped) model is a
    Pipeline whose first step is a ColumnTransformer; ``rest`` is the model
    after it. None otherwise."""
    estimator = unwrap(estimator)
    steps = getattr(estimator, "steps", None)
    if not steps or not isinstance(unwrap(steps[0][1]), ColumnTransformer):
        return None
    rest = estimator[1:] if len(steps) > 2 else steps[-1][1]
    return steps[0][0], unwrap(steps[0][1]), rest


def column_selections(ct, feature_names):
    """``(name, transformer, [column names])`` for each transformer of a
    ColumnTransformer (the fitted ``transformers_`` when fitted, so that
    callables and the remainder are resolved)."""
    transformers = getattr(ct, "transformers_", ct.transformers)
    return [
        (name, trans, column_names(cols, feature_names))
        for name, trans, cols in transformers
    ]


def is_identity(trans):
    """Whether a ColumnTransformer entry passes its columns on unchanged."""
    if isinstance(trans, str):
        return trans == "passthrough"
    return type(trans).__name__ == "FunctionTransformer" and trans.func is None


def coded_selections(ct, space):
    """:func:`column_selections` of a ColumnTransformer as the gradient and
    exact searches read it: ``(name, transformer, [column indices])`` per
    entry, dropped and empty entries left out, and an entry that passes
    numeric and categorical columns through together (``remainder=
    "passthrough"`` over a number and a bool, say) split into one entry per
    column, in order, so that each piece is either numeric or categorical."""
    names = space.names
    out = []
    for name, trans, cols in column_selections(ct, names):
        idx = [names.index(c) for c in cols]
        if (isinstance(trans, str) and trans == "drop") or not idx:
            continue
        n_cat = sum(bool(space.is_categorical[j]) for j in idx)
        if is_identity(trans) and 0 < n_cat < len(idx):
            out.extend((name, trans, [j]) for j in idx)
        else:
            out.append((name, trans, idx))
    return out


def _first_column_step(estimator):
    """The first ColumnTransformer or categorical encoder of the model's
    Pipeline (or the model itself), the step that sees raw columns."""
    estimator = unwrap(estimator)
    steps = estimator.steps if isinstance(estimator, Pipeline) else [(None, estimator)]
    for _, step in steps:
        step = unwrap(step)
        if isinstance(step, (ColumnTransformer,) + _CATEGORICAL_ENCODERS):
            return step
    return None


def categorical_columns_from_estimator(estimator, feature_names):
    """Names of the raw columns that ``estimator`` one-hot or ordinal encodes.

    Looks through FrozenEstimator and Pipeline for the first
    ColumnTransformer (fitted or not) and returns the columns its
    OneHotEncoder, OrdinalEncoder or TargetEncoder transformers receive (all
    columns when the first such step is an encoder itself).

    Parameters
    ----------
    estimator : estimator object
        The model to explain.
    feature_names : sequence of str
        The raw column names, used to resolve integer or boolean selections.

    Returns
    -------
    columns : list of str
        Possibly empty.
    """
    step = _first_column_step(estimator)
    if step is None:
        return []
    if isinstance(step, _CATEGORICAL_ENCODERS):
        return [str(c) for c in feature_names]
    found = []
    for _, trans, names in column_selections(step, feature_names):
        if not isinstance(trans, str) and _routes_to_encoder(trans):
            found.extend(names)
    return list(dict.fromkeys(found))


def _leading_encoder(transformer):
    """The OneHot/Ordinal encoder that receives a transformer's raw columns
    (itself, or the first step of a Pipeline), or None."""
    transformer = unwrap(transformer)
    if isinstance(transformer, Pipeline):
        transformer = unwrap(transformer.steps[0][1])
    if isinstance(transformer, (OneHotEncoder, OrdinalEncoder)):
        return transformer
    return None


def encoder_categories(estimator, feature_names):
    """Categories that the fitted model's encoders know, per raw column.

    Reads ``categories_`` of the OneHotEncoder / OrdinalEncoder transformers
    of the fitted ColumnTransformer in front of the model, so that a
    category seen by the model but absent from the explainer's own training
    rows (a cross-validation fold, say) is still a known category.

    Returns
    -------
    categories : dict of str -> list
    """
    found = raw_column_transformer(estimator)
    if found is None or not hasattr(found[1], "transformers_"):
        return {}
    out = {}
    for _, trans, names in column_selections(found[1], feature_names):
        encoder = None if isinstance(trans, str) else _leading_encoder(trans)
        cats = getattr(encoder, "categories_", None)
        if cats is None:
            continue
        for name, c in zip(names, cats):
            out[name] = [v for v in c if not pd.isna(v)]
    return out


class ModelInput:
    """Decoded rows -> the input type the model was fitted on.

    Parameters
    ----------
    kind : {"frame", "array"}
    categorical : bool
        Whether some column is categorical (an object array then).
    """

    def __init__(self, kind, categorical):
        self.kind = kind
        self.categorical = bool(categorical)

    def __call__(self, frame):
        if self.kind == "frame":
            return frame
        return frame.to_numpy(dtype=object if self.categorical else float)


def coded_forward(model, space):
    """A torch module of ``model``'s logits from the coded feature space.

    ``forward(Z, cats)`` takes coded rows and a dict of relaxed one-hot
    vectors (one per categorical column, over ``space.categories``). A
    Pipeline that starts with a ColumnTransformer (StandardScaler,
    MinMaxScaler, passthrough and drop on numeric columns; any encoder that
    maps each category to a fixed vector on categorical ones) is rebuilt in
    torch; otherwise the model must take the numeric columns directly (see
    :func:`skcfx.utils._torch_forward.torch_forward`).
    """
    from skcfx.utils._torch import require_torch

    require_torch('CounterfactualExplainer(method="gradient")')
    from skcfx.counterfactual._engine.differentiable import CodedModel, build_blocks
    from skcfx.utils._torch_forward import _affine_scaler, torch_forward

    model, offset = split_threshold(model)

    def head(rest):
        module = torch_forward(rest)
        if offset is None:
            return module
        import torch

        from skcfx.utils._torch_nn import ShiftBinary

        return torch.nn.Sequential(module, ShiftBinary(offset))

    found = raw_column_transformer(model)
    if found is not None:
        step_name, ct, rest = found
        blocks = build_blocks(ct, space, step_name, _affine_scaler)
        return CodedModel(blocks, head(rest))
    if len(space.categorical):
        names = [space.names[j] for j in space.categorical]
        raise TypeError(
            f'method="gradient" needs the categorical columns {names} one-hot '
            "encoded by a ColumnTransformer at the start of the model's "
            'Pipeline; otherwise use a model-agnostic method ("genetic", '
            '"random" or "kdtree").'
        )
    return CodedModel([], head(model))


def _dense(out):
    out = out.toarray() if hasattr(out, "toarray") else out
    return np.asarray(out, dtype=np.float64)


def category_tables(trans, idx, space, where):
    """``[base, M_j ...]`` with ``trans`` (fitted on the categorical columns
    ``idx``) equal to ``base + sum_j onehot_j @ M_j`` on the space's
    categories; a TypeError naming ``where`` if it is not of that form."""
    names = [space.names[j] for j in idx]
    d = len(space.names)
    if is_identity(trans):
        # a column passed through unchanged enters as its category's value
        # (bool and numeric categories, a missing one as NaN; text
        # categories cannot enter a model)
        maps = [np.zeros((1, len(idx)))]
        for a, j in enumerate(idx):
            K = len(space.categories[j])
            Z = np.zeros((K, d))
            Z[:, j] = np.arange(K)
            column = space.decode(Z)[space.names[j]]
            try:
                values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{where!r} passes the categories of {names[a]!r} on as "
                    f"numbers, which they are not: {exc}. Use a model-agnostic "
                    "method."
                ) from exc
            M = np.zeros((K, len(idx)))
            M[:, a] = values
            maps.append(M)
        return maps
    encode = trans.transform

    def transform(Z):
        frame = space.decode(Z)[names]
        try:
            return _dense(encode(frame))
        except Exception as exc:  # noqa: BLE001 - re-raised with the step named
            raise TypeError(
                f"{where!r} ({type(trans).__name__}) could not encode the "
                f"categories of {names}: {exc}. Use a model-agnostic method."
            ) from exc

    ref = np.zeros((1, d))  # every categorical column at its first category
    base = transform(ref)
    maps = [base]
    for j in idx:
        K = len(space.categories[j])
        Z = np.repeat(ref, K, axis=0)
        Z[:, j] = np.arange(K)
        maps.append(transform(Z) - base)
    # check the decomposition on random combinations of categories
    rng = np.random.default_rng(0)
    Z = np.zeros((16, d))
    for j in idx:
        Z[:, j] = rng.integers(0, len(space.categories[j]), 16)
    approx = base + sum(maps[1 + a][Z[:, j].astype(int)] for a, j in enumerate(idx))
    if not np.allclose(approx, transform(Z), atol=1e-6):
        raise TypeError(
            f"{where!r} ({type(trans).__name__}) does not encode each of "
            f"{names} on its own (its output is not a sum of per-column "
            "tables); the gradient search cannot rebuild it. Use a "
            "model-agnostic method."
        )
    return maps
