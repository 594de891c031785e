"""Turn a fitted model into a torch function of its raw numeric inputs.

Supported: torch modules and fitted skorch nets (their ``module_``),
scikit-learn linear classifiers with ``coef_`` / ``intercept_``
(``LogisticRegression``, ``LinearSVC``, ``SGDClassifier``,
``RidgeClassifier``, ...), ``MLPClassifier``, and Pipelines of
``StandardScaler`` / ``MinMaxScaler`` steps in front of one of those. The
returned module maps a float32 batch of raw rows to class logits (two
columns for a binary linear model: ``[0, z]``), so the gradient search can
differentiate the model without the user writing torch.
"""

import numpy as np

__all__ = ["torch_forward"]


def _affine_scaler(step):
    """(scale, offset) with step.transform(x) == x * scale + offset."""
    name = type(step).__name__
    if name == "StandardScaler":
        scale = 1.0 / step.scale_ if step.with_std else np.ones(step.n_features_in_)
        offset = -step.mean_ * scale if step.with_mean else np.zeros_like(scale)
        return scale, offset
    if name == "MinMaxScaler":
        if getattr(step, "clip", False):
            return None
        return step.scale_, step.min_
    return None


def torch_forward(model):
    """A torch module computing ``model``'s class logits from raw rows.

    Parameters
    ----------
    model : fitted estimator
        See the module docstring for what is supported.

    Returns
    -------
    module : torch.nn.Module
        In evaluation mode; float32 in, logits out.

    Raises
    ------
    TypeError
        Naming the step that cannot be differentiated, and suggesting a
        model-agnostic method.
    """
    from skcfx.utils._torch import require_torch

    torch = require_torch('CounterfactualExplainer(method="gradient")')
    from skcfx.utils._torch_nn import Affine, BinaryLogits, sklearn_mlp

    inner = getattr(model, "estimator", None)
    if type(model).__name__ == "FrozenEstimator" and inner is not None:
        return torch_forward(inner)
    if isinstance(model, torch.nn.Module):
        return model.eval()
    if hasattr(model, "module_") and isinstance(model.module_, torch.nn.Module):
        return model.module_.eval()
    if hasattr(model, "steps"):
        layers = []
        for name, step in model.steps[:-1]:
            if step in (None, "passthrough"):
                continue
            affine = _affine_scaler(step)
            if affine is None:
                raise TypeError(
                    f'method="gradient" cannot differentiate the Pipeline step '
                    f"{name!r} ({type(step).__name__}); supported in front of the "
                    "model: StandardScaler, MinMaxScaler (clip=False). Use a "
                    'model-agnostic method ("genetic", "random" or "kdtree").'
                )
            layers.append(Affine(*affine))
        layers.append(torch_forward(model.steps[-1][1]))
        return torch.nn.Sequential(*layers).eval()
    if type(model).__name__ == "MLPClassifier":
        return sklearn_mlp(model)
    coef = getattr(model, "coef_", None)
    if coef is not None and hasattr(model, "intercept_"):
        coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
        linear = torch.nn.Linear(coef.shape[1], coef.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(coef, dtype=torch.float32))
            linear.bias.copy_(torch.as_tensor(intercept, dtype=torch.float32))
        layers = [linear]
        if coef.shape[0] == 1:
            layers.append(BinaryLogits())
        return torch.nn.Sequential(*layers).eval()
    raise TypeError(
        f'method="gradient" needs a differentiable model: a torch module, a '
        f"skorch net, a linear classifier with coef_, an MLPClassifier, or a "
        f"Pipeline of scalers in front of one; got {type(model).__name__}. Use "
        'a model-agnostic method ("genetic", "random" or "kdtree").'
    )


def coded_forward(model, space):
    """A torch module of ``model``'s logits from the coded feature space.

    ``forward(Z, cats)`` takes coded rows and a dict of relaxed one-hot
    vectors (one per categorical column, over ``space.categories``). A
    Pipeline that starts with a ColumnTransformer (StandardScaler,
    MinMaxScaler, OneHotEncoder with ``drop=None``, passthrough, drop) is
    rebuilt in torch; otherwise the model must take the numeric columns
    directly (see :func:`torch_forward`).
    """
    from skcfx.utils._torch import require_torch

    require_torch('CounterfactualExplainer(method="gradient")')
    from skcfx.counterfactual._torch_coded import CodedModel, build_blocks

    inner = getattr(model, "estimator", None)
    if type(model).__name__ == "FrozenEstimator" and inner is not None:
        return coded_forward(inner, space)
    steps = getattr(model, "steps", None)
    if steps and type(steps[0][1]).__name__ == "ColumnTransformer":
        blocks = build_blocks(steps[0][1], space, steps[0][0], _affine_scaler)
        rest = model[1:] if len(steps) > 2 else steps[-1][1]
        return CodedModel(blocks, torch_forward(rest)).eval()
    if len(space.categorical):
        names = [space.names[j] for j in space.categorical]
        raise TypeError(
            f'method="gradient" needs the categorical columns {names} one-hot '
            "encoded by a ColumnTransformer at the start of the model's "
            'Pipeline; otherwise use a model-agnostic method ("genetic", '
            '"random" or "kdtree").'
        )
    return CodedModel([], torch_forward(model)).eval()
