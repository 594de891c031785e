"""Instance-wise feature selection: which features carry each prediction.

:class:`L2XSelector` (Learning to Explain, Chen et al. 2018) trains an
explainer network that picks ``k`` features (or feature groups) per row;
:func:`image_patch_groups` builds patch groups for images, and the plotting
helpers show selections on images and texts.
"""

from skcfx.feature_selection._groups import image_patch_groups
from skcfx.feature_selection._l2x import L2XSelector
from skcfx.feature_selection._plot import (
    highlight_words,
    plot_image_selection,
    plot_text_selection,
)

__all__ = [
    "L2XSelector",
    "highlight_words",
    "image_patch_groups",
    "plot_image_selection",
    "plot_text_selection",
]
