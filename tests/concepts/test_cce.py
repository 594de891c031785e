"""Conceptual counterfactuals: the concept that fixes a mistake ranks first."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from skcfx import ConceptCAV
from skcfx.concepts import conceptual_counterfactuals

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def bank():
    """Orthogonal concepts; the head calls class 1 only when 'spurious' shows."""
    rng = np.random.RandomState(0)
    d, m = 16, 4
    U = np.linalg.qr(rng.standard_normal((d, m)))[0].T
    C = (rng.random_sample((1500, m)) < 0.5).astype(int)
    A = rng.standard_normal((1500, d)) * 0.5 + 2.0 * C @ U
    cav = ConceptCAV(method="logistic", random_state=0).fit(A, C)
    head = torch.nn.Linear(d, 2)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.weight[1] = torch.as_tensor(3.0 * U[2], dtype=torch.float32)
        head.bias[1] = -3.0
    return cav, head, A, C


def test_the_missing_concept_ranks_first(bank):
    cav, head, A, C = bank
    # rows of class 1 without the 'spurious' concept 2: the head says 0
    rows = np.flatnonzero(C[:, 2] == 0)[:50]
    y = np.ones(len(rows), dtype=int)
    res = conceptual_counterfactuals(head, cav, A[rows], y)
    assert res.misclassified.mean() > 0.9
    fixed = res.misclassified
    assert res.success[fixed].mean() > 0.9
    assert np.mean(res.ranking[fixed, 0] == 2) > 0.9
    assert np.all(res.weights[fixed, 2] > 0)  # it is added
    # rows the head already gets right are left alone
    right = np.flatnonzero(C[:, 2] == 1)[:10]
    res2 = conceptual_counterfactuals(head, cav, A[right], np.ones(10, dtype=int))
    assert not res2.misclassified.any() and res2.success.all()
    assert_array_equal(res2.weights, 0)


@settings(max_examples=20, deadline=None)
@given(rows=st.lists(st.integers(0, 1499), min_size=1, max_size=8, unique=True))
def test_never_adds_a_present_concept(bank, rows):
    cav, head, A, _ = bank
    X = A[rows]
    y = np.ones(len(rows), dtype=int)
    res = conceptual_counterfactuals(head, cav, X, y, max_iter=30)
    s = cav.transform(X)
    assert np.all(res.weights[s > 0] <= 0)  # present: only removed
    assert np.all(res.weights[s < 0] >= 0)  # absent: only added
    moved = s + res.weights
    lo, hi = cav.margin_range_.T
    assert np.all(moved >= np.minimum(lo, s) - 1e-5)
    assert np.all(moved <= np.maximum(hi, s) + 1e-5)


def test_bad_classes_are_named(bank):
    cav, head, A, _ = bank
    with pytest.raises(ValueError, match="y holds class 3, outside the head's 2"):
        conceptual_counterfactuals(head, cav, A[:3], [3, 0, 1])


def test_scikit_learn_head(bank):
    """An MLPClassifier fitted on the activations is a head as is."""
    import warnings

    from sklearn.neural_network import MLPClassifier

    cav, _, A, C = bank
    y = C[:, 2]  # class 1 exactly when concept 2 shows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier((16,), max_iter=500, random_state=0).fit(A, y)
    rows = np.flatnonzero(C[:, 2] == 0)[:20]
    res = conceptual_counterfactuals(mlp, cav, A[rows], np.ones(20, dtype=int))
    fixed = res.misclassified & res.success
    assert fixed.sum() >= 15
    # concept 2 (the one the model needs) is the one added first
    assert (res.ranking[fixed, 0] == 2).mean() > 0.9
