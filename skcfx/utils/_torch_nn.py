"""Small torch modules shared by the torch-backed tools.

Imported only when torch is needed (``import skcfx`` never imports torch).
"""

import numpy as np
import torch
from torch import nn

__all__ = ["Affine", "BinaryLogits", "ShiftBinary", "class_margin", "sklearn_mlp"]

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


class BinaryLogits(nn.Module):
    """Turn a single logit ``z`` into the two-class logits ``[-z/2, z/2]``.

    Same softmax (and margin ``z``) as ``[0, z]``, but each class's logit
    moves with the evidence for it, so gradients of either class's logit
    (TCAV, CCE) are informative.
    """

    def forward(self, z):
        half = 0.5 * z
        return torch.cat([-half, half], dim=1)


class ShiftBinary(nn.Module):
    """Move a binary model's boundary: two-class logits whose margin
    (second minus first) drops by ``offset``, so that the arg-max is the
    second class exactly when the margin was at least ``offset`` (a
    decision threshold on the log-odds)."""

    def __init__(self, offset):
        super().__init__()
        self.register_buffer("offset", torch.tensor(float(offset)))

    def forward(self, logits):
        half = 0.5 * self.offset
        return logits + torch.stack([half, -half])


class Affine(nn.Module):
    """``x * scale + offset`` per column (a fitted scaler, as torch)."""

    def __init__(self, scale, offset):
        super().__init__()
        self.register_buffer(
            "scale", torch.as_tensor(np.asarray(scale), dtype=torch.float32)
        )
        self.register_buffer(
            "offset", torch.as_tensor(np.asarray(offset), dtype=torch.float32)
        )

    def forward(self, x):
        return x * self.scale + self.offset


def sklearn_mlp(mlp, start=0, logits=True):
    """Layers ``start`` .. end of a fitted MLPClassifier as a torch Sequential.

    ``start=0`` is the whole network (raw inputs to logits); ``start=i + 1``
    is the head above hidden layer ``i``. A binary MLP's single output logit
    ``z`` becomes the two class logits ``[-z/2, z/2]`` (with ``logits``; an
    MLPRegressor's outputs are its predictions, ``logits=False``).
    """
    layers = []
    last = len(mlp.coefs_) - 1
    for i in range(start, last + 1):
        weight = torch.as_tensor(mlp.coefs_[i].T, dtype=torch.float32)
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(torch.as_tensor(mlp.intercepts_[i], dtype=torch.float32))
        layers.append(linear)
        if i < last:
            layers.append(_ACTIVATIONS[mlp.activation]())
    if logits and mlp.coefs_[-1].shape[1] == 1:
        layers.append(BinaryLogits())
    return nn.Sequential(*layers).eval()


def class_margin(logits, cls):
    """Logit of class ``cls`` minus the largest other logit (last axis).

    ``logits`` has shape (..., n_classes) and ``cls`` (...); positive where
    ``cls`` is the predicted class. The hinge losses of the gradient searches
    are built on it.
    """
    chosen = logits.gather(-1, cls.unsqueeze(-1)).squeeze(-1)
    mask = nn.functional.one_hot(cls, logits.shape[-1]).bool()
    return chosen - logits.masked_fill(mask, -torch.inf).amax(dim=-1)
