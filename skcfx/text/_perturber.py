"""TextPerturber: control-code edits of sentences, scored for fluency."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from skcfx.text._lexicon import CorpusLexicon
from skcfx.text._lm import NGramLanguageModel
from skcfx.text._operators import CODES, OPERATORS
from skcfx.text._tokens import check_texts, splice, tokens

__all__ = ["INTENTS", "TextPerturber"]

INTENTS = ("flip", "keep", "unknown")
COLUMNS = [
    "sample",
    "original",
    "text",
    "code",
    "rule",
    "intent",
    "fluency",
]


def _check_choice(value, allowed, name):
    """A tuple of choices from ``allowed`` (a single string is one choice)."""
    if value is None:
        return tuple(allowed)
    chosen = (value,) if isinstance(value, str) else tuple(value)
    bad = [v for v in chosen if v not in allowed]
    if bad or not chosen:
        raise ValueError(
            f"{name} must be a non-empty subset of {tuple(allowed)}; "
            f"got {bad or chosen!r}."
        )
    return chosen


class TextPerturber(BaseEstimator):
    """Rule-based counterfactual edits of sentences, by control code.

    Edits in the spirit of Polyjuice's control codes (Wu et al., 2021) and
    CheckList's perturbations (Ribeiro et al., 2020), without a neural
    generator: every edit is a rule applied to the sentence's tokens, and
    each carries its *intent* for a polarity label (``"flip"``, ``"keep"``
    or ``"unknown"``; see :mod:`skcfx.text`). What rules cannot know is
    learned from the user's corpus in :meth:`fit`: related words (PPMI
    co-occurrence embeddings), which words lean toward which label (when
    ``y`` is given), and an n-gram language model
    (:class:`NGramLanguageModel`) that scores every edit's fluency.

    Codes: ``"negation"`` ("is" -> "is not" / "isn't" and back),
    ``"quantifier"`` ("always" -> "never", "all" -> "some", numbers),
    ``"lexical"`` (antonyms from a bundled list of opposite evaluative words
    and, with labels, related corpus words that lean the other way: flip;
    related words that lean the same way: keep), ``"insert"`` (an
    intensifier before a polar word, an opening phrase), ``"delete"`` (an
    intensifier), ``"restructure"`` (contractions, final punctuation),
    ``"shuffle"`` (the sides of "and"), ``"entity"`` (first names).

    Parameters
    ----------
    codes : tuple of str, default=all codes
        Operators to apply.
    n_related : int, default=3
        Related words (synonyms, corpus antonyms), intensifiers, opening
        phrases and names tried per position.
    min_similarity : float, default=0.5
        Cosine similarity a related word needs in the corpus embedding.
    max_perplexity_ratio : float or None, default=None
        Fluency filter: drop edits whose language-model perplexity exceeds
        this multiple of the original sentence's (Polyjuice filters its
        generations by perplexity the same way); None keeps every edit and
        only reports ``fluency``.
    lm_order : int, default=3
        Order of the n-gram language model.
    random_state : int, RandomState instance or None, default=None
        Seed of the embedding's SVD and of the sampling in :meth:`perturb`.

    Attributes
    ----------
    lexicon_ : object
        Word relations of the corpus (embeddings, label association).
    language_model_ : NGramLanguageModel
        The fluency model.
    classes_ : ndarray or None
        Labels of ``y`` when given.

    See Also
    --------
    skcfx.text.CounterfactualAugmenter : Edits as extra training data.
    skcfx.text.sear_rules : Rules of edits that flip a model.
    skcfx.testing.make_behavioural_tests : CheckList-style tests.

    Examples
    --------
    >>> from skcfx.text import TextPerturber
    >>> texts = ["The food is good.", "The service was slow."] * 3
    >>> p = TextPerturber(codes=("negation",)).fit(texts)
    >>> p.perturb(["The food is good."])[["text", "rule", "intent"]].head(2)
                        text         rule intent
    0  The food is not good.  is -> is not   flip
    1   The food isn't good.  is -> isn't   flip
    """

    _parameter_constraints: dict = {
        "codes": [tuple, list, str],
        "n_related": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_similarity": [Interval(numbers.Real, -1, 1, closed="both")],
        "max_perplexity_ratio": [Interval(numbers.Real, 1, None, closed="left"), None],
        "lm_order": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        codes=CODES,
        *,
        n_related=3,
        min_similarity=0.5,
        max_perplexity_ratio=None,
        lm_order=3,
        random_state=None,
    ):
        self.codes = codes
        self.n_related = n_related
        self.min_similarity = min_similarity
        self.max_perplexity_ratio = max_perplexity_ratio
        self.lm_order = lm_order
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the corpus's word relations and language model.

        Parameters
        ----------
        X : sequence of str
            The corpus.
        y : array-like of shape (n_samples,), default=None
            Labels; with them, words that lean toward a label are known
            (corpus antonyms, label-preserving synonyms).

        Returns
        -------
        self : object
        """
        texts, _ = check_texts(X)
        _check_choice(self.codes, CODES, "codes")
        if y is not None:
            y = np.asarray(y)
            if len(y) != len(texts):
                raise ValueError(
                    f"X and y have inconsistent numbers of samples: {len(texts)} "
                    f"and {len(y)}."
                )
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        self.lexicon_ = CorpusLexicon(random_state=seed).fit(texts, y)
        self.language_model_ = NGramLanguageModel(self.lm_order).fit(texts)
        self.classes_ = None if y is None else np.unique(y)
        return self

    def _options(self):
        return {"n_related": self.n_related, "min_similarity": self.min_similarity}

    def perturb(
        self, X, *, codes=None, intent=None, max_per_sentence=None, random_state=None
    ):
        """Every edit of every sentence, one row each.

        Parameters
        ----------
        X : sequence of str or pandas Series
            The sentences. Not modified.
        codes : str or tuple of str, default=None
            Restrict to these codes (default: the ``codes`` parameter).
        intent : str or tuple of {"flip", "keep", "unknown"}, default=None
            Keep only edits of these intents.
        max_per_sentence : int, default=None
            Keep at most this many edits per sentence and code, sampled at
            random (``random_state``); None keeps all.
        random_state : int, RandomState instance or None, default=None
            Seed of that sampling (default: the estimator's).

        Returns
        -------
        edits : DataFrame
            Columns ``sample`` (position of the sentence in X),
            ``original``, ``text``, ``code``, ``rule``, ``intent`` and
            ``fluency`` (log perplexity ratio of the edit against the
            original, see :meth:`NGramLanguageModel.fluency`; 0 is as
            fluent, negative less). Edits failing ``max_perplexity_ratio``
            are dropped; duplicates of a sentence's edits are dropped.
        """
        check_is_fitted(self)
        texts, _ = check_texts(X)
        codes = _check_choice(self.codes if codes is None else codes, CODES, "codes")
        intents = _check_choice(intent, INTENTS, "intent")
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        lex, opts = self.lexicon_, self._options()
        rows = []
        for s, text in enumerate(texts):
            toks = tokens(text)
            seen = {text}
            for code in codes:
                found = []
                for new, rule, why in OPERATORS[code](toks, lex, opts):
                    edited = splice(text, toks, new)
                    if why in intents and edited not in seen:
                        seen.add(edited)
                        found.append((s, text, edited, code, rule, why))
                if max_per_sentence is not None and len(found) > max_per_sentence:
                    pick = rng.choice(len(found), max_per_sentence, replace=False)
                    found = [found[j] for j in sorted(pick)]
                rows.extend(found)
        frame = pd.DataFrame(rows, columns=COLUMNS[:-1])
        frame["fluency"] = np.zeros(len(frame))
        if len(frame):  # each sentence scored once, however many edits it has
            lm = self.language_model_
            base = lm.score_samples(texts)
            edited = lm.score_samples(frame["text"].tolist())
            frame["fluency"] = edited - base[frame["sample"].to_numpy()]
        if self.max_perplexity_ratio is not None:
            frame = frame[frame["fluency"] >= -np.log(self.max_perplexity_ratio)]
        return frame.reset_index(drop=True)

    def contrast_set(
        self, X, y, *, codes=None, intent="flip", max_per_sentence=1, random_state=None
    ):
        """Minimally edited sentences with the labels their edits intend.

        A contrast set (Gardner et al., 2020) built by rule: each sentence's
        edits of the given intent; a "flip" edit of a binary-labelled
        sentence gets the other label, a "keep" edit the sentence's own.

        Parameters
        ----------
        X : sequence of str
            Labelled sentences (held out from training, for evaluation).
        y : array-like of shape (n_samples,)
            Their labels.
        codes : str or tuple of str, default=None
            Codes to use (default: the ``codes`` parameter).
        intent : {"flip", "keep"} or tuple of them, default="flip"
            Which edits.
        max_per_sentence : int or None, default=1
            Edits per sentence and code (sampled at random).
        random_state : int, RandomState instance or None, default=None
            Seed of that sampling.

        Returns
        -------
        contrast : DataFrame
            The :meth:`perturb` columns plus ``original_label`` and
            ``label``.
        """
        texts, _ = check_texts(X)
        y = np.asarray(y)
        if len(y) != len(texts):
            raise ValueError(
                f"X and y have inconsistent numbers of samples: {len(texts)} "
                f"and {len(y)}."
            )
        intents = _check_choice(intent, ("flip", "keep"), "intent")
        labels = np.unique(y)
        if self.classes_ is not None:
            labels = np.union1d(self.classes_, labels)
        if "flip" in intents and len(labels) != 2:
            raise ValueError(
                f"intent='flip' needs binary labels to know the flipped label; "
                f"got {len(labels)} classes {labels.tolist()}. Use intent='keep'."
            )
        frame = self.perturb(
            texts,
            codes=codes,
            intent=intents,
            max_per_sentence=max_per_sentence,
            random_state=random_state,
        )
        orig = y[frame["sample"].to_numpy()]
        flipped = np.where(orig == labels[0], labels[-1], labels[0])
        frame["original_label"] = orig
        frame["label"] = np.where(frame["intent"] == "flip", flipped, orig)
        return frame
