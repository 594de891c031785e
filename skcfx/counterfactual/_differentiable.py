"""The model as a torch function of the coded feature space (gradient search).

A Pipeline whose first step is a ColumnTransformer is rebuilt in torch
(:mod:`skcfx.counterfactual._torch_coded`); the rest of the model goes
through :func:`skcfx.utils._differentiable.torch_forward`.
"""

from skcfx.utils._differentiable import _affine_scaler, torch_forward

__all__ = ["coded_forward", "torch_forward"]


def coded_forward(model, space):
    """A torch module of ``model``'s logits from the coded feature space.

    ``forward(Z, cats)`` takes coded rows and a dict of relaxed one-hot
    vectors (one per categorical column, over ``space.categories``). A
    Pipeline that starts with a ColumnTransformer (StandardScaler,
    MinMaxScaler, passthrough and drop on numeric columns; any encoder that
    maps each category to a fixed vector on categorical ones) is
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
        return CodedModel(blocks, torch_forward(rest))
    if len(space.categorical):
        names = [space.names[j] for j in space.categorical]
        raise TypeError(
            f'method="gradient" needs the categorical columns {names} one-hot '
            "encoded by a ColumnTransformer at the start of the model's "
            'Pipeline; otherwise use a model-agnostic method ("genetic", '
            '"random" or "kdtree").'
        )
    return CodedModel([], torch_forward(model))
