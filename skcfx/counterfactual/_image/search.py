"""The gradient search of counterfactual images (CFProto-style objective).

All images are optimised together in one tensor. For an image ``x`` and a
perturbation ``delta`` (``x + delta`` kept within the pixel bounds), Adam
minimises

``lambda * hinge + l1 |delta|_1 + l2 |delta|_2^2 + tv_weight TV(x + delta)
+ prototype_weight |enc(x + delta) - proto_t|_2^2``

where ``hinge`` is how far the target class's logit is from exceeding every
other one by ``margin`` and ``lambda`` grows for images not yet
counterfactual (Wachter's adjustment). Of all iterates that the network
predicts as the target, the one with the smallest loss without the
prediction term is kept.
"""

import numpy as np

__all__ = ["nearest_prototypes", "optimise"]


def nearest_prototypes(torch, own, codes, code_class, target, k):
    """Per image: the mean of the ``k`` training codes of its target class
    nearest to the image's own code (one distance matrix per class)."""
    proto = torch.empty_like(own)
    device = own.device
    for c in np.unique(target):
        rows = torch.as_tensor(np.flatnonzero(target == c), device=device)
        pool = codes[torch.as_tensor(code_class == c, device=device)]
        if len(pool) == 0:
            raise ValueError(
                f"No training image of class index {c} for the prototype; fit "
                "the explainer on images of every class it may be asked for."
            )
        dist = torch.cdist(own[rows], pool)
        near = torch.topk(dist, min(k, len(pool)), dim=1, largest=False).indices
        proto[rows] = pool[near].mean(dim=1)
    return proto


def _total_variation(img):
    n = img.shape[0]
    if img.dim() == 2:
        side = int(round(np.sqrt(img[0].numel())))
        img = img.reshape(n, -1, side, side)
    return (img[..., 1:, :] - img[..., :-1, :]).abs().flatten(1).sum(1) + (
        img[..., :, 1:] - img[..., :, :-1]
    ).abs().flatten(1).sum(1)


def optimise(net, x, target, *, bounds, params, enc=None, proto=None):
    """Counterfactuals of the images ``x`` (a tensor) toward class indices
    ``target`` (ndarray).

    ``params`` holds ``l1``, ``l2``, ``tv_weight``, ``prototype_weight``,
    ``max_steps``, ``learning_rate`` and ``margin``. Returns ``(best, found)``:
    the best iterate per image (the image itself where none reached the
    target) and whether one did, by the network's own arg-max.
    """
    import torch

    from skcfx.utils._torch_nn import class_margin

    lo, hi = bounds
    n = x.shape[0]
    t = torch.as_tensor(target, device=x.device)
    delta = torch.zeros_like(x, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=params["learning_rate"])
    lam = torch.ones(n, device=x.device)
    best = x.clone()
    best_loss = torch.full((n,), float("inf"), device=x.device)
    found = torch.zeros(n, dtype=torch.bool, device=x.device)
    for _ in range(params["max_steps"]):
        opt.zero_grad()
        cf = torch.clamp(x + delta, lo, hi)
        logits = net(cf)
        hinge = torch.relu(params["margin"] - class_margin(logits, t))
        d = (cf - x).flatten(1)
        rest = params["l1"] * d.abs().sum(1) + params["l2"] * (d**2).sum(1)
        if params["tv_weight"]:
            rest = rest + params["tv_weight"] * _total_variation(cf)
        if enc is not None:
            gap = enc(cf).reshape(n, -1) - proto
            rest = rest + params["prototype_weight"] * (gap**2).sum(1)
        (lam * hinge + rest).sum().backward()
        opt.step()
        with torch.no_grad():
            valid = logits.argmax(dim=1) == t
            better = valid & (rest < best_loss)
            best[better] = cf[better].detach()
            best_loss = torch.where(better, rest.detach(), best_loss)
            found |= valid
            lam = torch.where(found, lam, torch.clamp(lam * 1.05, max=1e3))
    return best.clamp(lo, hi), found.cpu().numpy()
