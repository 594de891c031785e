"""
=========================================================
Word-level counterfactuals for a sentiment classifier
=========================================================

A bag-of-words sentiment classifier on the bundled review sentences (amazon,
imdb and yelp). :class:`~skcfx.TextCounterfactualExplainer` finds, for
each sentence, the fewest word-level edits (replace a sentiment-bearing word,
insert "not", delete a word: CheckList-style perturbations) after which the
classifier changes its mind. The edits also show what the model relies on:
when the only way to flip a sentence is to change a word like "the", the
model has no real reason for its answer. The explainer is an estimator: it
learns the model's vocabulary and single-word predictions once in ``fit``,
keeps the caller's index labels, and tunes with ``GridSearchCV``.
"""

# %%
# The classifier
# --------------
import time

import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skcfx import TextCounterfactualExplainer
from skcfx.datasets import load_sentiment

texts, labels = load_sentiment(return_X_y=True)
train_text, test_text, y_train, y_test = train_test_split(
    texts, labels, test_size=0.3, random_state=0
)
model = make_pipeline(
    CountVectorizer(binary=True, min_df=2), LogisticRegression(C=2.0, max_iter=1000)
).fit(train_text, y_train)
print(f"accuracy on held-out sentences: {model.score(test_text, y_test):.3f}")

# %%
# Counterfactuals for 100 held-out sentences
# ------------------------------------------
# All sentences are searched together: each round of the beam search scores
# every candidate edit of every sentence with one ``predict_proba`` call.
queries = test_text[:100]  # a Series: its index labels are kept
explainer = TextCounterfactualExplainer(
    FrozenEstimator(model), n_counterfactuals=2, max_edits=3
).fit(train_text)
start = time.perf_counter()
expl = explainer.explain(queries)
elapsed = time.perf_counter() - start
cf = expl.to_frame()
print(
    f"{elapsed:.2f} s for {len(queries)} sentences; a counterfactual for "
    f"{expl.coverage():.0%} of them, {cf['n_edits'].mean():.2f} edits on average"
)

# %%
# A few of them
# -------------
pd.set_option("display.max_colwidth", 80)
pd.set_option("display.width", 200)
for label in queries.index[:5]:
    print(f"\n{queries[label]!r} -> {model.predict([queries[label]])[0]}")
    print(cf[cf["query"] == label][["text", "edits", "prediction"]].to_string())

# %%
# Negation only
# -------------
# Restricting the edits to inserting "not" asks a CheckList question: does
# the classifier understand negation? A bag-of-words model barely does.
negation = explainer.set_params(operations=("negate",), max_edits=2)
neg = negation.explain(queries)
print(
    f"\nnegation alone flips {neg.coverage():.0%} of the sentences "
    "(within two insertions of 'not')"
)
