"""Data sets for skcfx: small real ones bundled with the package (no download
needed) and the synthetic generators of the papers skcfx implements."""

from skcfx.datasets._adult import DICE_COLUMNS, load_adult
from skcfx.datasets._causal_loan import CAUSAL_LOAN_GRAPH, make_causal_loan
from skcfx.datasets._digit_concepts import (
    DIGIT_CONCEPTS,
    add_digit_concept,
    make_digit_concepts,
)
from skcfx.datasets._l2x_synthetic import L2X_SYNTHETIC_K, make_l2x_synthetic
from skcfx.datasets._sentiment import load_sentiment

__all__ = [
    "CAUSAL_LOAN_GRAPH",
    "DICE_COLUMNS",
    "DIGIT_CONCEPTS",
    "L2X_SYNTHETIC_K",
    "add_digit_concept",
    "load_adult",
    "load_sentiment",
    "make_causal_loan",
    "make_digit_concepts",
    "make_l2x_synthetic",
]
