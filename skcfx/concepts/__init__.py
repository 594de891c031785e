"""Concept-based explanations on a model's internal activations.

:class:`ConceptCAV` learns concept activation vectors (Kim et al. 2018) and
turns activations into concept scores, a post-hoc concept bottleneck.
"""

from skcfx.concepts._cav import ConceptCAV

__all__ = ["ConceptCAV"]
