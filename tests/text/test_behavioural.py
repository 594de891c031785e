"""CheckList-style behavioural tests in skcfx.testing."""

import numpy as np
import pytest
from hypothesis import given, settings
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skcfx.datasets import load_sentiment
from skcfx.testing import (
    assert_directional,
    assert_invariant,
    make_behavioural_tests,
    text_edits,
)
from skcfx.text import TextPerturber


@pytest.fixture(scope="module")
def data():
    X, y = load_sentiment(return_X_y=True)
    model = make_pipeline(CountVectorizer(), LogisticRegression(max_iter=500))
    model.fit(X[::2], y[::2])
    return X[1::2].reset_index(drop=True), y[1::2].reset_index(drop=True), model


class BagOfWordsIgnoringNegation:
    """A model that looks up single polar words only: blind to negation."""

    classes_ = np.array([0, 1])

    def predict_proba(self, texts):
        pos = np.array(
            [
                0.9 if ("good" in t.lower() or "great" in t.lower()) else 0.1
                for t in texts
            ]
        )
        return np.column_stack([1 - pos, pos])

    def predict(self, texts):
        return self.predict_proba(texts).argmax(axis=1)


def test_suite_has_the_three_test_types_and_a_report(data):
    X, y, model = data
    suite = make_behavioural_tests(X[:400], y[:400], max_cases=40)
    assert set(suite.cases["test"]) == {"MFT", "INV", "DIR"}
    assert suite.cases.groupby(["test", "code"]).size().max() <= 40
    report = suite.run(model)
    summary = report.summary()
    assert {"cases", "failures", "failure_rate"} <= set(summary)
    assert summary["cases"].sum() == len(suite)
    # the failure flags agree with the model's own predictions
    res = report.results
    inv = res[res["test"] == "INV"]
    same = model.predict(inv["text"].tolist()) == model.predict(
        inv["original"].tolist()
    )
    assert (inv["failed"].to_numpy() == ~same).all()
    mft = res[res["test"] == "MFT"]
    assert (mft["failed"] == (mft["prediction"] != mft["expected"])).all()
    text = str(report)
    assert "MFT" in text and "failure rate" in text
    assert len(report.failures(n=2)) <= 2 * len(summary)


def test_mft_catches_a_model_blind_to_negation(data):
    X, y, _ = data
    report = make_behavioural_tests(X, y, tests=("MFT",), max_cases=None).run(
        BagOfWordsIgnoringNegation()
    )
    negated = report.results[report.results["text"].str.contains(" not good")]
    assert len(negated) > 0 and negated["failed"].all()
    assert report.failure_rate("MFT", "negation") > 0.4


def test_directional_test_uses_probabilities():
    model = BagOfWordsIgnoringNegation()
    texts = ["The food is good.", "The place was great."]
    with pytest.raises(AssertionError, match="4 of 4 reversing edits failed"):
        # "is not good" and "isn't good" keep p=0.9
        assert_directional(model, texts, max_failure_rate=0.0)

    class NegationAware(BagOfWordsIgnoringNegation):
        def predict_proba(self, texts):
            P = super().predict_proba(texts)
            neg = np.array([("not" in t or "n't" in t) for t in texts])
            P[neg] = P[neg][:, ::-1]
            return P

    assert assert_directional(NegationAware(), texts) == 4


def test_invariance_helpers():
    model = BagOfWordsIgnoringNegation()
    assert (
        assert_invariant(model, ["John said the food is good.", "Mary hated it."]) > 0
    )

    class NameSensitive(BagOfWordsIgnoringNegation):
        def predict(self, texts):
            return np.array([int("john" in t.lower()) for t in texts])

    with pytest.raises(AssertionError, match="meaning-preserving edits failed"):
        assert_invariant(NameSensitive(), ["John said it is good."])
    with pytest.raises(ValueError, match="would test nothing"):
        assert_invariant(model, ["no names here"], codes="entity")


@settings(max_examples=15, deadline=None)
@given(
    edit=text_edits(
        ["John said it is good.", "Maria found the food great."], codes="entity"
    )
)
def test_text_edits_strategy_names_do_not_matter(edit):
    model = BagOfWordsIgnoringNegation()
    assert edit.code == "entity" and edit.intent == "keep"
    assert edit.text != edit.original
    assert model.predict([edit.original])[0] == model.predict([edit.text])[0]


def test_suite_from_a_given_perturber_without_labels(data):
    X, _, model = data
    p = TextPerturber(codes=("restructure", "negation"), random_state=0).fit(X)
    suite = make_behavioural_tests(
        X[:200], perturber=p, codes=("restructure", "negation")
    )
    assert set(suite.cases["test"]) == {"INV", "DIR"}  # no labels: no MFT
    assert 0 <= suite.run(model).failure_rate() <= 1
    with pytest.raises(ValueError, match="tests must be"):
        make_behavioural_tests(X[:5], tests=("XYZ",))


def test_directional_tests_on_decision_scores(data):
    """A model with decision scores only (LinearSVC): its softmax stands for
    the probabilities, so the directional cases measure a change (the
    margin toward the other class) instead of waiting for a new label."""
    from sklearn.svm import LinearSVC

    X, y, _ = data
    svc = make_pipeline(CountVectorizer(), LinearSVC()).fit(X, y)
    texts = ["The food is good.", "The place was great.", "The service was bad."]
    assert assert_directional(svc, texts, max_failure_rate=0.5) >= 3
    suite = make_behavioural_tests(X[:400], y[:400], max_cases=40)
    cases = suite.run(svc).results
    dirs = cases["test"] == "DIR"
    assert dirs.any() and cases.loc[dirs, "change"].notna().all()
    # a binary model's softmax probability of the original class moves with
    # its decision score
    orig = cases.loc[dirs, "original"].tolist()
    edited = cases.loc[dirs, "text"].tolist()
    s0, s1 = svc.decision_function(orig), svc.decision_function(edited)
    sign = np.where(s0 > 0, 1.0, -1.0)
    moved_away = (sign * s1) < (sign * s0)
    np.testing.assert_array_equal(cases.loc[dirs, "change"].to_numpy() < 0, moved_away)
