"""Counterfactual explanations: "what small change flips the prediction?".

Methods (``CounterfactualExplainer(method=...)``), one module each:
``_random.py`` (random search), ``_genetic.py`` (genetic search),
``_kdtree.py`` (nearest training rows). Shared pieces: ``_feature_space.py``
(raw <-> coded features), ``_constraints.py`` (exact constraints),
``_search.py`` (batched scoring, sparsity step, diversity selection).
"""

from skcfx.counterfactual._explainer import CounterfactualExplainer
from skcfx.counterfactual._explanations import CounterfactualExplanations

__all__ = ["CounterfactualExplainer", "CounterfactualExplanations"]
