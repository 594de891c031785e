"""Word-level counterfactuals of sentences for text classifiers.

``explainer.py`` (the estimator), ``edits.py`` (tokens and the edit
operations), ``search.py`` (the model's single-word lexicon and the beam
search over edit sets), ``explanations.py`` (the result object) and
``convenience.py`` (the one-call function).
"""

from skcfx.counterfactual._text.convenience import text_counterfactuals
from skcfx.counterfactual._text.explainer import TextCounterfactualExplainer
from skcfx.counterfactual._text.explanations import TextCounterfactualExplanations

__all__ = [
    "TextCounterfactualExplainer",
    "TextCounterfactualExplanations",
    "text_counterfactuals",
]
