"""skcfx: model explanations as scikit-learn estimators.

Subpackages
-----------
counterfactual
    :class:`CounterfactualExplainer`: diverse, constrained counterfactuals
    of tabular rows; :class:`ImageCounterfactualExplainer` and
    :class:`TextCounterfactualExplainer` for images and sentences.
causal
    :class:`~skcfx.causal.StructuralCausalModel`: structural causal models
    over columns, for causal recourse (``CounterfactualExplainer(scm=...)``).
concepts
    :class:`ConceptCAV`: concept activation vectors and concept scores.
feature_selection
    :class:`L2XSelector`: learned instance-wise selection of k features.
datasets
    Small real data sets bundled with the package (UCI Adult, ...).
metrics
    Quality criteria of explanations (validity, proximity, sparsity, ...).
testing
    Hypothesis strategies and assertions to property-test explainers.
utils
    Estimator discovery and shared validation helpers.
"""

__version__ = "0.1.0.dev0"

from skcfx.concepts import ConceptCAV
from skcfx.counterfactual import (
    CounterfactualExplainer,
    CounterfactualExplanations,
    ImageCounterfactualExplainer,
    TextCounterfactualExplainer,
)
from skcfx.feature_selection import L2XSelector

__all__ = [
    "ConceptCAV",
    "CounterfactualExplainer",
    "CounterfactualExplanations",
    "ImageCounterfactualExplainer",
    "L2XSelector",
    "TextCounterfactualExplainer",
    "__version__",
]
