"""Helpers for the torch-backed estimators (torch and skorch are an extra)."""

import contextlib

import numpy as np

__all__ = ["device_of", "eval_mode", "require_torch", "seeded_torch", "to_float32"]


def require_torch(owner):
    """Import torch and skorch, or raise an ImportError naming the extra.

    Parameters
    ----------
    owner : str
        Name of the class or function that needs torch, for the message.

    Returns
    -------
    torch : module
    """
    try:
        import skorch  # noqa: F401
        import torch
    except ImportError as exc:
        raise ImportError(
            f"{owner} needs torch and skorch, which are an optional extra of "
            "skcfx. Install torch's CPU build first, then the extra: "
            "pip install torch --index-url https://download.pytorch.org/whl/cpu "
            "&& pip install 'skcfx[torch]' (a plain 'pip install torch' may "
            "download a CUDA build of several GB; see the README)."
        ) from exc
    return torch


@contextlib.contextmanager
def seeded_torch(seed):
    """Run a block under torch's CPU generator seeded with ``seed``.

    The global generator state is saved before and restored after
    (``torch.random.fork_rng``), so the caller's torch random stream is left
    exactly as it was, while everything inside the block (weight
    initialisation, shuffling, Gumbel noise) is reproducible.

    Parameters
    ----------
    seed : int
        Seed for the block.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


@contextlib.contextmanager
def eval_mode(*modules):
    """Run a block with ``modules`` in evaluation mode, then restore each
    submodule's own training flag (a user's network is left as it was).

    Parameters
    ----------
    *modules : torch.nn.Module or None
        None entries are ignored.
    """
    flags = [
        [(m, m.training) for m in module.modules()]
        for module in modules
        if module is not None
    ]
    try:
        for module in modules:
            if module is not None:
                module.eval()
        yield
    finally:
        for saved in flags:
            for m, training in saved:
                m.training = training


def to_float32(X):
    """A fresh, C-contiguous float32 copy of ``X`` (never a view of it)."""
    return np.array(X, dtype=np.float32, order="C", copy=True)


def device_of(module):
    """Device of a torch module's parameters (CPU when it has none): every
    torch-backed search runs there, so a CUDA network stays on its GPU."""
    import torch

    return next(iter(module.parameters()), torch.empty(0)).device
