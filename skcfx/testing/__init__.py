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

Behavioural tests of text classifiers (CheckList's minimum-functionality,
invariance and directional tests) come from a corpus and skcfx's text
edits: :func:`make_behavioural_tests` builds a suite and its report;
:func:`assert_invariant`, :func:`assert_directional` and the strategy
:func:`text_edits` put single behaviours into a test suite::

    def test_names_do_not_matter():
        assert_invariant(model, ["John loved it.", "Mary hated it."],
                         codes="entity")

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
from skcfx.testing._behavioural import (  # noqa: E402
    BehaviouralTestReport,
    BehaviouralTestSuite,
    TextEdit,
    assert_directional,
    assert_invariant,
    make_behavioural_tests,
    text_edits,
)
from skcfx.testing._strategies import (  # noqa: E402
    constraint_sets,
    messy_frames,
    mixed_frames,
)

__all__ = [
    "BehaviouralTestReport",
    "BehaviouralTestSuite",
    "TextEdit",
    "assert_directional",
    "assert_invariant",
    "make_behavioural_tests",
    "text_edits",
    "assert_constraints_hold",
    "assert_counterfactuals_valid",
    "assert_semifactuals_valid",
    "constraint_sets",
    "messy_frames",
    "mixed_frames",
]
