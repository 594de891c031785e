"""Counterfactual explanations: "what small change flips the prediction?".

The estimators: :class:`CounterfactualExplainer` (tabular rows, in
``_tabular/``), :class:`ImageCounterfactualExplainer` (``_image/``) and
:class:`TextCounterfactualExplainer` (``_text/``); their results share
``_base.py``. The tabular search engine lives in ``_engine/``: feature
space, constraints, the oracle that decides validity, candidate
generators, one module per search method in ``_engine/methods/`` behind a
registry, post-hoc sparsity and diverse selection.
"""

from skcfx.counterfactual._image import (
    ImageCounterfactualExplainer,
    ImageCounterfactualExplanations,
    image_counterfactuals,
    plot_image_counterfactuals,
)
from skcfx.counterfactual._tabular import (
    CounterfactualExplainer,
    CounterfactualExplanations,
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
