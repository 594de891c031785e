"""Turn a fitted model into a torch function of its raw numeric inputs.

Supported: torch modules and fitted skorch nets (their ``module_``),
scikit-learn linear classifiers with ``coef_`` / ``intercept_``
(``LogisticRegression``, ``LinearSVC``, ``SGDClassifier``,
``RidgeClassifier``, ...), ``MLPClassifier``, and Pipelines of
``StandardScaler`` / ``MinMaxScaler`` / ``MaxAbsScaler`` / ``SimpleImputer``
(the identity on complete rows) / ``PCA`` / ``TruncatedSVD`` / feature
selector (``SelectKBest``, ``SelectFromModel``, ...) steps in front of one
of those. The
returned module maps a float32 batch of raw rows to class logits (two
columns for a binary linear model: ``[-z/2, z/2]``), so gradient-based methods
(counterfactuals, TCAV, CCE, image counterfactuals) work on plain
scikit-learn models without the user writing torch.
"""

import numpy as np

__all__ = ["torch_forward"]

_GRADIENT = 'CounterfactualExplainer(method="gradient")'
_AGNOSTIC = 'Use a model-agnostic method ("genetic", "random" or "kdtree").'


def _affine_scaler(step):
    """(scale, offset) with ``step.transform(x) == x * scale + offset`` on
    rows without missing values, or None.

    StandardScaler, MinMaxScaler (``clip=False``), MaxAbsScaler; the
    identities on such rows: SimpleImputer (unless it drops an all-missing
    column or adds indicator columns), an identity FunctionTransformer and
    ``"passthrough"``; and Pipelines of these (``SimpleImputer`` then
    ``StandardScaler`` inside a ColumnTransformer, say), composed. The
    callers never feed a missing value through the map: the gradient and
    exact searches refuse queries with missing values and never create one.
    """
    from skcfx.utils._frozen import unwrap_frozen

    step = unwrap_frozen(step)
    name = type(step).__name__
    if name == "StandardScaler":
        scale = 1.0 / step.scale_ if step.with_std else np.ones(step.n_features_in_)
        offset = -step.mean_ * scale if step.with_mean else np.zeros_like(scale)
        return scale, offset
    if name == "MinMaxScaler":
        if getattr(step, "clip", False):
            return None
        return step.scale_, step.min_
    if name == "MaxAbsScaler":
        return 1.0 / step.scale_, np.zeros_like(step.scale_)
    if name == "SimpleImputer":
        stats = np.asarray(step.statistics_)
        dropped = stats.dtype.kind == "f" and np.isnan(stats).any()
        if (
            step.add_indicator
            or (dropped and not step.keep_empty_features)
            or not _is_nan_marker(step.missing_values)
        ):
            return None
        return _identity(step.n_features_in_)
    if name == "FunctionTransformer" and step.func is None:
        return _identity(getattr(step, "n_features_in_", None))
    if name == "Pipeline":
        return _composed(step)
    return None


def _is_nan_marker(value):
    """Whether an imputer's ``missing_values`` is a missing-value marker (a
    real number such as 0 or -1 would be replaced wherever it occurs)."""
    import pandas as pd

    return (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and np.isnan(value))
    )


def _identity(width):
    if width is None:
        return None
    return np.ones(width), np.zeros(width)


def _composed(pipeline):
    """The affine map of a Pipeline whose every step is one, or None."""
    scale = offset = None
    for _, step in pipeline.steps:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        affine = _affine_scaler(step)
        if affine is None:
            return None
        s, o = (np.asarray(v, dtype=np.float64) for v in affine)
        if scale is None:
            scale, offset = s, o
        else:
            scale, offset = scale * s, offset * s + o
    if scale is None:
        return _identity(getattr(pipeline, "n_features_in_", None))
    return scale, offset


def _linear_step(step):
    """(W, b) with step.transform(x) == x @ W.T + b, for linear projections
    (PCA, TruncatedSVD) and feature selectors (SelectKBest, SelectFromModel,
    VarianceThreshold, RFE, ...: any fitted ``SelectorMixin``, a 0/1 W)."""
    from sklearn.feature_selection import SelectorMixin

    from skcfx.utils._frozen import unwrap_frozen

    step = unwrap_frozen(step)
    if isinstance(step, SelectorMixin):
        support = np.asarray(step.get_support(), dtype=bool)
        return np.eye(len(support))[support], np.zeros(int(support.sum()))
    name = type(step).__name__
    if name in ("PCA", "IncrementalPCA"):
        W = np.asarray(step.components_, dtype=np.float64)
        if step.whiten:
            W = W / np.sqrt(step.explained_variance_)[:, None]
        return W, -W @ step.mean_
    if name == "TruncatedSVD":
        W = np.asarray(step.components_, dtype=np.float64)
        return W, np.zeros(W.shape[0])
    return None


def _torch_linear(W, b):
    import torch

    layer = torch.nn.Linear(W.shape[1], W.shape[0])
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(W, dtype=torch.float32))
        layer.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
    return layer


def torch_forward(model, *, owner=_GRADIENT, alternative=_AGNOSTIC):
    """A torch module computing ``model``'s class logits from raw rows.

    Parameters
    ----------
    model : fitted estimator
        See the module docstring for what is supported.
    owner : str
        Who needs the gradient, for error messages.
    alternative : str
        What to do instead, for error messages.

    Returns
    -------
    module : torch.nn.Module
        float32 in, logits out (a regressor's prediction, for a linear
        regressor or an MLPRegressor). A user's torch module (or a skorch net's) is
        returned as is, never switched to evaluation mode here: callers run
        it inside :func:`~skcfx.utils._torch.eval_mode`, which restores its
        mode afterwards.

    Raises
    ------
    TypeError
        Naming the step that cannot be differentiated, and ``alternative``.
    """
    from skcfx.utils._torch import require_torch

    torch = require_torch(owner)
    from skcfx.utils._frozen import unwrap_frozen
    from skcfx.utils._torch_nn import Affine, BinaryLogits, sklearn_mlp

    model = unwrap_frozen(model)
    if isinstance(model, torch.nn.Module):
        return model
    if hasattr(model, "module_") and isinstance(model.module_, torch.nn.Module):
        return model.module_
    if hasattr(model, "steps"):
        layers = []
        for name, step in model.steps[:-1]:
            if step in (None, "passthrough"):
                continue
            affine = _affine_scaler(step)
            if affine is not None:
                layers.append(Affine(*affine))
                continue
            linear = _linear_step(step)
            if linear is None:
                raise TypeError(
                    f"{owner} cannot differentiate the Pipeline step {name!r} "
                    f"({type(step).__name__}); supported in front of the model: "
                    f"StandardScaler, MinMaxScaler (clip=False), MaxAbsScaler, "
                    f"SimpleImputer, PCA, TruncatedSVD, feature selectors "
                    f"(SelectKBest, SelectFromModel, ...). {alternative}"
                )
            layers.append(_torch_linear(*linear))
        last = model.steps[-1][1]
        layers.append(torch_forward(last, owner=owner, alternative=alternative))
        return torch.nn.Sequential(*layers)
    if type(model).__name__ == "MLPClassifier":
        return sklearn_mlp(model)
    if type(model).__name__ == "MLPRegressor":  # the prediction itself
        return sklearn_mlp(model, logits=False)
    coef = getattr(model, "coef_", None)
    if coef is not None and hasattr(model, "intercept_"):
        coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
        layers = [_torch_linear(coef, intercept)]
        if coef.shape[0] == 1 and hasattr(model, "classes_"):
            layers.append(BinaryLogits())  # a regressor: its prediction
        return torch.nn.Sequential(*layers)
    raise TypeError(
        f"{owner} needs a differentiable model: a torch module, a skorch net, a "
        f"linear classifier with coef_, an MLPClassifier, or a Pipeline of "
        f"scalers in front of one; got {type(model).__name__}. {alternative}"
    )
