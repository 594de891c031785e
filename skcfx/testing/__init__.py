"""Hypothesis strategies and assertions to property-test explainers.

Use them to check, on your own model and data, that counterfactuals respect
the constraints you declare::

    from hypothesis import given
    from skcfx.testing import assert_constraints_hold, constraint_sets

    @given(constraints=constraint_sets(X_train))
    def test_my_model(constraints):
        explainer = CounterfactualExplainer(FrozenEstimator(model),
                                            **constraints).fit(X_train)
        assert_constraints_hold(explainer, explainer.explain(X_query))

Requires hypothesis (``pip install skcfx[test]``).
"""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "skcfx.testing needs hypothesis, which comes with the 'test' extra: "
        "pip install 'skcfx[test]' (or pip install hypothesis)."
    ) from exc

from skcfx.testing._assertions import (  # noqa: E402
    assert_constraints_hold,
    assert_counterfactuals_valid,
    assert_semifactuals_valid,
)
from skcfx.testing._strategies import (  # noqa: E402
    constraint_sets,
    messy_frames,
    mixed_frames,
)

__all__ = [
    "assert_constraints_hold",
    "assert_counterfactuals_valid",
    "assert_semifactuals_valid",
    "constraint_sets",
    "messy_frames",
    "mixed_frames",
]
