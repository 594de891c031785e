"""TextCounterfactualExplainer: word-level counterfactual edits as an estimator."""

import numbers
import time
import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skcfx.counterfactual._base import (
    NOT_FOUND,
    STATUS,
    class_index,
    describe_desired,
    resolve_targets,
)
from skcfx.counterfactual._text.edits import (
    OPERATIONS,
    describe_edits,
    editable_positions,
    join,
    model_vocabulary,
    tokens,
)
from skcfx.counterfactual._text.explanations import TextCounterfactualExplanations
from skcfx.counterfactual._text.search import Lexicon, edit_search
from skcfx.exceptions import NoCounterfactualWarning
from skcfx.text._lm import NGramLanguageModel
from skcfx.text._tokens import check_texts
from skcfx.utils._outputs import class_probabilities
from skcfx.utils._routing import fit_clone, model_router

__all__ = ["TextCounterfactualExplainer", "check_texts"]


class TextCounterfactualExplainer(TransformerMixin, MetaEstimatorMixin, BaseEstimator):
    """Few-word edits of each sentence that change a text classifier's mind.

    A counterfactual is the sentence with a few word-level edits, in the
    spirit of CheckList's perturbations (Ribeiro et al., 2020) and
    Polyjuice's control codes (Wu et al., 2021): ``"delete"`` a word,
    ``"replace"`` a polar word by one of the model's own vocabulary words
    that push most toward the desired class (antonym-like swaps such as
    "good" -> "poor"), or ``"negate"`` it (insert ``not``). A beam search
    scores all candidate edits of all sentences with one ``predict_proba``
    call per round; each valid edit set is made minimal and up to
    ``n_counterfactuals`` distinct ones are kept per sentence, fewest edits
    first and, among as few edits, the most fluent and convincing (the
    product of the corpus trigram model's probability and the probability
    toward the desired class). What depends only on the model is learned
    once in :meth:`fit`: the replacement vocabulary, each vocabulary word's
    and each training word's single-word prediction (the model's own
    polarity). Read more in the :ref:`User Guide <counterfactual>`.

    Parameters
    ----------
    estimator : estimator
        A classifier on raw strings with ``predict_proba`` or
        ``decision_function`` (a Pipeline of a vectorizer and a classifier,
        say; for a model without ``predict_proba``, such as ``LinearSVC``,
        the softmax of its decision scores stands for the probabilities, a
        binary model's score ``s`` giving ``sigmoid(s)``), cloned and fitted in
        :meth:`fit`; wrap a trained one in ``sklearn.frozen.FrozenEstimator``
        to use it as is.
    desired_class : "opposite" or label, default="opposite"
        The class to reach; "opposite" is the other class of a binary model,
        or any other class for a multi-class one. :meth:`explain` also
        takes one label per sentence.
    n_counterfactuals : int, default=3
        At most this many per sentence.
    max_edits : int, default=3
        Edits per counterfactual at most (beam-search depth).
    beam_width : int, default=10
        Edit sets kept per sentence and round.
    n_substitutes : int, default=30
        Replacement words tried: the vocabulary words that, alone, give the
        desired class the highest probability.
    operations : tuple of {"delete", "replace", "negate"}, default=all three
        Allowed edits.
    vocabulary : list of str, default=None
        Replacement candidates (whole words only); by default the vocabulary
        of the Pipeline's first step (a fitted CountVectorizer or
        TfidfVectorizer with a word analyzer) or, for a character or custom
        analyzer, the words of the training sentences.
    protected : tuple of str, default=()
        Words (case-insensitive) never edited.
    edit_scope : {"polar", "all"}, default="polar"
        Which words "replace" and "negate" may touch: those that alone push
        the model toward the sentence's class by at least ``min_effect``, or
        any word.
    min_effect : float, default=0.05
        Polarity threshold, in probability.
    max_perplexity_ratio : float or None, default=None
        Fluency filter (as Polyjuice's perplexity filter): a counterfactual
        whose perplexity under the corpus language model exceeds this
        multiple of its sentence's is not kept, and the search goes on; None
        keeps all. Every result reports its ``fluency`` either way.

    Attributes
    ----------
    estimator_ : estimator
        The fitted model.
    classes_ : ndarray
        Its classes.
    vocabulary_ : list of str
        Replacement candidates.
    lexicon_ : Lexicon
        Single-word probabilities of the vocabulary and the training words.
    language_model_ : skcfx.text.NGramLanguageModel
        Trigram language model of the training sentences: the fluency of
        every counterfactual.

    See Also
    --------
    CounterfactualExplainer : Tabular counterfactuals.
    ImageCounterfactualExplainer : Counterfactual images.

    Notes
    -----
    Text input is a sequence of strings, not a 2-D array, so the tags say
    ``two_d_array=False, string=True`` (as scikit-learn's
    ``CountVectorizer``): scikit-learn's common checks, which generate
    numeric 2-D data, do not apply; the estimator contract (clone,
    parameters, fit returning self, idempotent fit, pickling, not fitted
    errors, input left untouched) is tested on sentences instead.

    References
    ----------
    .. [1] M. T. Ribeiro, T. Wu, C. Guestrin and S. Singh, "Beyond Accuracy:
       Behavioral Testing of NLP Models with CheckList", ACL 2020.
    .. [2] T. Wu, M. T. Ribeiro, J. Heer and D. Weld, "Polyjuice: Generating
       Counterfactuals for Explaining, Evaluating, and Improving Models",
       ACL 2021.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcfx import TextCounterfactualExplainer
    >>> texts = ["good food", "great food", "bad food", "awful place"] * 5
    >>> labels = [1, 1, 0, 0] * 5
    >>> model = make_pipeline(CountVectorizer(), LogisticRegression())
    >>> cfx = TextCounterfactualExplainer(model, n_counterfactuals=1)
    >>> expl = cfx.fit(texts, labels).explain(["the food was good"])
    >>> expl.best().tolist()
    ['the food was bad']
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
        ],
        "desired_class": "no_validation",  # labels known once fitted
        "n_counterfactuals": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_edits": [Interval(numbers.Integral, 1, None, closed="left")],
        "beam_width": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_substitutes": [Interval(numbers.Integral, 1, None, closed="left")],
        "operations": [tuple, list],
        "vocabulary": [list, tuple, None],
        "protected": [list, tuple, set],
        "edit_scope": [StrOptions({"polar", "all"})],
        "min_effect": [Interval(numbers.Real, 0, 1, closed="both")],
        "max_perplexity_ratio": [Interval(numbers.Real, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator,
        *,
        desired_class="opposite",
        n_counterfactuals=3,
        max_edits=3,
        beam_width=10,
        n_substitutes=30,
        operations=OPERATIONS,
        vocabulary=None,
        protected=(),
        edit_scope="polar",
        min_effect=0.05,
        max_perplexity_ratio=None,
    ):
        self.estimator = estimator
        self.desired_class = desired_class
        self.n_counterfactuals = n_counterfactuals
        self.max_edits = max_edits
        self.beam_width = beam_width
        self.n_substitutes = n_substitutes
        self.operations = operations
        self.vocabulary = vocabulary
        self.protected = protected
        self.edit_scope = edit_scope
        self.min_effect = min_effect
        self.max_perplexity_ratio = max_perplexity_ratio

    def get_metadata_routing(self):
        """Metadata routing: ``fit``'s metadata go to the model's ``fit``.

        Returns
        -------
        routing : MetadataRouter
            The routing of fit metadata to the model (scikit-learn's
            metadata routing user guide).
        """
        return model_router(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = not isinstance(self.estimator, FrozenEstimator)
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the model (unless frozen) and learn its vocabulary and
        single-word predictions.

        Parameters
        ----------
        X : sequence of str of length n_samples
            Training sentences.
        y : array-like of shape (n_samples,), default=None
            Their classes; not needed for a FrozenEstimator.
        **fit_params : dict
            Metadata for the model's ``fit`` (``sample_weight``, ...),
            routed as it requests them when metadata routing is enabled;
            a FrozenEstimator ignores them.

        Returns
        -------
        self : object
        """
        texts, _ = check_texts(X)
        ops = tuple(self.operations)
        bad = [o for o in ops if o not in OPERATIONS]
        if bad or not ops:
            raise ValueError(
                f"operations must be a non-empty subset of {OPERATIONS}; got {ops}."
            )
        if y is None and not isinstance(self.estimator, FrozenEstimator):
            raise ValueError(
                "TextCounterfactualExplainer requires y to be passed, but the "
                "target y is None; pass y, or wrap a fitted model in "
                "sklearn.frozen.FrozenEstimator."
            )
        if y is not None and len(np.asarray(y)) != len(texts):
            raise ValueError(
                f"X and y have inconsistent numbers of samples: {len(texts)} "
                f"and {len(np.asarray(y))}."
            )
        if isinstance(self.estimator, FrozenEstimator):
            self.estimator_ = self.estimator  # used as it is
        else:
            self.estimator_ = fit_clone(self, texts, y, fit_params)
        self.classes_ = np.asarray(self.estimator_.classes_)
        if not (
            isinstance(self.desired_class, str) and self.desired_class == "opposite"
        ):
            resolve_targets(self.desired_class, self.classes_, np.zeros(1, int))
        self.vocabulary_ = model_vocabulary(self.estimator_, self.vocabulary, texts)
        known = {t for text in texts for t in tokens(text) if t[0].isalnum()}
        self.lexicon_ = Lexicon(self._proba, self.vocabulary_, known)
        self.language_model_ = NGramLanguageModel().fit(texts)
        return self

    def _proba(self, texts):
        """Class probabilities of the model on ``texts`` (one call): its
        ``predict_proba``, else the softmax of its ``decision_function``."""
        return class_probabilities(self.estimator_, texts)

    def _params(self):
        return {
            "operations": tuple(self.operations),
            "n_counterfactuals": self.n_counterfactuals,
            "max_edits": self.max_edits,
            "beam_width": self.beam_width,
            "n_substitutes": self.n_substitutes,
            "edit_scope": self.edit_scope,
            "min_effect": self.min_effect,
        }

    def explain(self, X, desired_class=None):
        """Find few-word edits of each sentence that reach the desired class.

        Parameters
        ----------
        X : sequence of str or pandas Series
            The sentences (a Series keeps its index labels). Not modified.
        desired_class : label, "opposite" or array-like of labels, default=None
            Overrides the ``desired_class`` parameter for this call; one
            label per sentence is accepted.

        Returns
        -------
        explanations : TextCounterfactualExplanations
        """
        start = time.perf_counter()
        check_is_fitted(self)
        texts, index = check_texts(X)
        n = len(texts)
        toks = [tokens(t) for t in texts]
        keep = {w.lower() for w in self.protected}
        editable = [editable_positions(t, keep) for t in toks]
        lexicon = self.lexicon_
        # one model call before the search: the sentences, and the words of
        # theirs that fit did not see alone
        new = sorted(
            {t[p] for t, e in zip(toks, editable) for p in e} - set(lexicon.alone)
        )
        P = self._proba([join(t) for t in toks] + new)
        alone = {**lexicon.alone, **dict(zip(new, P[n:]))}
        orig = P[:n].argmax(axis=1)
        goal = self.desired_class if desired_class is None else desired_class
        target = resolve_targets(goal, self.classes_, orig)
        already = np.where(target >= 0, orig == target, False)
        todo = np.flatnonzero(~already)
        lm = self.language_model_
        base = lm.score_samples(texts)
        accept = None
        if self.max_perplexity_ratio is not None:
            floor = base[todo] - np.log(self.max_perplexity_ratio)

            def accept(owner, edited):
                return lm.score_samples(edited) >= floor[owner]

        chosen = edit_search(
            self._proba,
            [toks[i] for i in todo],
            [editable[i] for i in todo],
            orig[todo],
            target[todo],
            lexicon,
            self._params(),
            alone,
            accept,
            fluency=lm.score_samples,
        )
        return self._result(
            texts, index, toks, todo, chosen, orig, target, already, start, base
        )

    def _result(
        self, texts, index, toks, todo, chosen, orig, target, already, start, base
    ):
        from skcfx.counterfactual._text.edits import apply_edits

        owner = np.array([i for i, c in zip(todo, chosen) for _ in c], dtype=int)
        rank = np.array([r for c in chosen for r in range(len(c))], dtype=int)
        sets = [e for c in chosen for e in c]
        out_texts = [apply_edits(toks[i], e) for i, e in zip(owner, sets)]
        pred = np.zeros(0, dtype=int)
        proba = np.zeros(0)
        if out_texts:  # validity decided once, by the model on the final text
            P = self._proba(out_texts)
            pred = class_index(self.classes_, self.estimator_.predict(out_texts))
            proba = P[np.arange(len(pred)), pred]
        t = target[owner]
        valid = np.where(t >= 0, pred == t, pred != orig[owner])
        fluency = np.zeros(0)
        if out_texts:
            fluency = self.language_model_.score_samples(out_texts) - base[owner]
        n = len(texts)
        status = np.full(n, STATUS["exhausted"], dtype=object)
        status[np.unique(owner[valid])] = STATUS["found"]
        status[already] = STATUS["already"]
        missing = int(np.isin(status, NOT_FOUND).sum())
        if missing:
            warnings.warn(
                f"No valid counterfactual found for {missing} of {n} sentences "
                f"within max_edits={self.max_edits} (see the explanation's "
                "status).",
                NoCounterfactualWarning,
                stacklevel=3,
            )
        return TextCounterfactualExplanations(
            queries=texts,
            texts=out_texts,
            edits=[describe_edits(toks[i], e) for i, e in zip(owner, sets)],
            edit_list=[sorted(e) for e in sets],
            n_words=[sum(tok[0].isalnum() for tok in t) for t in toks],
            fluency=fluency,
            index=index,
            owner=owner,
            rank=rank,
            valid=valid,
            prediction=self.classes_[pred],
            probability=proba,
            status=status,
            reason=np.full(n, "", dtype=object),
            query_prediction=self.classes_[orig],
            desired=describe_desired(self.classes_, target, orig),
            n_requested=self.n_counterfactuals,
            seconds=time.perf_counter() - start,
        )

    def transform(self, X):
        """Best counterfactual sentence of each sentence.

        Parameters
        ----------
        X : sequence of str
            The sentences.

        Returns
        -------
        X_cf : ndarray of object, shape (n_samples,)
            The edited sentence; the sentence itself where it already has
            the desired class; None where none was found.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoCounterfactualWarning)
            return self.explain(X).best().to_numpy()

    def score(self, X, y=None):
        """Validity traded against the fraction of words edited, on a fixed
        ruler (see :meth:`TextCounterfactualExplanations.score`), higher is
        better.

        Parameters
        ----------
        X : sequence of str
            The sentences.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoCounterfactualWarning)
            return self.explain(X).score()
