"""torch heads for the concept tools (imported only when torch is needed)."""

import torch
from torch import nn

__all__ = ["BinaryLogits", "sklearn_mlp_head"]

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


class BinaryLogits(nn.Module):
    """Turn a single logit ``z`` into the two-class logits ``[0, z]``."""

    def forward(self, z):
        return torch.cat([torch.zeros_like(z), z], dim=1)


def sklearn_mlp_head(mlp, layer):
    """Layers of a fitted MLPClassifier above hidden layer ``layer``."""
    layers = []
    last = len(mlp.coefs_) - 1
    for i in range(layer + 1, last + 1):
        weight = torch.as_tensor(mlp.coefs_[i].T, dtype=torch.float32)
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(torch.as_tensor(mlp.intercepts_[i], dtype=torch.float32))
        layers.append(linear)
        if i < last:
            layers.append(_ACTIVATIONS[mlp.activation]())
    if mlp.coefs_[-1].shape[1] == 1:
        layers.append(BinaryLogits())
    return nn.Sequential(*layers).eval()
