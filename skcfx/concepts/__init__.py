"""Concept-based explanations on a model's internal activations.

:class:`ConceptCAV` learns concept activation vectors (Kim et al. 2018) and
turns activations into concept scores; :class:`ConceptBottleneck` puts a
model on those scores in one estimator (a post-hoc concept bottleneck whose
concept labels are a routed fit parameter).
:func:`tcav` tests how sensitive a class is to each concept against random
concepts; :func:`conceptual_counterfactuals` finds the sparse concept changes
that would fix a model's mistakes (CCE); :func:`layer_activations` and
:func:`mlp_head` get a layer's activations and the model head above it
without writing hooks.
"""

from skcfx.concepts._activations import layer_activations, mlp_head
from skcfx.concepts._bottleneck import ConceptBottleneck
from skcfx.concepts._cav import ConceptCAV
from skcfx.concepts._cce import conceptual_counterfactuals
from skcfx.concepts._plot import plot_cce_weights, plot_concept_scores, plot_tcav
from skcfx.concepts._tcav import tcav

__all__ = [
    "ConceptBottleneck",
    "ConceptCAV",
    "conceptual_counterfactuals",
    "layer_activations",
    "mlp_head",
    "plot_cce_weights",
    "plot_concept_scores",
    "plot_tcav",
    "tcav",
]
