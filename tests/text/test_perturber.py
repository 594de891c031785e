"""Control-code edits, the n-gram language model, contrast sets, SEAR rules
and the counterfactual augmentation sampler."""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_param_validation,
    check_parameters_default_constructible,
    check_set_params,
)

from skcfx.datasets import load_sentiment
from skcfx.text import (
    CODES,
    CounterfactualAugmenter,
    NGramLanguageModel,
    TextPerturber,
    sear_rules,
)
from skcfx.text._tokens import tokens


@pytest.fixture(scope="module")
def corpus():
    X, y = load_sentiment(return_X_y=True)
    return X.iloc[::3].reset_index(drop=True), y.iloc[::3].reset_index(drop=True)


@pytest.fixture(scope="module")
def perturber(corpus):
    X, y = corpus
    return TextPerturber(random_state=0).fit(X, y)


def test_language_model_is_a_distribution():
    texts = ["the food is good .", "the food is bad .", "a good place ."]
    lm = NGramLanguageModel(order=3).fit(texts)
    vocab = sorted(lm.vocabulary_)
    for ctx in [("<s>", "<s>"), ("the", "food"), ("is", "unseen"), ("x", "y")]:
        total = sum(lm._prob(ctx + (w,)) for w in vocab)
        total += lm._prob(ctx + ("never-seen-word",))  # the unknown word
        assert total == pytest.approx(1.0, abs=1e-9)


def test_language_model_prefers_corpus_word_order(corpus):
    X, _ = corpus
    lm = NGramLanguageModel().fit(X)
    ok = lm.score_samples(["The food was good.", "I love this phone."])
    shuffled = lm.score_samples(["Good was food the.", "Phone this love I."])
    assert (ok > shuffled).all()
    np.testing.assert_allclose(lm.perplexity(["The food was good."]), np.exp(-ok[:1]))
    assert lm.fluency(["Good was food the."], ["The food was good."])[0] < 0
    assert lm.score(X[:50]) == pytest.approx(lm.score_samples(X[:50]).mean())
    with pytest.raises(ValueError, match="single string"):
        lm.score_samples("one sentence")


def test_every_code_edits_what_it_should():
    texts = [
        "John said the food is good and the service was fast.",
        "It is not a great phone, I never use it.",
        "The battery isn't very reliable.",
        "All of the staff were friendly.",
        "It's a really nice case.",
    ] * 4
    p = TextPerturber(random_state=0).fit(texts, [1, 0, 0, 1, 1] * 4)
    edits = p.perturb(texts[:5])
    assert set(edits["code"]) >= {
        "negation",
        "quantifier",
        "lexical",
        "insert",
        "delete",
        "restructure",
        "shuffle",
        "entity",
    }
    got = set(zip(edits["code"], edits["text"]))
    intent = dict(zip(edits["text"], edits["intent"]))
    assert ("negation", "The battery is very reliable.") in got
    assert intent["The battery is very reliable."] == "flip"
    # two negations in the sentence: removing one need not reverse it
    assert intent["It is a great phone, I never use it."] == "unknown"
    assert ("quantifier", "Some of the staff were friendly.") in got
    assert ("restructure", "It is a really nice case.") in got
    assert ("delete", "It's a nice case.") in got
    assert ("entity", "Mary said the food is good and the service was fast.") in got
    # the sides of "and" swap; a name keeps its capital
    assert ("shuffle", "The service was fast and John said the food is good.") in got
    # every edit differs from its sentence, none twice
    assert (edits["text"] != edits["original"]).all()
    assert not edits.duplicated(["sample", "text"]).any()
    assert set(edits["intent"]) <= {"flip", "keep", "unknown"}


def test_negation_intent_only_for_a_single_verb_group():
    p = TextPerturber(codes="negation").fit(["The food is good.", "It was bad."])
    e = p.perturb(["The food is good.", "The food is good and the staff were rude."])
    assert set(e.loc[e["sample"] == 0, "intent"]) == {"flip"}
    assert set(e.loc[e["sample"] == 1, "intent"]) == {"unknown"}


def test_perturb_filters_and_samples(perturber, corpus):
    X, _ = corpus
    X = X[:60]
    before = X.copy()
    all_edits = perturber.perturb(X)
    assert X.equals(before)  # never mutates the caller's data
    np.testing.assert_allclose(
        all_edits["fluency"],
        perturber.language_model_.fluency(
            all_edits["text"].tolist(), all_edits["original"].tolist()
        ),
    )
    flips = perturber.perturb(X, intent="flip")
    assert set(flips["intent"]) == {"flip"}
    few = perturber.perturb(X, max_per_sentence=1, random_state=0)
    assert few.groupby(["sample", "code"]).size().max() == 1
    strict = clone(perturber).set_params(max_perplexity_ratio=1.5).fit(*_xy(perturber))
    kept = strict.perturb(X)
    assert len(kept) < len(all_edits)
    assert (kept["fluency"] >= -np.log(1.5)).all()
    with pytest.raises(ValueError, match="codes must be a non-empty subset"):
        perturber.perturb(X, codes=("negation", "typo"))
    with pytest.raises(ValueError, match="intent must be"):
        perturber.perturb(X, intent="maybe")


def _xy(perturber):
    X, y = load_sentiment(return_X_y=True)
    return X.iloc[::3], y.iloc[::3]


def test_contrast_set_labels_follow_intent(perturber, corpus):
    X, y = corpus
    cs = perturber.contrast_set(X[:200], y[:200], random_state=0)
    assert len(cs) > 50
    flip = cs["intent"] == "flip"
    assert flip.all()
    assert (cs["label"] != cs["original_label"]).all()
    keep = perturber.contrast_set(X[:200], y[:200], intent="keep", random_state=0)
    assert (keep["label"] == keep["original_label"]).all()
    with pytest.raises(ValueError, match="binary labels"):
        perturber.contrast_set(X[:3], [0, 1, 2])


def test_sear_rules_count_flips(perturber, corpus):
    X, y = corpus
    model = make_pipeline(CountVectorizer(), LogisticRegression()).fit(X, y)
    rules = sear_rules(model, X[:200], perturber)
    assert {"rule", "applied", "coverage", "flips", "flip_rate"} <= set(rules)
    assert (rules["flips"] <= rules["applied"]).all()
    assert rules["flips"].is_monotonic_decreasing
    top = rules.iloc[0]
    edits = perturber.perturb(X[:200], intent="keep")
    mine = edits[edits["rule"] == top["rule"]]
    flipped = model.predict(mine["text"].tolist()) != model.predict(
        mine["original"].tolist()
    )
    assert top["flips"] == flipped.sum() and top["applied"] == len(mine)


def test_augmenter_adds_labelled_edits_and_sits_in_imblearn_pipeline(corpus):
    X, y = corpus
    aug = CounterfactualAugmenter(codes="negation", random_state=0)
    Xr, yr = aug.fit_resample(X, y)
    n = len(X)
    assert isinstance(Xr, pd.Series) and len(Xr) == n + aug.n_added_ > n
    assert list(Xr[:n]) == list(X) and list(yr[:n]) == list(y)
    # each added sentence is a negation edit of a training sentence with
    # the other label
    added = aug.perturber_.perturb(X, codes="negation", intent="flip")
    label_of = dict(zip(X, y))
    pairs = dict(zip(added["text"], added["original"]))
    for text, label in zip(Xr[n:], yr[n:]):
        assert text in pairs and label == 1 - label_of[pairs[text]]
    imblearn = pytest.importorskip("imblearn.pipeline")
    pipe = imblearn.make_pipeline(
        CounterfactualAugmenter(random_state=0),
        CountVectorizer(),
        LogisticRegression(max_iter=500),
    ).fit(X, y)
    assert pipe.predict(X[:5]).shape == (5,)
    assert pipe.score(X, y) > 0.8


def test_estimators_pickle_and_clone(perturber, corpus):
    X, _ = corpus
    again = pickle.loads(pickle.dumps(perturber))
    pd.testing.assert_frame_equal(again.perturb(X[:20]), perturber.perturb(X[:20]))
    assert clone(perturber).get_params() == perturber.get_params()


def test_all_codes_listed():
    assert CODES == (
        "negation",
        "quantifier",
        "lexical",
        "insert",
        "delete",
        "restructure",
        "shuffle",
        "entity",
    )
    assert tokens("It isn't good.") == ["It", "isn't", "good", "."]


# scikit-learn's common checks generate numeric 2-D data, which these text
# estimators do not take (their tags say string input); the data-independent
# checks run here and the contract on sentences below.
TEXT_ESTIMATORS = [
    NGramLanguageModel(),
    TextPerturber(random_state=0),
    CounterfactualAugmenter(random_state=0),
]


@pytest.mark.parametrize("estimator", TEXT_ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(
    "check",
    [
        check_estimator_cloneable,
        check_estimator_repr,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_param_validation,
    ],
    ids=lambda c: c.__name__,
)
def test_data_independent_common_checks(estimator, check):
    check(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", TEXT_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_contract_on_sentences(estimator, corpus):
    X, y = corpus
    X, y = X[:300], y[:300]
    if hasattr(estimator, "perturb"):
        with pytest.raises(NotFittedError):
            estimator.perturb(X)
    elif hasattr(estimator, "score_samples"):
        with pytest.raises(NotFittedError):
            estimator.score_samples(X)
    before = X.copy()
    est = clone(estimator)
    if hasattr(est, "fit_resample"):
        first = est.fit_resample(X, y)
        again = est.fit_resample(X, y)  # idempotent
        pd.testing.assert_series_equal(first[0], again[0])
        pd.testing.assert_series_equal(first[1], again[1])
        with pytest.raises(ValueError, match="requires y"):
            clone(est).fit(X, None)
    else:
        assert est.fit(X, y) is est
        out = _output(est, X)
        est.fit(X, y)
        _equal(_output(est, X), out)
        _equal(_output(pickle.loads(pickle.dumps(est)), X), out)
        with pytest.raises(ValueError, match="Wrap it in a list"):
            _output(est, "one sentence")
        with pytest.raises(ValueError, match="element 1 is 3"):
            _output(est, ["fine", 3])
    pd.testing.assert_series_equal(X, before)  # input untouched


def _output(est, X):
    return est.perturb(X) if hasattr(est, "perturb") else est.score_samples(X)


def _equal(a, b):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        np.testing.assert_array_equal(a, b)


def test_edits_keep_the_sentence_verbatim_outside_the_edit():
    texts = ["My headset works just peachy-keen for $11.99 - great!"] * 3
    p = TextPerturber(codes=("lexical", "insert", "delete"), random_state=0).fit(
        texts, [1, 1, 1]
    )
    edits = p.perturb(texts[:1])
    assert len(edits) > 0
    for text, rule in zip(edits["text"], edits["rule"]):
        assert "$11.99 - " in text
        assert "peachy-keen" in text or "peachy" in rule or "keen" in rule


_WORDS = [
    "the",
    "food",
    "is",
    "isn't",
    "not",
    "good",
    "bad",
    "very",
    "and",
    "John",
    "never",
    "all",
    "some",
    "it",
    "it's",
    "was",
    "great",
    "service",
    "!",
    ".",
    ",",
    "3",
    "no",
    "I",
    "love",
    "hate",
    "can't",
    "é",
    "$11.99",
    "peachy-keen",
]


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.sampled_from(_WORDS), min_size=0, max_size=12),
    seps=st.lists(
        st.sampled_from([" ", "  ", "\t", "\n", ""]), min_size=12, max_size=12
    ),
)
def test_perturb_never_fails_and_edits_stay_local(words, seps):
    text = "".join(w + s for w, s in zip(words, seps))
    edits = _FUZZ.perturb([text])
    assert (edits["text"] != text).all()
    assert np.isfinite(edits["fluency"]).all()
    for edited in edits["text"]:
        # an edit changes words, not only the spacing around them
        assert tokens(edited) != tokens(text)


_FUZZ = TextPerturber(random_state=0).fit(
    ["the food is good and the service was great .", "I hate it, it's bad !"] * 3,
    [1, 0] * 3,
)
