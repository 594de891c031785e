"""Counterfactual images: gradient search on pixels, guided by prototypes.

``explainer.py`` (the estimator), ``search.py`` (the objective and its
optimisation), ``explanations.py`` (the result object), ``plot.py`` (the
figure) and ``convenience.py`` (the one-call function).
"""

from skcfx.counterfactual._image.convenience import image_counterfactuals
from skcfx.counterfactual._image.explainer import ImageCounterfactualExplainer
from skcfx.counterfactual._image.explanations import ImageCounterfactualExplanations
from skcfx.counterfactual._image.plot import plot_image_counterfactuals

__all__ = [
    "ImageCounterfactualExplainer",
    "ImageCounterfactualExplanations",
    "image_counterfactuals",
    "plot_image_counterfactuals",
]
