"""Warning and error classes used across skcfx."""

__all__ = ["InfeasibleConstraintsError", "NoCounterfactualWarning", "SkcfxWarning"]


class SkcfxWarning(UserWarning):
    """Base class of the warnings that skcfx emits."""


class NoCounterfactualWarning(SkcfxWarning):
    """Raised as a warning when no valid counterfactual was found for some rows.

    The rows concerned are reported with an explicit status in the
    explanation (``"infeasible under constraints"`` or
    ``"search budget exhausted"``); this warning only summarises their count.
    """


class InfeasibleConstraintsError(ValueError):
    """The constraints leave no admissible point for any query.

    Raised by ``fit`` when the constraints themselves are contradictory
    (for example nothing may vary, or an integer column's permitted range
    contains no integer). Constraints that are infeasible only for some
    queries are reported per query instead.
    """
