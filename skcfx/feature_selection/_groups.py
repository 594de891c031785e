"""Helpers that build ``feature_groups`` for common layouts."""

__all__ = ["image_patch_groups"]


def image_patch_groups(image_shape, patch_shape=(2, 2)):
    """Groups of the flattened pixels that form each image patch.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width)`` of the images, whose pixels are flattened row by
        row (as in :func:`sklearn.datasets.load_digits`).
    patch_shape : tuple of int, default=(2, 2)
        ``(height, width)`` of a patch; it must tile the image exactly.

    Returns
    -------
    groups : list of list of int
        One list of pixel indices per patch, patches in row-major order; pass
        it as ``L2XSelector(feature_groups=groups)``.

    Examples
    --------
    >>> from skcfx.feature_selection import image_patch_groups
    >>> image_patch_groups((4, 4))[:2]
    [[0, 1, 4, 5], [2, 3, 6, 7]]
    """
    h, w = (int(s) for s in image_shape)
    ph, pw = (int(s) for s in patch_shape)
    if ph < 1 or pw < 1 or h % ph or w % pw:
        raise ValueError(
            f"patch_shape={tuple(patch_shape)} must tile image_shape="
            f"{tuple(image_shape)} exactly."
        )
    return [
        [(r + i) * w + (c + j) for i in range(ph) for j in range(pw)]
        for r in range(0, h, ph)
        for c in range(0, w, pw)
    ]
