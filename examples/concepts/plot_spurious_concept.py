"""
==========================================================
Finding a spurious concept with conceptual counterfactuals
==========================================================

A digit classifier is trained on images where every 3 carries a bright patch
in the top-left corner, and no other digit does: a spurious correlation. On
clean test images the classifier then fails on 3s. Conceptual counterfactual
explanations (CCE, Abid et al. 2022) ask, for each mistake, which concepts
would have to be added or removed in the network's hidden layer to fix it;
they point at the corner patch. A control model trained without the patch
makes few mistakes, and CCE does not blame the patch for them.

The concepts are drawn programmatically onto scikit-learn's bundled digits
(:func:`skcfx.datasets.make_digit_concepts`), so nothing is downloaded.
"""

# %%
# Two classifiers: with and without the spurious patch
# ----------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skcfx import ConceptCAV
from skcfx.concepts import (
    conceptual_counterfactuals,
    layer_activations,
    mlp_head,
    plot_cce_weights,
    plot_tcav,
    tcav,
)
from skcfx.datasets import add_digit_concept, make_digit_concepts

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.4, stratify=digits.target, random_state=0
)
SPURIOUS, CLASS, LAYER = "corner_patch", 3, 1


def train(inject):
    X = X_train.copy()
    if inject:
        X[y_train == CLASS] = add_digit_concept(X[y_train == CLASS], SPURIOUS)
    return MLPClassifier((64, 32), max_iter=600, random_state=0).fit(X / 16, y_train)


# Concept examples: digits with concepts drawn independently of the class.
bank = make_digit_concepts(concept_rate=0.5, random_state=1)

results = {}
for name, inject in [("spurious", True), ("control", False)]:
    model = train(inject)
    pred = model.predict(X_test / 16)
    # A concept bank on the second hidden layer, and CCE for the 3s it misses
    A_bank = layer_activations(model, bank.data / 16, LAYER)
    cavs = ConceptCAV(method="svm", random_state=0).fit(A_bank, bank.concepts)
    head = mlp_head(model, LAYER)
    A_test = layer_activations(model, X_test / 16, LAYER)
    mistakes = np.flatnonzero((y_test == CLASS) & (pred != CLASS))
    cce = conceptual_counterfactuals(
        head, cavs, A_test[mistakes], np.full(len(mistakes), CLASS)
    )
    top = np.asarray(cavs.concept_names_)[cce.ranking[:, 0]]
    print(
        f"{name} model: accuracy {np.mean(pred == y_test):.3f}, "
        f"{len(mistakes)} of {np.sum(y_test == CLASS)} clean 3s missed; "
        f"CCE ranks {SPURIOUS!r} first for {np.mean(top == SPURIOUS):.0%} of them "
        f"(fixed: {cce.success.mean():.0%})"
        if len(mistakes)
        else f"{name} model: no 3 missed"
    )
    # TCAV of class 3 for every concept, against 20 random concepts. TCAV
    # needs a nonlinear head: above the last hidden layer there is only the
    # (linear) output layer, whose gradient is the same for every input, so
    # the test runs on the first hidden layer (skcfx warns otherwise).
    A_bank0 = layer_activations(model, bank.data / 16, 0)
    concept_sets = {
        c: A_bank0[bank.concepts[c].to_numpy() == 1] for c in cavs.concept_names_
    }
    tc = tcav(
        mlp_head(model, 0),
        concept_sets,
        layer_activations(model, X_test[y_test == CLASS] / 16, 0),
        CLASS,
        random_activations=layer_activations(model, digits.data / 16, 0),
        random_state=0,
    )
    print(
        f"  TCAV flags {int(tc.frame.significant.sum())} of {len(tc.frame)} "
        "concepts as significant"
    )
    results[name] = (cce, tc)

# %%
# The weights of one mistake, and the TCAV scores
# -----------------------------------------------
cce, tc = results["spurious"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
plot_cce_weights(cce, 0, ax=axes[0])
plot_tcav(tc, ax=axes[1])
axes[1].set_title("TCAV of class 3 (spurious model)", fontsize=9)
plt.tight_layout()
plt.show()
