"""Behavioural tests of text classifiers (CheckList-style), built from a
corpus by skcfx's control-code edits."""

from collections import namedtuple

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from skcfx.text import TextPerturber
from skcfx.text._resources import ANTONYMS
from skcfx.text._tokens import check_texts
from skcfx.utils._outputs import class_probabilities

__all__ = [
    "BehaviouralTestReport",
    "BehaviouralTestSuite",
    "TextEdit",
    "assert_directional",
    "assert_invariant",
    "make_behavioural_tests",
    "text_edits",
]

TEST_TYPES = ("MFT", "INV", "DIR")
_CASE_COLUMNS = ["test", "code", "rule", "original", "text", "expected"]

TextEdit = namedtuple("TextEdit", ["original", "text", "code", "rule", "intent"])
TextEdit.__doc__ = """One edit of a sentence: what :func:`text_edits` draws.

Parameters
----------
original : str
    The sentence.
text : str
    The edited sentence.
code : str
    The edit's control code.
rule : str
    Its context-free rule (``"is -> isn't"``).
intent : {"flip", "keep", "unknown"}
    What the edit should do to a polarity label.
"""


def _perturber(X, y, perturber, codes):
    if perturber is None:
        kwargs = {} if codes is None else {"codes": codes}
        return TextPerturber(random_state=0, **kwargs).fit(X, y)
    return perturber


def _sample(frame, n, rng):
    if n is None or len(frame) <= n:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), n, replace=False))]


def _templates(perturber, n_nouns=8):
    """Minimum-functionality sentences: (code, rule, text, class index)."""
    lex = perturber.lexicon_
    if lex.association is None or len(lex.classes) != 2:
        return []
    # nouns: the most frequent unpolar content words seen after "the"
    nouns = sorted(
        (
            w
            for w in lex.after_the
            if w.isalpha() and w not in ENGLISH_STOP_WORDS and not lex.is_polar(w)
        ),
        key=lambda w: (-lex.counts[w], w),
    )[:n_nouns]
    # evaluative words the corpus modifies with an intensifier (adjectives)
    # and labels; participles ("disappointed") describe people, not things
    adjectives = sorted(
        w
        for w in ANTONYMS
        if w in lex.modifiable and lex.polarity(w) >= 0 and not w.endswith("ed")
    )
    out = []
    for noun in nouns:
        for adj in adjectives:
            c = lex.polarity(adj)
            out.append(("lexical", "the N is A", f"The {noun} is {adj}.", c))
            out.append(("insert", "the N is very A", f"The {noun} is very {adj}.", c))
            out.append(
                ("negation", "the N is not A", f"The {noun} is not {adj}.", 1 - c)
            )
    return out


class BehaviouralTestSuite:
    """Test cases for a text classifier: minimum functionality (MFT),
    invariance (INV) and directional expectations (DIR).

    Built by :func:`make_behavioural_tests`; :meth:`run` runs it on any
    classifier of raw strings.

    Parameters
    ----------
    cases : DataFrame
        One row per case: ``test``, ``code``, ``rule``, ``original`` (the
        corpus sentence edited; empty for MFT), ``text`` and ``expected``
        (the label for MFT; "same prediction" for INV; "toward another
        class" for DIR).
    classes : ndarray or None
        The labels the cases were built for.
    """

    def __init__(self, cases, classes=None):
        self.cases = cases.reset_index(drop=True)
        self.classes = classes

    def __len__(self):
        return len(self.cases)

    def run(self, model, *, min_change=0.0):
        """Run every case on ``model``.

        Parameters
        ----------
        model : estimator
            Fitted classifier of raw strings (``predict``; ``predict_proba``,
            or ``decision_function`` whose softmax stands for it, for
            directional tests, else a DIR case needs a new label).
        min_change : float, default=0.0
            A DIR case fails unless the probability of the original
            sentence's predicted class drops by more than this.

        Returns
        -------
        report : BehaviouralTestReport
        """
        cases = self.cases.copy()
        n = len(cases)
        test = cases["test"].to_numpy()
        paired = np.flatnonzero(test != "MFT")
        # one predict call: the edited sentences, then each original once
        originals, back = np.unique(
            cases["original"].to_numpy(dtype=object)[paired].astype(str),
            return_inverse=True,
        )
        texts = cases["text"].tolist()
        pred = np.asarray(model.predict(texts + originals.tolist()))
        orig_pred = np.full(n, None, dtype=object)
        orig_pred[paired] = pred[n:][back]
        cases["prediction"] = pred[:n]
        cases["original_prediction"] = orig_pred
        failed = np.zeros(n, dtype=bool)
        change = np.full(n, np.nan)
        mft = test == "MFT"
        failed[mft] = pred[:n][mft] != cases["expected"].to_numpy()[mft]
        inv = test == "INV"
        failed[inv] = pred[:n][inv] != orig_pred[inv]
        dirs = np.flatnonzero(test == "DIR")
        if len(dirs) and (
            hasattr(model, "predict_proba") or hasattr(model, "decision_function")
        ):
            # probabilities of the DIR sentences, then of every original
            P = class_probabilities(
                model, [texts[i] for i in dirs] + originals.tolist()
            )
            classes = list(model.classes_)
            col = np.array([classes.index(c) for c in orig_pred[dirs]])
            where = np.empty(n, dtype=int)
            where[paired] = len(dirs) + back
            before, after = P[where[dirs], col], P[np.arange(len(dirs)), col]
            change[dirs] = after - before
            failed[dirs] = ~(after < before - min_change)
        elif len(dirs):  # no probabilities: the label itself must move
            failed[dirs] = pred[:n][dirs] == orig_pred[dirs]
        cases["change"] = change
        cases["failed"] = failed
        return BehaviouralTestReport(cases)


class BehaviouralTestReport:
    """Results of a :class:`BehaviouralTestSuite` on one model.

    Parameters
    ----------
    results : DataFrame
        The cases with ``prediction``, ``original_prediction``, ``change``
        (DIR: probability change of the original prediction) and
        ``failed``.
    """

    def __init__(self, results):
        self.results = results

    def summary(self):
        """Failure rate per test type and code.

        Returns
        -------
        summary : DataFrame
            Index (test, code); columns ``cases``, ``failures``,
            ``failure_rate``.
        """
        g = self.results.groupby(["test", "code"], sort=False)["failed"]
        out = pd.DataFrame({"cases": g.size(), "failures": g.sum().astype(int)})
        out["failure_rate"] = out["failures"] / out["cases"]
        return out

    def failure_rate(self, test=None, code=None):
        """Share of failed cases, overall or for one test type / code.

        Parameters
        ----------
        test : {"MFT", "INV", "DIR"}, default=None
            Test type.
        code : str, default=None
            Edit code.

        Returns
        -------
        rate : float
            NaN when no case matches.
        """
        r = self._select(test, code)
        return float(r["failed"].mean()) if len(r) else float("nan")

    def _select(self, test, code):
        r = self.results
        if test is not None:
            r = r[r["test"] == test]
        if code is not None:
            r = r[r["code"] == code]
        return r

    def failures(self, test=None, code=None, n=5):
        """Example failures.

        Parameters
        ----------
        test : {"MFT", "INV", "DIR"}, default=None
            Test type.
        code : str, default=None
            Edit code.
        n : int, default=5
            At most this many per (test, code).

        Returns
        -------
        failures : DataFrame
        """
        r = self._select(test, code)
        r = r[r["failed"]]
        return r.groupby(["test", "code"], sort=False).head(n)

    def __str__(self):
        lines = ["Behavioural tests: failure rate per test type and code"]
        for (test, code), row in self.summary().iterrows():
            lines.append(
                f"  {test:<4}{code:<12}{row['failures']:>5} / {row['cases']:<5}"
                f"({row['failure_rate']:.1%})"
            )
            ex = self.failures(test, code, n=1)
            for _, case in ex.iterrows():
                src = f"{case['original']!r} -> " if case["original"] else ""
                lines.append(
                    f"      e.g. {src}{case['text']!r}: predicted "
                    f"{case['prediction']!r}"
                )
        return "\n".join(lines)


def make_behavioural_tests(
    X,
    y=None,
    *,
    perturber=None,
    codes=None,
    tests=TEST_TYPES,
    max_cases=200,
    random_state=0,
):
    """Build behavioural tests of a text classifier from a corpus.

    After CheckList (Ribeiro et al., ACL 2020), with cases generated by
    :class:`~skcfx.text.TextPerturber` instead of hand-written templates:

    - ``"INV"``: edits meant to keep the meaning (names, synonyms,
      intensifiers, contractions, clause order): the prediction must not
      change;
    - ``"DIR"``: edits meant to reverse the claim (negation, antonyms,
      "always" -> "never"): the probability of the original prediction must
      drop;
    - ``"MFT"`` (binary labels ``y`` needed): short sentences with a known
      label, "The {noun} is {adjective}." with the corpus's own nouns and
      opposite evaluative words whose label the corpus shows, and their
      intensified and negated versions ("not good" must be negative).

    Parameters
    ----------
    X : sequence of str
        Corpus sentences to edit (held-out sentences, say).
    y : array-like of shape (n_samples,), default=None
        Their labels: the perturber learns which words lean which way, and
        MFT cases can be built (with a given ``perturber``, MFT cases need
        one fitted with labels).
    perturber : TextPerturber, default=None
        A fitted perturber; by default one is fitted on ``X`` and ``y``.
    codes : str or tuple of str, default=None
        Codes of the INV and DIR edits (default: all).
    tests : tuple of {"MFT", "INV", "DIR"}, default=all three
        Test types to build.
    max_cases : int or None, default=200
        Cases per test type and code at most (sampled at random).
    random_state : int, default=0
        Seed of that sampling.

    Returns
    -------
    suite : BehaviouralTestSuite

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcfx.datasets import load_sentiment
    >>> from skcfx.testing import make_behavioural_tests
    >>> X, y = load_sentiment(return_X_y=True)
    >>> model = make_pipeline(CountVectorizer(), LogisticRegression()).fit(X, y)
    >>> suite = make_behavioural_tests(X[:300], y[:300], max_cases=50)
    >>> report = suite.run(model)
    >>> 0 <= report.failure_rate("INV") <= 1
    True
    """
    texts, _ = check_texts(X)
    bad = [t for t in tests if t not in TEST_TYPES]
    if bad or not tests:
        raise ValueError(
            f"tests must be a non-empty subset of {TEST_TYPES}; got {tests!r}."
        )
    rng = np.random.default_rng(random_state)
    perturber = _perturber(texts, y, perturber, codes)
    parts = []
    for test, intent in (("INV", "keep"), ("DIR", "flip")):
        if test not in tests:
            continue
        edits = perturber.perturb(texts, codes=codes, intent=intent)
        for _, g in edits.groupby("code", sort=False):
            g = _sample(g, max_cases, rng)
            parts.append(
                pd.DataFrame(
                    {
                        "test": test,
                        "code": g["code"],
                        "rule": g["rule"],
                        "original": g["original"],
                        "text": g["text"],
                        "expected": "same prediction"
                        if test == "INV"
                        else "toward another class",
                    }
                )
            )
    classes = perturber.lexicon_.classes
    if "MFT" in tests:
        rows = _templates(perturber)
        if rows:
            frame = pd.DataFrame(rows, columns=["code", "rule", "text", "label"])
            for _, g in frame.groupby("code", sort=False):
                g = _sample(g, max_cases, rng)
                parts.append(
                    pd.DataFrame(
                        {
                            "test": "MFT",
                            "code": g["code"],
                            "rule": g["rule"],
                            "original": "",
                            "text": g["text"],
                            "expected": classes[g["label"].to_numpy()],
                        }
                    )
                )
    cases = pd.concat(parts) if parts else pd.DataFrame(columns=_CASE_COLUMNS)
    return BehaviouralTestSuite(cases, classes)


def _edits_or_raise(model, X, perturber, codes, intent, what):
    texts, _ = check_texts(X)
    perturber = _perturber(texts, None, perturber, codes)
    edits = perturber.perturb(texts, codes=codes, intent=intent)
    if edits.empty:
        raise ValueError(
            f"No {what} edit of codes={codes!r} applies to the {len(texts)} "
            "sentences given; the assertion would test nothing. Pass "
            "sentences the edits apply to (names for 'entity', auxiliaries "
            "for 'negation', ...)."
        )
    return edits


def _raise_failures(edits, failed, max_failure_rate, what, detail):
    rate = float(failed.mean())
    if rate > max_failure_rate:
        ex = edits[failed].head(5)
        lines = [
            f"  {o!r} -> {t!r} ({r}){detail(i)}"
            for i, (o, t, r) in zip(
                ex.index, zip(ex["original"], ex["text"], ex["rule"])
            )
        ]
        raise AssertionError(
            f"{int(failed.sum())} of {len(edits)} {what} edits failed "
            f"({rate:.1%} > max_failure_rate={max_failure_rate}):\n" + "\n".join(lines)
        )
    return len(edits)


def assert_invariant(model, X, *, codes="entity", perturber=None, max_failure_rate=0.0):
    """Assert that meaning-preserving edits do not change the prediction.

    For example "the model must not change its label when a name is
    replaced" (``codes="entity"``, the default), or when a contraction is
    spelled out (``codes="restructure"``).

    Parameters
    ----------
    model : estimator
        Fitted classifier of raw strings.
    X : sequence of str
        Sentences the edits apply to.
    codes : str or tuple of str, default="entity"
        Codes of the edits (only their ``"keep"`` edits are used).
    perturber : TextPerturber, default=None
        A fitted perturber; by default one fitted on ``X``.
    max_failure_rate : float, default=0.0
        Largest share of edits allowed to change the prediction.

    Returns
    -------
    n_cases : int
        Edits checked.

    Raises
    ------
    AssertionError
        Listing up to five failing edits.
    ValueError
        If no edit applies to ``X`` (a test that cannot fail).
    """
    edits = _edits_or_raise(model, X, perturber, codes, "keep", "meaning-preserving")
    originals, back = np.unique(
        edits["original"].to_numpy(dtype=str), return_inverse=True
    )
    pred = np.asarray(model.predict(edits["text"].tolist() + originals.tolist()))
    after, before = pred[: len(edits)], pred[len(edits) :][back]
    failed = after != before
    labels = dict(zip(edits.index, zip(before, after)))
    return _raise_failures(
        edits,
        failed,
        max_failure_rate,
        "meaning-preserving",
        lambda i: f": {labels[i][0]!r} -> {labels[i][1]!r}",
    )


def assert_directional(
    model, X, *, codes="negation", perturber=None, max_failure_rate=0.0, min_change=0.0
):
    """Assert that edits meant to reverse a sentence move the model away
    from its prediction.

    Parameters
    ----------
    model : estimator
        Fitted classifier of raw strings with ``predict_proba`` (or
        ``decision_function``, whose softmax stands for the probabilities).
    X : sequence of str
        Sentences the edits apply to.
    codes : str or tuple of str, default="negation"
        Codes of the edits (only their ``"flip"`` edits are used).
    perturber : TextPerturber, default=None
        A fitted perturber; by default one fitted on ``X``.
    max_failure_rate : float, default=0.0
        Largest share of edits allowed not to move the model.
    min_change : float, default=0.0
        The probability of the original prediction must drop by more than
        this.

    Returns
    -------
    n_cases : int
        Edits checked.

    Raises
    ------
    AssertionError
        Listing up to five failing edits.
    ValueError
        If no edit applies to ``X``.
    """
    edits = _edits_or_raise(model, X, perturber, codes, "flip", "reversing")
    originals, back = np.unique(
        edits["original"].to_numpy(dtype=str), return_inverse=True
    )
    P = class_probabilities(model, edits["text"].tolist() + originals.tolist())
    P1, P0 = P[: len(edits)], P[len(edits) :][back]
    col = P0.argmax(axis=1)
    rows = np.arange(len(col))
    before, after = P0[rows, col], P1[rows, col]
    failed = ~(after < before - min_change)
    moved = dict(zip(edits.index, zip(before, after)))
    return _raise_failures(
        edits,
        failed,
        max_failure_rate,
        "reversing",
        lambda i: f": p {moved[i][0]:.3f} -> {moved[i][1]:.3f}",
    )


def text_edits(X, *, perturber=None, codes=None, intent=None):
    """Hypothesis strategy of edits of the sentences ``X``.

    Parameters
    ----------
    X : sequence of str
        Sentences to edit.
    perturber : TextPerturber, default=None
        A fitted perturber; by default one fitted on ``X``.
    codes : str or tuple of str, default=None
        Codes of the edits.
    intent : str or tuple of {"flip", "keep", "unknown"}, default=None
        Intents of the edits.

    Returns
    -------
    strategy of TextEdit
        Named tuples ``(original, text, code, rule, intent)``.

    Examples
    --------
    >>> from hypothesis import given
    >>> from skcfx.testing import text_edits
    >>> @given(edit=text_edits(["John said it is good."], codes="entity"))
    ... def test_names_do_not_matter(edit):
    ...     assert model.predict([edit.original]) == model.predict([edit.text])
    """
    texts, _ = check_texts(X)
    perturber = _perturber(texts, None, perturber, codes)
    edits = perturber.perturb(texts, codes=codes, intent=intent)
    if edits.empty:
        raise ValueError(
            f"No edit of codes={codes!r}, intent={intent!r} applies to the "
            f"{len(texts)} sentences given."
        )
    records = [
        TextEdit(o, t, c, r, i)
        for o, t, c, r, i in zip(
            edits["original"],
            edits["text"],
            edits["code"],
            edits["rule"],
            edits["intent"],
        )
    ]
    return st.sampled_from(records)
