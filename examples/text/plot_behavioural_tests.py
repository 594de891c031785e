"""
==================================================================
Behavioural tests and counterfactual augmentation for sentiment
==================================================================

A bag-of-words sentiment classifier on the bundled review sentences is
tested the way CheckList tests NLP models: minimum-functionality sentences
with known labels ("The food is not good." must be negative), invariance
(a name, an intensifier, a contraction must not change the prediction) and
directional expectations (a negation must move the prediction away). The
test cases come from the corpus itself, edited by
:class:`~skcfx.text.TextPerturber`'s control codes. SEAR-style rules show
which meaning-preserving edits flip the model most, and
:class:`~skcfx.text.CounterfactualAugmenter` adds counterfactually edited
training sentences, measured on a held-out contrast set.
"""

# %%
# A classifier and the edits of its corpus
# ----------------------------------------
import matplotlib.pyplot as plt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skcfx.datasets import load_sentiment
from skcfx.testing import make_behavioural_tests
from skcfx.text import CounterfactualAugmenter, TextPerturber, sear_rules

texts, labels = load_sentiment(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    texts, labels, test_size=0.3, random_state=0
)


def make_model():
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=2000),
    )


model = make_model().fit(X_train, y_train)
print(f"held-out accuracy: {model.score(X_test, y_test):.3f}")

perturber = TextPerturber(random_state=0).fit(X_train, y_train)
edits = perturber.perturb(X_test[:3])
print(edits[["text", "code", "rule", "intent", "fluency"]].head(8).to_string())

# %%
# Behavioural tests
# -----------------
# One suite, built once from the held-out sentences, runs on any classifier
# of raw strings. The report gives the failure rate per test type and code,
# with an example failure of each.
suite = make_behavioural_tests(X_test, y_test, perturber=perturber, max_cases=100)
report = suite.run(model)
print(report)

summary = report.summary()
ax = summary["failure_rate"].plot.barh(figsize=(6, 4))
ax.set_xlabel("failure rate")
ax.set_title("Behavioural tests of a TF-IDF + logistic classifier")
plt.tight_layout()

# %%
# SEAR-style rules: meaning-preserving edits that flip the model
# --------------------------------------------------------------
rules = sear_rules(model, X_test, perturber)
print(rules[["rule", "code", "applied", "flips", "flip_rate"]].head(5).to_string())

# %%
# Counterfactual data augmentation
# --------------------------------
# One flip edit per training sentence that has one (negation, antonym or
# quantifier), with the flipped label. The contrast set is built the same
# way from the held-out sentences.
contrast = perturber.contrast_set(
    X_test, y_test, codes=("negation", "lexical", "quantifier"), random_state=0
)
X_aug, y_aug = CounterfactualAugmenter(random_state=0).fit_resample(X_train, y_train)
augmented = make_model().fit(X_aug, y_aug)
print(f"added {len(X_aug) - len(X_train)} edited sentences")
for name, m in [("plain", model), ("augmented", augmented)]:
    print(
        f"{name:>9}: held-out {m.score(X_test, y_test):.3f}, "
        f"contrast set {m.score(contrast['text'], contrast['label']):.3f}"
    )
