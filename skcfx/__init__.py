"""skcfx: model explanations as scikit-learn estimators.

Subpackages
-----------
counterfactual
    :class:`CounterfactualExplainer`: diverse, constrained counterfactuals.
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

from skcfx.counterfactual import CounterfactualExplainer, CounterfactualExplanations

__all__ = [
    "CounterfactualExplainer",
    "CounterfactualExplanations",
    "__version__",
]
