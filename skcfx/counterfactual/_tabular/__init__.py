"""The tabular explainer, on top of the engine.

``explainer.py`` (:class:`CounterfactualExplainer`: parameters, fit,
explain, evaluate, transform, score), ``queries.py`` (input checks, the
query object, the search problem of a chunk), ``build.py`` (the final rows
judged once more and the result built), ``explanations.py`` (the result
object), ``display.py`` (its text, HTML, JSON and figure) and
``semifactuals.py`` ("even if" explanations).
"""

from skcfx.counterfactual._tabular.explainer import CounterfactualExplainer
from skcfx.counterfactual._tabular.explanations import CounterfactualExplanations

__all__ = ["CounterfactualExplainer", "CounterfactualExplanations"]
