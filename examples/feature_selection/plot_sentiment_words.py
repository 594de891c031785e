"""
=================================================
The words behind a sentiment prediction (L2X)
=================================================

A bag-of-words sentiment classifier on the bundled review sentences (amazon,
imdb and yelp). :class:`~skcfx.L2XSelector` learns, once, which ``k`` words of
each sentence carry the classifier's prediction; afterwards explaining a
sentence is one forward pass. The post-hoc accuracy (does the classifier say
the same thing when it sees only the selected words?) is reported against k.
"""

# %%
# A CountVectorizer pipeline
# --------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skcfx import L2XSelector
from skcfx.datasets import load_sentiment
from skcfx.feature_selection import highlight_words, plot_text_selection

texts, labels = load_sentiment(return_X_y=True)
train_text, test_text, y_train, y_test = train_test_split(
    texts.to_numpy(dtype=object), labels.to_numpy(), test_size=0.3, random_state=0
)
vectorizer = CountVectorizer(binary=True, min_df=2)
X_train = vectorizer.fit_transform(train_text).toarray().astype(np.float32)
X_test = vectorizer.transform(test_text).toarray().astype(np.float32)
words = vectorizer.get_feature_names_out()
model = LogisticRegression(C=2.0, max_iter=1000).fit(X_train, y_train)
print(f"{len(words)} words; classifier accuracy {model.score(X_test, y_test):.3f}")

# %%
# Post-hoc accuracy against k
# ---------------------------
# Word counts: the baseline is 0, an absent word. Keeping an absent word (a 0)
# or replacing it by the baseline 0 gives the
# same row, so ``ignore_baseline_entries=True`` makes the selector spend its k
# selections on words that occur in the sentence.
selectors = {}
for k in (1, 2, 3, 5):
    selectors[k] = L2XSelector(
        FrozenEstimator(model),
        k=k,
        baseline="zero",  # an absent word
        ignore_baseline_entries=True,
        explainer_hidden_layer_sizes=(100,),
        approximator_hidden_layer_sizes=(100,),
        max_epochs=20,
        batch_size=64,
        random_state=0,
    ).fit(X_train, y_train)
    acc = selectors[k].score(X_test) + selectors[k].k_penalty * k
    print(f"k={k}: post-hoc accuracy {acc:.3f}")

# %%
# The selected words
# ------------------
selector = selectors[3]
rows = np.arange(8)
mask = selector.explain(X_test[rows]).mask
kept = mask & (X_test[rows] > 0)  # shorter sentences have fewer than k words
for sentence, label in zip(highlight_words(test_text[rows], kept, words), y_test):
    print(f"{'+' if label else '-'} {sentence}")

plot_text_selection(test_text[rows], kept, words)
plt.title("L2X, k=3: selected words")
plt.tight_layout()
plt.show()
