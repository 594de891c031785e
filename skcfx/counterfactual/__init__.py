"""Counterfactual explanations: "what small change flips the prediction?".

Methods (``CounterfactualExplainer(method=...)``), one module each:
``_random.py`` (random search), ``_genetic.py`` (genetic search),
``_kdtree.py`` (nearest training rows), ``_gradient.py`` (gradient search for
differentiable models, with ``_differentiable.py`` / ``_torch_coded.py``
rebuilding the user's model in torch). Shared pieces: ``_feature_space.py``
(raw <-> coded features), ``_constraints.py`` (exact constraints),
``_search.py`` (batched scoring, sparsity step, diversity selection).
:func:`image_counterfactuals` (``_image.py``) handles images, optionally
guided by class prototypes in an autoencoder's latent space;
:func:`text_counterfactuals` (``_text.py``) makes word-level edits of
sentences; :meth:`CounterfactualExplainer.semifactuals` (``_semifactual.py``)
gives "even if" explanations.
"""

from skcfx.counterfactual._explainer import CounterfactualExplainer
from skcfx.counterfactual._explanations import CounterfactualExplanations
from skcfx.counterfactual._image import (
    ImageCounterfactualExplainer,
    ImageCounterfactualExplanations,
    image_counterfactuals,
    plot_image_counterfactuals,
)
from skcfx.counterfactual._text import (
    TextCounterfactualExplainer,
    TextCounterfactualExplanations,
    text_counterfactuals,
)

__all__ = [
    "CounterfactualExplainer",
    "CounterfactualExplanations",
    "ImageCounterfactualExplainer",
    "ImageCounterfactualExplanations",
    "TextCounterfactualExplainer",
    "TextCounterfactualExplanations",
    "image_counterfactuals",
    "plot_image_counterfactuals",
    "text_counterfactuals",
]
