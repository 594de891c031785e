"""Getting a layer's activations and the model head above it."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array, check_is_fitted

from skcfx.utils._frozen import unwrap_frozen

__all__ = ["layer_activations", "mlp_head"]


def _torch_module(model):
    """The nn.Module of a torch module or a (fitted) skorch net."""
    from skcfx.utils._torch import require_torch

    torch = require_torch("layer_activations")
    module = getattr(model, "module_", model)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(
            f"Expected a torch.nn.Module, a fitted skorch net or a fitted "
            f"MLPClassifier; got {type(model).__name__}."
        )
    return module


def _network(model):
    """The network at the end of ``model`` and the fitted steps in front of
    it: ``model`` itself, a ``FrozenEstimator`` of it, or a Pipeline (nested
    or frozen too) whose last step is it, as scikit-learn users fit an MLP
    behind its scaler. Returns ``(steps, network)``, ``steps`` the fitted
    transformers that prepare the network's input, in order."""
    steps = []
    model = unwrap_frozen(model)
    while isinstance(model, Pipeline):
        check_is_fitted(model)
        *front, (_, last) = model.steps
        steps.extend(step for _, step in front if step not in (None, "passthrough"))
        model = unwrap_frozen(last)
    return steps, model


def _is_sklearn_mlp(model):
    return hasattr(model, "coefs_") or type(model).__name__ in (
        "MLPClassifier",
        "MLPRegressor",
    )


def _head_module(head, owner):
    """The torch function of a head: a torch module, a fitted skorch net, or a
    fitted scikit-learn classifier on activations (linear, MLPClassifier, a
    Pipeline of scalers in front of one), rebuilt in torch."""
    from skcfx.utils._torch_forward import torch_forward

    return torch_forward(
        head,
        owner=owner,
        alternative="For a hidden layer of an MLPClassifier, see mlp_head.",
    )


def _mlp_forward(mlp, X, start, stop):
    """Layers [start, stop) of a fitted scikit-learn MLP, in numpy."""
    from sklearn.neural_network._base import ACTIVATIONS

    out = np.asarray(X, dtype=np.float64)
    last = len(mlp.coefs_)
    for i in range(start, stop):
        out = out @ mlp.coefs_[i] + mlp.intercepts_[i]
        if i < last - 1:
            ACTIVATIONS[mlp.activation](out)
    return out


def layer_activations(model, X, layer, *, batch_size=1024):
    """Activations of one layer of a model, without writing hooks.

    Parameters
    ----------
    model : torch.nn.Module, fitted skorch net, fitted MLPClassifier, or a \
            fitted Pipeline ending in one
        The model. For a torch module or skorch net the output of the named
        submodule is captured with a forward hook; for a scikit-learn
        :class:`~sklearn.neural_network.MLPClassifier` the activations of
        hidden layer ``layer`` (an int, 0 = first hidden layer) are computed
        from its fitted weights. A Pipeline's steps in front of the network
        (a scaler, a ColumnTransformer) transform ``X`` first;
        ``FrozenEstimator`` wrappers are looked through.
    X : array-like
        Model inputs: the Pipeline's raw input when ``model`` is a Pipeline
        (for torch, anything the module accepts as one float32 tensor batch
        once transformed).
    layer : str or int
        Name of the submodule (``dict(module.named_modules())`` keys, e.g.
        ``"features.3"``), or the hidden-layer index of an MLPClassifier.
    batch_size : int, default=1024
        Rows per forward pass (torch).

    Returns
    -------
    A : ndarray of shape (n_samples, n_units)
        The activations, flattened per row, float64 for scikit-learn models
        and float32 for torch.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPClassifier
    >>> from skcfx.concepts import layer_activations
    >>> X = np.random.RandomState(0).standard_normal((50, 4))
    >>> mlp = MLPClassifier((8, 3), max_iter=500, random_state=0)
    >>> mlp = mlp.fit(X, X[:, 0] > 0)
    >>> layer_activations(mlp, X, 1).shape
    (50, 3)
    """
    steps, model = _network(model)
    for step in steps:
        X = step.transform(X)
    if _is_sklearn_mlp(model):
        check_is_fitted(model)
        n_hidden = len(model.coefs_) - 1
        if not isinstance(layer, int | np.integer) or not 0 <= layer < n_hidden:
            raise ValueError(
                f"layer={layer!r} must be a hidden-layer index in [0, {n_hidden}) "
                f"for this MLP with hidden_layer_sizes={model.hidden_layer_sizes}."
            )
        X = check_array(X, dtype=np.float64)
        return _mlp_forward(model, X, 0, layer + 1)

    import torch

    module = _torch_module(model)
    named = dict(module.named_modules())
    if layer not in named:
        raise ValueError(
            f"layer={layer!r} is not a submodule of {type(module).__name__}; "
            f"its submodules are {[n for n in named if n][:20]}."
        )
    captured = []

    def hook(_module, _inputs, output):
        captured.append(output.detach().reshape(len(output), -1).cpu())

    handle = named[layer].register_forward_hook(hook)
    device = next(module.parameters()).device
    was_training = module.training
    module.eval()
    try:
        X = np.asarray(X, dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                module(torch.as_tensor(X[start : start + batch_size], device=device))
    finally:
        handle.remove()
        module.train(was_training)
    return torch.cat(captured).numpy()


def mlp_head(mlp, layer):
    """The part of a fitted MLPClassifier above a hidden layer, as torch.

    Parameters
    ----------
    mlp : fitted MLPClassifier, or a fitted Pipeline ending in one
        The model (a Pipeline's steps in front of the network and
        ``FrozenEstimator`` wrappers play no part in the head).
    layer : int
        Hidden-layer index whose activations are the head's input.

    Returns
    -------
    head : torch.nn.Module
        Maps that layer's activations (float32) to the output logits (one
        column per class; for a binary MLP, the logits of classes 0 and 1
        as ``[-z/2, z/2]``), for :func:`tcav` and
        :func:`conceptual_counterfactuals`.
    """
    from skcfx.utils._torch import require_torch

    require_torch("mlp_head")
    _, mlp = _network(mlp)
    if not _is_sklearn_mlp(mlp):
        raise TypeError(
            f"mlp_head expects a fitted MLPClassifier (or a Pipeline ending in "
            f"one); got {type(mlp).__name__}. For a torch module or skorch net, "
            f"pass its submodule above the layer to tcav as the head."
        )
    check_is_fitted(mlp)
    n_hidden = len(mlp.coefs_) - 1
    if not isinstance(layer, int | np.integer) or not 0 <= layer < n_hidden:
        raise ValueError(
            f"layer={layer!r} must be a hidden-layer index in [0, {n_hidden})."
        )
    from skcfx.utils._torch_nn import sklearn_mlp

    return sklearn_mlp(mlp, start=layer + 1)
