"""Figure of counterfactual images: query, counterfactual and change."""

import numpy as np

__all__ = ["plot_image_counterfactuals"]


def _per_query(images, result):
    """(counterfactual, prediction, valid) per query image, from a result
    object (one row per query; the query itself where it has none) or a
    :func:`image_counterfactuals` Bunch."""
    from skcfx.counterfactual._base import BaseCounterfactualExplanations

    if not isinstance(result, BaseCounterfactualExplanations):
        return (
            np.asarray(result.counterfactuals, dtype=float),
            np.asarray(result.prediction),
            np.asarray(result.valid, dtype=bool),
        )
    n = len(images)
    first = np.full(n, -1)
    # rank 0 is the row a query's own search returned
    ranked = np.flatnonzero(result.rank == 0)
    first[result.owner[ranked]] = ranked
    has = first >= 0
    cfs = np.array(images, dtype=float, copy=True)
    cfs[has] = result.counterfactuals[first[has]]
    prediction = np.asarray(result.query_prediction, dtype=object).copy()
    prediction[has] = result.prediction[first[has]]
    valid = np.zeros(n, dtype=bool)
    valid[has] = result.valid[first[has]]
    return cfs, prediction, valid


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
        The query images.
    result : ImageCounterfactualExplanations or Bunch
        What :meth:`ImageCounterfactualExplainer.explain` or
        :func:`image_counterfactuals` returned for ``images``.
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
    all_cfs, prediction, valid = _per_query(images, result)
    cfs = all_cfs[rows].reshape(n, *image_shape)
    prediction, valid = prediction[rows], valid[rows]
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
