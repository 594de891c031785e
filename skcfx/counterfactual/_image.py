"""Gradient counterfactuals for images, optionally guided by class prototypes."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["image_counterfactuals", "plot_image_counterfactuals"]


@validate_params(
    {
        "model": [object],
        "X": ["array-like"],
        "target": ["array-like", Integral],
        "encoder": [object, None],
        "X_train": ["array-like", None],
        "y_train": ["array-like", None],
        "n_prototype_neighbors": [Interval(Integral, 1, None, closed="left")],
        "pixel_bounds": [tuple],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "tv_weight": [Interval(Real, 0, None, closed="left")],
        "prototype_weight": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "margin": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def image_counterfactuals(
    model,
    X,
    target,
    *,
    encoder=None,
    X_train=None,
    y_train=None,
    n_prototype_neighbors=5,
    pixel_bounds=(0.0, 1.0),
    l1=0.05,
    l2=1.0,
    tv_weight=0.0,
    prototype_weight=1.0,
    max_iter=300,
    learning_rate=0.01,
    margin=0.5,
):
    """Counterfactual images: small pixel changes that make the model say ``target``.

    All images are optimised together in one tensor: for an image ``x`` and
    a perturbation ``delta`` (``x + delta`` kept within ``pixel_bounds``),
    Adam minimises

    ``lambda * hinge + l1 |delta|_1 + l2 |delta|_2^2 + tv_weight TV(x + delta)
    + prototype_weight |enc(x + delta) - proto_t|_2^2``

    where ``hinge`` is how far the target class's logit is from exceeding
    every other one by ``margin`` and ``lambda`` doubles for images not yet
    counterfactual (Wachter's adjustment). With an ``encoder`` (the encoder
    half of an autoencoder), the counterfactual is pulled toward the target
    class's prototype: the mean encoding of the ``n_prototype_neighbors``
    training images of the target class nearest to ``enc(x)`` (as in
    CFProto, Van Looveren and Klaise 2021), which makes it look like a real
    image of that class instead of adversarial noise; measure it with
    :func:`skcfx.metrics.im1` and :func:`skcfx.metrics.im2`. Of all the
    iterates that the model predicts as ``target``, the one with the
    smallest loss (without the prediction term) is returned. The search runs
    on the device of the model's parameters (the encoder must be on the
    same one); the networks run in evaluation mode and keep their own modes
    afterwards.

    Parameters
    ----------
    model : torch module, skorch net, MLPClassifier or linear classifier
        The classifier; it receives arrays shaped like ``X`` (float32).
    X : array-like of shape (n_images, ...)
        Images, in the model's input shape.
    target : int or array-like of int of shape (n_images,)
        Desired class index (column of the model's logits) per image.
    encoder : torch module or skorch net, default=None
        Maps images to latent codes; enables prototype guidance.
    X_train, y_train : array-like, default=None
        Training images and their class indices, for the prototypes.
    n_prototype_neighbors : int, default=5
        Target-class encodings averaged into each image's prototype.
    pixel_bounds : tuple of float, default=(0.0, 1.0)
        Valid pixel range.
    l1, l2 : float, default=0.05, 1.0
        Penalties on the perturbation (elastic net, as in CFProto).
    tv_weight : float, default=0.0
        Total-variation smoothness of the counterfactual (images with two
        trailing spatial dimensions, or square flattened images).
    prototype_weight : float, default=1.0
        Weight of the prototype term (used with ``encoder``).
    max_iter : int, default=300
        Adam steps.
    learning_rate : float, default=0.01
        Adam's step size, in pixel units.
    margin : float, default=0.5
        Hinge margin on the logits.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``counterfactuals`` (ndarray shaped like ``X``), ``valid`` (the model
        predicts ``target`` on it), ``prediction`` and ``delta``
        (counterfactual minus image).
    """
    from skcfx.utils._torch import require_torch, to_float32

    torch = require_torch("image_counterfactuals")
    from skcfx.utils._differentiable import torch_forward
    from skcfx.utils._torch import eval_mode
    from skcfx.utils._torch_nn import class_margin

    net = torch_forward(
        model,
        owner="image_counterfactuals",
        alternative="Pass a torch module, a fitted skorch net or MLPClassifier.",
    )
    X = to_float32(X)
    n = len(X)
    target = np.broadcast_to(np.asarray(target, dtype=np.int64), (n,)).copy()
    lo, hi = (float(v) for v in pixel_bounds)
    # everything runs on the device of the model's parameters (a CUDA skorch
    # net stays on its GPU); results come back as numpy arrays
    device = next(iter(net.parameters()), torch.empty(0)).device
    x = torch.as_tensor(X, device=device)
    t = torch.as_tensor(target, device=device)
    enc = None
    if encoder is not None:
        enc = getattr(encoder, "module_", encoder)
    with eval_mode(net, enc):
        if encoder is not None:
            if X_train is None or y_train is None:
                raise ValueError(
                    "encoder is given but X_train/y_train are not: prototype "
                    "guidance needs the training images and their classes."
                )
            y_train = np.asarray(y_train)
            train = torch.as_tensor(to_float32(X_train), device=device)
            with torch.no_grad():
                codes = enc(train).reshape(len(y_train), -1)
                own = enc(x).reshape(n, -1)
            # prototype: mean code of the nearest training images of the
            # target class (one distance matrix per target class)
            proto = torch.empty_like(own)
            for c in np.unique(target):
                rows = np.flatnonzero(target == c)
                pool = codes[torch.as_tensor(y_train == c, device=device)]
                if len(pool) == 0:
                    raise ValueError(
                        f"No training image of class {c} for the prototype of "
                        f"image {rows[0]}."
                    )
                dist = torch.cdist(own[torch.as_tensor(rows, device=device)], pool)
                k = min(n_prototype_neighbors, len(pool))
                near = torch.topk(dist, k, dim=1, largest=False).indices
                proto[torch.as_tensor(rows, device=device)] = pool[near].mean(dim=1)
        delta = torch.zeros_like(x, requires_grad=True)
        opt = torch.optim.Adam([delta], lr=learning_rate)
        lam = torch.ones(n, device=device)
        best = x.clone()
        best_loss = torch.full((n,), float("inf"), device=device)
        found = torch.zeros(n, dtype=torch.bool, device=device)

        def tv(img):
            side = int(round(np.sqrt(img[0].numel())))
            grid = img.reshape(n, -1, side, side) if img.dim() == 2 else img
            return (grid[..., 1:, :] - grid[..., :-1, :]).abs().flatten(1).sum(1) + (
                grid[..., :, 1:] - grid[..., :, :-1]
            ).abs().flatten(1).sum(1)

        for _ in range(max_iter):
            opt.zero_grad()
            cf = torch.clamp(x + delta, lo, hi)
            logits = net(cf)
            hinge = torch.relu(margin - class_margin(logits, t))
            d = (cf - x).flatten(1)
            rest = l1 * d.abs().sum(1) + l2 * (d**2).sum(1)
            if tv_weight:
                rest = rest + tv_weight * tv(cf)
            if enc is not None:
                rest = rest + prototype_weight * (
                    (enc(cf).reshape(n, -1) - proto) ** 2
                ).sum(1)
            (lam * hinge + rest).sum().backward()
            opt.step()
            with torch.no_grad():
                valid = logits.argmax(dim=1) == t
                better = valid & (rest < best_loss)
                best[better] = cf[better].detach()
                best_loss = torch.where(better, rest.detach(), best_loss)
                found |= valid
                lam = torch.where(found, lam, torch.clamp(lam * 1.05, max=1e3))
        with torch.no_grad():
            final = best.clamp(lo, hi)
            prediction = net(final).argmax(dim=1).cpu().numpy()
    final = final.cpu().numpy()
    return Bunch(
        counterfactuals=final,
        valid=prediction == target,
        prediction=prediction,
        delta=final - X,
    )


def plot_image_counterfactuals(
    images,
    result,
    *,
    rows=None,
    image_shape=None,
    titles=None,
    axes=None,
    cmap="gray_r",
    colorbar=True,
):
    """Query, counterfactual and difference side by side, one row per image.

    Parameters
    ----------
    images : array-like of shape (n_images, ...)
        The queries given to :func:`image_counterfactuals`.
    result : Bunch
        Its result.
    rows : array-like of int, default=None
        Which images to show (all by default).
    image_shape : tuple of int, default=None
        ``(height, width)``; inferred for square images.
    titles : list of str, default=None
        One caption per shown image (for example the true class), shown as
        ``"query (caption)"`` above the query.
    axes : ndarray of matplotlib Axes of shape (n_images, 3), default=None
        Where to draw; a new figure when None.
    cmap : str, default="gray_r"
        Colour map of the images (the difference uses a diverging one).
    colorbar : bool, default=True
        Give each difference map a colour bar (counterfactual minus query,
        in pixel units).

    Returns
    -------
    axes : ndarray of matplotlib Axes of shape (n_images, 3)
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype=float)
    rows = np.arange(len(images)) if rows is None else np.asarray(rows, dtype=int)
    n = len(rows)
    flat = images[rows].reshape(n, -1)
    if image_shape is None:
        side = int(round(np.sqrt(flat.shape[1])))
        if side * side != flat.shape[1]:
            raise ValueError(
                f"Images of {flat.shape[1]} pixels are not square; pass "
                "image_shape=(height, width)."
            )
        image_shape = (side, side)
    cfs = np.asarray(result.counterfactuals, dtype=float)[rows].reshape(n, *image_shape)
    prediction, valid = result.prediction[rows], result.valid[rows]
    queries = flat.reshape(n, *image_shape)
    if axes is None:
        _, axes = plt.subplots(n, 3, figsize=(5.4, 1.8 * n), squeeze=False)
    axes = np.asarray(axes).reshape(n, 3)
    for i in range(n):
        diff = cfs[i] - queries[i]
        bound = max(np.abs(diff).max(), 1e-12)
        panels = [
            (
                queries[i],
                cmap,
                None,
                "query" if titles is None else f"query ({titles[i]})",
            ),
            (
                cfs[i],
                cmap,
                None,
                f"counterfactual: {prediction[i]}"
                + ("" if valid[i] else " (not reached)"),
            ),
            (diff, "RdBu_r", (-bound, bound), "change"),
        ]
        for c, (ax, (img, cm, lim, title)) in enumerate(zip(axes[i], panels)):
            kwargs = {} if lim is None else {"vmin": lim[0], "vmax": lim[1]}
            shown = ax.imshow(img, cmap=cm, interpolation="nearest", **kwargs)
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 2 and colorbar:
                bar = ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
                bar.ax.tick_params(labelsize=6)
                bar.set_label("counterfactual - query", fontsize=6)
    return axes
