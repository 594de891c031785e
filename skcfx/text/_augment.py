"""CounterfactualAugmenter: counterfactually edited training sentences."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval

from skcfx.text._perturber import TextPerturber
from skcfx.text._tokens import check_texts

__all__ = ["CounterfactualAugmenter"]


class CounterfactualAugmenter(BaseEstimator):
    """Add counterfactually edited copies of training sentences.

    Counterfactual data augmentation (Kaushik et al., 2020; Polyjuice's
    augmentation, Wu et al., 2021) by rule: for a share of the training
    sentences, :class:`TextPerturber` edits of the chosen codes and intent
    are added with the labels the edits intend (a "flip" edit of a
    binary-labelled sentence gets the other label, a "keep" edit the
    sentence's own). The sampler follows imbalanced-learn's convention:
    :meth:`fit_resample` returns the enlarged training set, so it is a step
    of an ``imblearn.pipeline.Pipeline`` in front of any text classifier and
    only acts while fitting (imbalanced-learn is the optional extra
    ``skcfx[text]``).

    Parameters
    ----------
    perturber : TextPerturber, default=None
        The edits (cloned and fitted on the training sentences);
        ``TextPerturber(codes=codes)`` by default.
    codes : str or tuple of str, default=("negation", "lexical", "quantifier")
        Codes of the added edits.
    intent : str or tuple of {"flip", "keep"}, default="flip"
        Intents of the added edits.
    n_per_sentence : int, default=1
        Edits added per chosen sentence at most (sampled among all of its
        edits).
    sampling_ratio : float, default=1.0
        Share of the training sentences that get edits.
    random_state : int, RandomState instance or None, default=None
        Seed of the sampling.

    Attributes
    ----------
    perturber_ : TextPerturber
        The fitted perturber.
    n_added_ : int
        Sentences added by the last :meth:`fit_resample`.

    See Also
    --------
    TextPerturber.contrast_set : The same edits as an evaluation set.

    Examples
    --------
    >>> from skcfx.text import CounterfactualAugmenter
    >>> X = ["the food is good", "the food is bad"] * 2
    >>> Xr, yr = CounterfactualAugmenter(codes="negation", random_state=0).fit_resample(
    ...     X, [1, 0, 1, 0])
    >>> len(Xr), [(t, int(label)) for t, label in zip(Xr[4:6], yr[4:6])]
    (8, [('the food is not good', 0), ('the food is not bad', 1)])
    """

    _parameter_constraints: dict = {
        "perturber": [HasMethods(["fit", "contrast_set"]), None],
        "codes": [tuple, list, str],
        "intent": [tuple, list, str],
        "n_per_sentence": [Interval(numbers.Integral, 1, None, closed="left")],
        "sampling_ratio": [Interval(numbers.Real, 0, 1, closed="right")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        perturber=None,
        *,
        codes=("negation", "lexical", "quantifier"),
        intent="flip",
        n_per_sentence=1,
        sampling_ratio=1.0,
        random_state=None,
    ):
        self.perturber = perturber
        self.codes = codes
        self.intent = intent
        self.n_per_sentence = n_per_sentence
        self.sampling_ratio = sampling_ratio
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags

    def fit(self, X, y):
        """Fit the perturber on the training sentences.

        Parameters
        ----------
        X : sequence of str
            Training sentences.
        y : array-like of shape (n_samples,)
            Their labels.

        Returns
        -------
        self : object
        """
        self._validate_params()
        texts, _ = check_texts(X)
        if y is None:
            raise ValueError(
                "CounterfactualAugmenter requires y to be passed, but the target "
                "y is None."
            )
        base = self.perturber
        if base is None:
            base = TextPerturber(codes=self.codes, random_state=self.random_state)
        self.perturber_ = clone(base).fit(texts, y)
        return self

    def fit_resample(self, X, y):
        """The training sentences plus their counterfactual edits.

        Parameters
        ----------
        X : sequence of str or pandas Series
            Training sentences. Not modified.
        y : array-like of shape (n_samples,)
            Their labels.

        Returns
        -------
        X_resampled : ndarray of object or Series
            The sentences, then the added edits (a Series in, a Series
            with a fresh RangeIndex out).
        y_resampled : ndarray or Series
            Their labels.
        """
        self.fit(X, y)
        texts, _ = check_texts(X)
        yv = np.asarray(y)
        rng = check_random_state(self.random_state)
        chosen = np.flatnonzero(rng.random_sample(len(texts)) < self.sampling_ratio)
        edits = self.perturber_.contrast_set(
            [texts[i] for i in chosen],
            yv[chosen],
            codes=self.codes,
            intent=self.intent,
            max_per_sentence=None,
        )
        keep = []
        for _, g in edits.groupby("sample", sort=True):
            idx = g.index.to_numpy()
            if len(idx) > self.n_per_sentence:
                idx = np.sort(rng.choice(idx, self.n_per_sentence, replace=False))
            keep.extend(idx)
        edits = edits.loc[keep]
        self.n_added_ = len(edits)
        X_out = np.asarray(texts + edits["text"].tolist(), dtype=object)
        y_out = np.concatenate([yv, edits["label"].to_numpy(dtype=yv.dtype)])
        if isinstance(X, pd.Series):
            X_out = pd.Series(X_out, name=X.name)
        if isinstance(y, pd.Series):
            y_out = pd.Series(y_out, name=y.name)
        return X_out, y_out
