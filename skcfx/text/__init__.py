"""Text perturbations that evaluate and improve text classifiers.

:class:`TextPerturber` edits sentences by rules named after Polyjuice's
control codes (negation, quantifier, lexical, insert, delete, restructure,
shuffle, entity), each edit with its intent for a polarity label ("flip",
"keep", "unknown") and a fluency score from :class:`NGramLanguageModel`,
an n-gram language model of the user's corpus. On top of it:
:meth:`TextPerturber.contrast_set` (minimally edited sentences with the
labels their edits intend), :func:`sear_rules` (edits that flip a model,
aggregated into rules with coverage and flip rate, after SEAR) and
:class:`CounterfactualAugmenter` (counterfactually edited training
examples, an imbalanced-learn style sampler). Behavioural tests built from
these edits live in :mod:`skcfx.testing`; counterfactual explanations of a
single prediction in :class:`skcfx.TextCounterfactualExplainer`.
"""

from skcfx.text._augment import CounterfactualAugmenter
from skcfx.text._lm import NGramLanguageModel
from skcfx.text._operators import CODES
from skcfx.text._perturber import INTENTS, TextPerturber
from skcfx.text._sear import sear_rules

__all__ = [
    "CODES",
    "INTENTS",
    "CounterfactualAugmenter",
    "NGramLanguageModel",
    "TextPerturber",
    "sear_rules",
]
