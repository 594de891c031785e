"""End to end: CCE finds a spurious concept injected into one class."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skcfx import ConceptCAV
from skcfx.concepts import conceptual_counterfactuals, layer_activations, mlp_head, tcav
from skcfx.datasets import add_digit_concept, make_digit_concepts

pytest.importorskip("torch")

SPURIOUS, CLASS, LAYER = "corner_patch", 3, 1


@pytest.fixture(scope="module")
def setting():
    digits = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(
        digits.data,
        digits.target,
        test_size=0.4,
        stratify=digits.target,
        random_state=0,
    )
    bank = make_digit_concepts(concept_rate=0.5, random_state=1)
    return digits, X_tr, X_te, y_tr, y_te, bank


def _explain(setting, inject):
    digits, X_tr, X_te, y_tr, y_te, bank = setting
    X = X_tr.copy()
    if inject:
        X[y_tr == CLASS] = add_digit_concept(X[y_tr == CLASS], SPURIOUS)
    model = MLPClassifier((64, 32), max_iter=600, random_state=0).fit(X / 16, y_tr)
    A_bank = layer_activations(model, bank.data / 16, LAYER)
    cavs = ConceptCAV(method="svm", random_state=0).fit(A_bank, bank.concepts)
    head = mlp_head(model, LAYER)
    A_te = layer_activations(model, X_te / 16, LAYER)
    pred = model.predict(X_te / 16)
    mistakes = np.flatnonzero((y_te == CLASS) & (pred != CLASS))
    cce = conceptual_counterfactuals(
        head, cavs, A_te[mistakes], np.full(len(mistakes), CLASS)
    )
    top = np.asarray(cavs.concept_names_)[cce.ranking[:, 0]]
    # TCAV on the first hidden layer: the head above the last one is linear
    A_bank0 = layer_activations(model, bank.data / 16, 0)
    sets = {c: A_bank0[bank.concepts[c].to_numpy() == 1] for c in cavs.concept_names_}
    tc = tcav(
        mlp_head(model, 0),
        sets,
        layer_activations(model, X_te[y_te == CLASS] / 16, 0),
        CLASS,
        random_activations=layer_activations(model, digits.data / 16, 0),
        random_state=0,
    )
    return mistakes, top, cce, tc


def test_cce_blames_the_injected_concept(setting):
    mistakes, top, cce, _ = _explain(setting, inject=True)
    assert len(mistakes) > 30  # the model relies on the patch for its 3s
    assert np.mean(top == SPURIOUS) > 0.8
    assert cce.success.mean() > 0.7


def test_control_model_is_not_blamed(setting):
    mistakes, top, _, tc = _explain(setting, inject=False)
    assert len(mistakes) < 10
    assert np.mean(top == SPURIOUS) < 0.5 if len(mistakes) else True
    # TCAV's test flags at most a minority of concepts on the control model
    assert tc.frame.significant.sum() <= len(tc.frame) // 2
