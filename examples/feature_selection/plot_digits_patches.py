"""
=====================================================
Which patches tell a 3 from an 8? (L2X on digits)
=====================================================

The image experiment of the L2X paper, on scikit-learn's bundled 8x8 digits:
a classifier separates 3s from 8s, and :class:`~skcfx.L2XSelector` learns to
pick, for every image, the ``k`` 2x2 patches that carry the classifier's
decision. Patches are given as ``feature_groups`` so the selector chooses
whole patches rather than single pixels.
"""

# %%
# A 3-vs-8 classifier
# -------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skcfx import L2XSelector
from skcfx.feature_selection import image_patch_groups, plot_image_selection
from skcfx.metrics import posthoc_accuracy

digits = load_digits()
keep = np.isin(digits.target, [3, 8])
X, y = digits.data[keep] / 16.0, digits.target[keep]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
model = MLPClassifier((64,), max_iter=2000, random_state=0).fit(X_train, y_train)
print(f"classifier accuracy on held-out images: {model.score(X_test, y_test):.3f}")

# %%
# Learning to explain it
# ----------------------
# Sixteen 2x2 patches; four of them (a quarter of the image) per row. The
# model is frozen: L2X learns from its predicted probabilities.
groups = image_patch_groups((8, 8), (2, 2))
selector = L2XSelector(
    FrozenEstimator(model),
    k=4,
    feature_groups=groups,
    baseline="zero",  # blank paper
    max_epochs=150,
    batch_size=32,
    random_state=0,
).fit(X_train, y_train)
expl = selector.explain(X_test)
print(f"selected patches per image: {expl.group_mask.sum(axis=1).min()}")
acc = posthoc_accuracy(model, X_test, expl.mask, baseline=selector.baseline_)
print(f"post-hoc accuracy of the 4 selected patches: {acc:.3f}")

# The same number of patches chosen at random, for comparison.
rng = np.random.RandomState(0)
random_groups = np.argsort(rng.random_sample(expl.group_mask.shape), axis=1)[:, :4]
random_mask = np.zeros_like(expl.mask)
for row, chosen in enumerate(random_groups):
    for g in chosen:
        random_mask[row, groups[g]] = True
print(
    "post-hoc accuracy of 4 random patches: "
    f"{posthoc_accuracy(model, X_test, random_mask):.3f}"
)

# %%
# The selected patches
# --------------------
# Red marks the kept pixels; everything else is set to 0 before the
# classifier is asked again.
rows = np.r_[np.flatnonzero(y_test == 3)[:4], np.flatnonzero(y_test == 8)[:4]]
titles = [
    f"{label} -> {pred}"
    for label, pred in zip(
        y_test[rows], model.predict(selector.transform(X_test[rows]))
    )
]
plot_image_selection(X_test[rows], expl.mask[rows], titles=titles)
plt.suptitle("L2X: 4 patches per image (true -> prediction on the patches)")
plt.tight_layout()
plt.show()
