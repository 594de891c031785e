"""Structural causal models for causal recourse.

:class:`StructuralCausalModel` describes how columns cause each other; give
it to :class:`~skcfx.CounterfactualExplainer` (``scm=``) and counterfactuals
become interventions whose downstream effects are propagated (Karimi,
Schölkopf and Valera, FAccT 2021).
"""

from skcfx.causal._scm import StructuralCausalModel, topological_order

__all__ = ["StructuralCausalModel", "topological_order"]
