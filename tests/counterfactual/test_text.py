"""Word-level text counterfactuals: valid, minimal, within the allowed edits."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skcfx.counterfactual import text_counterfactuals
from skcfx.counterfactual._text.edits import apply_edits as _apply
from skcfx.counterfactual._text.edits import tokens as _tokens
from skcfx.datasets import load_sentiment


class _Counter(ClassifierMixin, BaseEstimator):
    """Class 1 when "good" outnumbers "bad" (a known, exact rule)."""

    classes_ = np.array([0, 1])

    def fit(self, X, y=None):
        return self

    def predict_proba(self, X):
        score = np.array(
            [
                s.lower().split().count("good") - s.lower().split().count("bad")
                for s in X
            ],
            dtype=float,
        )
        p = 1.0 / (1.0 + np.exp(-(3.0 * score - 1.5)))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.fixture(scope="module")
def sentiment():
    texts, labels = load_sentiment(return_X_y=True)
    tr, te, ytr, _ = train_test_split(
        texts.to_numpy(dtype=object), labels.to_numpy(), test_size=0.3, random_state=0
    )
    model = make_pipeline(
        CountVectorizer(binary=True, min_df=2), LogisticRegression(C=2.0, max_iter=1000)
    ).fit(tr, ytr)
    return model, list(te[:40])


def test_sentiment_counterfactuals_flip_the_model(sentiment):
    model, texts = sentiment
    before = list(texts)
    cf = text_counterfactuals(model, texts)
    assert texts == before
    assert cf.attrs["found"].mean() >= 0.9
    assert cf["valid"].all()
    # re-predicted here: the other class than the sentence's
    pred = model.predict(list(cf["text"]))
    orig = model.predict([texts[i] for i in cf["query"]])
    assert (pred != orig).all() and (cf["prediction"].to_numpy() == pred).all()
    assert cf["n_edits"].mean() <= 2.0 and cf["n_edits"].max() <= 3
    assert (cf.groupby("query").size() <= 3).all()
    # fewest edits first
    for _, g in cf.groupby("query"):
        assert (np.diff(g["n_edits"].to_numpy()) >= 0).all()


def test_exactly_the_needed_edits_and_minimal():
    """Two "bad" need two edits (one alone leaves the count at 0 or -1): every
    counterfactual has exactly two, both on the "bad" words, and dropping
    either gives back the original class."""
    model = _Counter()
    text = "the food was bad and the service was bad"
    cf = text_counterfactuals(
        model, [text], vocabulary=["good", "fine", "table"], edit_scope="all"
    )
    assert len(cf) and cf["valid"].all()
    assert (cf["n_edits"] == 2).all()  # one edit can never be enough
    tokens = _tokens(text)
    for edits in cf["edit_list"]:
        assert model.predict([_apply(tokens, edits)])[0] == 1
        for e in edits:  # minimal: undoing any one edit gives class 0 back
            rest = [x for x in edits if x != e]
            assert model.predict([_apply(tokens, rest)])[0] == 0
    assert len(set(cf["text"])) == len(cf)  # distinct


def test_protected_words_and_operations():
    model = _Counter()
    text = "bad food"
    cf = text_counterfactuals(
        model, [text], vocabulary=["good"], protected=["bad"], edit_scope="all"
    )
    # "food" -> "good" leaves a count of 0: class 0; "bad" may not be edited
    assert len(cf) == 0 and not cf.attrs["found"][0]
    cf = text_counterfactuals(
        model, [text], vocabulary=["good"], operations=["delete"], edit_scope="all"
    )
    assert len(cf) == 0  # deleting "bad" leaves a count of 0: still class 0
    cf = text_counterfactuals(
        model, ["bad good good"], operations=["delete"], vocabulary=["x"]
    )
    assert cf["valid"].all() and cf["edits"].str.startswith("delete").all()


def test_errors_are_named(sentiment):
    model, texts = sentiment
    with pytest.raises(ValueError, match="desired_class=7"):
        text_counterfactuals(model, texts[:2], desired_class=7)
    with pytest.raises(ValueError, match="operations must be"):
        text_counterfactuals(model, texts[:2], operations=["shuffle"])
    with pytest.raises(ValueError, match="max_edits"):
        text_counterfactuals(model, texts[:2], max_edits=0)
    with pytest.raises(ValueError, match="vocabulary=None needs a Pipeline"):
        text_counterfactuals(_Counter(), ["bad"])
    with pytest.raises(ValueError, match="edit_scope"):
        text_counterfactuals(model, texts[:2], edit_scope="some")


def test_minimal_drops_unneeded_edits():
    """A found edit set with an unneeded edit shrinks to the needed ones."""
    from skcfx.counterfactual._text.search import _minimal

    model = _Counter()
    tokens = _tokens("bad bad good good food")
    needed = (0, "delete", "")  # count 0 -> +1: class 1
    extra = (4, "replace", "table")  # no effect

    target, orig = np.array([1]), np.array([0])
    found = _minimal(
        model.predict_proba,
        [tokens],
        [{frozenset({needed, extra}): 0.8}],
        target,
        orig,
    )
    assert list(found[0]) == [frozenset({needed})]


def test_sentences_already_desired_are_left_alone():
    model = _Counter()
    cf = text_counterfactuals(
        model, ["good food", "bad food", ""], desired_class=1, vocabulary=["good"]
    )
    assert list(cf.attrs["status"]) == ["already desired", "found", "not found"]
    assert set(cf["query"]) == {1}
    assert (model.predict(list(cf["text"])) == 1).all()


class _Topics(ClassifierMixin, BaseEstimator):
    """Three classes by keyword counts: 0 "bad", 1 "good", 2 "meh"."""

    classes_ = np.array(["neg", "pos", "neutral"])

    def fit(self, X, y=None):
        return self

    def predict_proba(self, X):
        keys = ("bad", "good", "meh")
        S = np.array([[s.lower().split().count(k) for k in keys] for s in X], float)
        E = np.exp(3.0 * S + np.array([0.1, 0.0, 0.0]))  # ties: "neg"
        return E / E.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def test_multiclass_any_other_class_and_named_class():
    model = _Topics()
    texts = ["the soup was bad", "the soup was good"]
    vocab = ["good", "meh", "bad", "soup"]
    cf = text_counterfactuals(model, texts, vocabulary=vocab, edit_scope="all")
    pred = model.predict(list(cf["text"]))
    orig = model.predict([texts[i] for i in cf["query"]])
    assert len(cf) and (pred != orig).all()
    cf = text_counterfactuals(
        model, texts, desired_class="neutral", vocabulary=vocab, edit_scope="all"
    )
    assert (model.predict(list(cf["text"])) == "neutral").all()
    assert list(cf.attrs["status"]) == ["found", "found"]


def test_single_string_is_a_clear_error():
    model = _Topics()
    with pytest.raises(ValueError, match="sequence of strings.*Wrap it in a list"):
        text_counterfactuals(model, "the soup was bad", vocabulary=["good"])


def test_character_ngram_models_get_whole_word_edits():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = [
        "this movie was great",
        "great acting and a great story",
        "a wonderful film",
        "this movie was awful",
        "awful acting and a terrible story",
        "a terrible film",
    ] * 5
    y = [1, 1, 1, 0, 0, 0] * 5
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)), LogisticRegression()
    ).fit(texts, y)
    queries = ["this movie was awful", "a terrible film"]
    cf = text_counterfactuals(model, queries, operations=("replace",))
    words = {w for t in texts for w in t.split()} | {
        w for q in queries for w in q.split()
    }
    for text in cf["text"]:
        assert set(text.split()) <= words  # whole words only, no "grea"
    assert len(cf) > 0
