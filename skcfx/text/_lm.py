"""An n-gram language model of a corpus: how fluent an edited sentence is."""

import math
import numbers
from collections import Counter, defaultdict

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from skcfx.text._tokens import check_texts, tokens

__all__ = ["NGramLanguageModel"]

BOS, EOS = "<s>", "</s>"


class NGramLanguageModel(BaseEstimator):
    """Interpolated Kneser-Ney n-gram language model of a corpus.

    Fitted on the user's own sentences (lower-cased word and punctuation
    tokens), it scores how fluent a sentence is: :meth:`score_samples` is the
    mean log-probability per token (the end of the sentence included),
    :meth:`perplexity` its exponential of the negative. It is the fluency
    filter of skcfx's text edits, in the role of Polyjuice's GPT-2
    perplexity filter but learned offline from the corpus at hand: an edit
    whose perplexity exceeds ``max_perplexity_ratio`` times the original
    sentence's is not fluent (see :meth:`fluency`).

    Probabilities follow interpolated Kneser-Ney smoothing (Chen and
    Goodman, 1998) with one absolute discount: the highest order uses raw
    counts, lower orders the number of distinct words seen before an n-gram
    (continuation counts), and the unigram level is interpolated with a
    uniform distribution over the vocabulary plus one unknown word, so every
    sentence has a finite score.

    Parameters
    ----------
    order : int, default=3
        Longest n-gram.
    discount : float, default=0.75
        Absolute discount subtracted from every seen n-gram count.
    lowercase : bool, default=True
        Lower-case the tokens.

    Attributes
    ----------
    vocabulary_ : set of str
        The tokens seen in fit.
    n_tokens_ : int
        Tokens predicted in fit (the ends of sentences included).

    See Also
    --------
    skcfx.text.TextPerturber : Control-code edits scored by this model.

    References
    ----------
    .. [1] S. F. Chen and J. Goodman, "An Empirical Study of Smoothing
       Techniques for Language Modeling", Harvard TR-10-98, 1998.

    Examples
    --------
    >>> from skcfx.text import NGramLanguageModel
    >>> lm = NGramLanguageModel().fit(["the food was good .", "the food was bad ."])
    >>> bool(lm.perplexity(["the food was good ."])[0]
    ...      < lm.perplexity(["good was food the ."])[0])
    True
    """

    _parameter_constraints: dict = {
        "order": [Interval(numbers.Integral, 1, None, closed="left")],
        "discount": [Interval(numbers.Real, 0, 1, closed="neither")],
        "lowercase": ["boolean"],
    }

    def __init__(self, order=3, *, discount=0.75, lowercase=True):
        self.order = order
        self.discount = discount
        self.lowercase = lowercase

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags

    def _tokens(self, text):
        toks = tokens(text)
        if self.lowercase:
            toks = [t.lower() for t in toks]
        return [BOS] * (self.order - 1) + toks + [EOS]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Count the n-grams of the sentences.

        Parameters
        ----------
        X : sequence of str
            The corpus, one sentence (or document) per element.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        texts, _ = check_texts(X)
        n = self.order
        top = Counter()
        for text in texts:
            toks = self._tokens(text)
            for i in range(n - 1, len(toks)):
                top[tuple(toks[i - n + 1 : i + 1])] += 1
        # counts per order: raw at the top, continuation counts below
        counts = [None] * (n + 1)
        counts[n] = top
        for m in range(n - 1, 0, -1):
            cont = Counter()
            for gram in counts[m + 1]:
                cont[gram[1:]] += 1
            counts[m] = cont
        totals, types = [None] * (n + 1), [None] * (n + 1)
        for m in range(1, n + 1):
            tot, typ = defaultdict(int), defaultdict(int)
            for gram, c in counts[m].items():
                tot[gram[:-1]] += c
                typ[gram[:-1]] += 1
            totals[m], types[m] = dict(tot), dict(typ)
        self._counts = [None] + [dict(c) for c in counts[1:]]
        self._totals, self._types = totals, types
        self.vocabulary_ = {g[0] for g in counts[1]} - {BOS}
        self.n_tokens_ = int(sum(top.values()))
        return self

    def _prob(self, gram):
        """P(gram[-1] | gram[:-1]) by interpolated Kneser-Ney."""
        d = self.discount
        # unigram level, interpolated with a uniform over vocabulary + unknown
        tot, typ = self._totals[1][()], self._types[1][()]
        p = max(self._counts[1].get(gram[-1:], 0) - d, 0) / tot
        p += d * typ / tot / (len(self.vocabulary_) + 1)
        for m in range(2, len(gram) + 1):
            ctx = gram[-m:-1]
            tot = self._totals[m].get(ctx, 0)
            if not tot:
                continue  # unseen context: the lower order alone
            c = self._counts[m].get(gram[-m:], 0)
            p = max(c - d, 0) / tot + d * self._types[m][ctx] / tot * p
        return p

    def score_samples(self, X):
        """Mean log-probability per token of each sentence (higher is more
        fluent).

        Parameters
        ----------
        X : sequence of str
            The sentences.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            Natural-log probability per predicted token (words, punctuation
            and the end of the sentence).
        """
        check_is_fitted(self)
        texts, _ = check_texts(X)
        n = self.order
        out = np.empty(len(texts))
        for j, text in enumerate(texts):
            toks = self._tokens(text)
            logp = [
                math.log(self._prob(tuple(toks[i - n + 1 : i + 1])))
                for i in range(n - 1, len(toks))
            ]
            out[j] = sum(logp) / len(logp)
        return out

    def perplexity(self, X):
        """Per-token perplexity of each sentence (lower is more fluent).

        Parameters
        ----------
        X : sequence of str
            The sentences.

        Returns
        -------
        perplexity : ndarray of shape (n_samples,)
        """
        return np.exp(-self.score_samples(X))

    def fluency(self, X, reference):
        """Log perplexity ratio of each sentence against its reference.

        ``log(perplexity(reference) / perplexity(X))``, the difference of
        :meth:`score_samples`: 0 when an edit is as fluent as the original,
        negative when less fluent; ``-log(2)`` means twice the original's
        perplexity (the default threshold of skcfx's filters).

        Parameters
        ----------
        X : sequence of str
            Edited sentences.
        reference : sequence of str
            The sentence each was edited from, same length.

        Returns
        -------
        fluency : ndarray of shape (n_samples,)
        """
        edited = self.score_samples(X)
        ref = self.score_samples(reference)
        if len(ref) != len(edited):
            raise ValueError(
                f"X and reference have inconsistent numbers of sentences: "
                f"{len(edited)} and {len(ref)}."
            )
        return edited - ref

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: the corpus's mean log-probability
        per token (higher is better; usable by GridSearchCV).

        Parameters
        ----------
        X : sequence of str
            Held-out sentences.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))
