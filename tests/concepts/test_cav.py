"""ConceptCAV: learned directions, concept scores and the bottleneck pipeline."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skcfx import ConceptCAV
from skcfx.exceptions import SkcfxWarning


def _concept_activations(n=2000, d=32, m=4, seed=0):
    """Activations = noise + 3 * (presence of concept j) * u_j, u_j known."""
    rng = np.random.RandomState(seed)
    U = np.linalg.qr(rng.standard_normal((d, m)))[0].T  # orthonormal rows
    C = (rng.random_sample((n, m)) < 0.5).astype(int)
    A = rng.standard_normal((n, d)) + 3.0 * C @ U
    return A, C, U


@pytest.mark.parametrize("method", ["svm", "logistic", "mean_difference"])
def test_cavs_point_along_the_true_directions(method):
    A, C, U = _concept_activations()
    cav = ConceptCAV(method=method, random_state=0).fit(A, C)
    cosine = np.sum(cav.cavs_ * U, axis=1)
    assert np.all(cosine > 0.95), cosine
    assert_allclose(np.linalg.norm(cav.cavs_, axis=1), 1.0)
    # a margin of 1.5 standard deviations: Bayes accuracy 0.93
    assert np.all(cav.concept_accuracy_ > 0.88)
    # scores: positive for rows that show the concept, on average
    S = cav.transform(A)
    assert np.all(S[C == 1].mean() > 0) and np.all(S[C == 0].mean() < 0)
    lo, hi = cav.margin_range_.T
    assert np.all(lo < 0) and np.all(hi > 0)


def test_frame_labels_names_and_unlabelled_rows():
    A, C, _ = _concept_activations(m=3)
    frame = pd.DataFrame(C, columns=["stripes", "snow", "grass"]).astype(float)
    frame.iloc[:50, 1] = np.nan  # not labelled for "snow"
    frame.iloc[50:60, 2] = -1  # -1 also means not labelled
    cav = ConceptCAV(method="mean_difference").fit(A, frame)
    assert_array_equal(cav.get_feature_names_out(), ["stripes", "snow", "grass"])
    # the unlabelled rows do not enter the mean difference
    rows = 50 + np.flatnonzero(C[50:, 1] == 1)
    neg = 50 + np.flatnonzero(C[50:, 1] == 0)
    w = A[rows].mean(0) - A[neg].mean(0)
    assert_allclose(cav.cavs_[1], w / np.linalg.norm(w))
    out = cav.set_output(transform="pandas").transform(A[:3])
    assert list(out.columns) == ["stripes", "snow", "grass"]


def test_min_concept_accuracy_drops_random_concepts():
    A, C, _ = _concept_activations(m=2)
    rng = np.random.RandomState(1)
    C = np.column_stack([C, rng.randint(0, 2, len(C))])  # a random "concept"
    with pytest.warns(SkcfxWarning, match="1 concept\\(s\\) dropped.*'concept2'"):
        cav = ConceptCAV(min_concept_accuracy=0.7, random_state=0).fit(A, C)
    assert_array_equal(cav.concept_names_, ["concept0", "concept1"])
    assert cav.rejected_concepts_ == ["concept2"]
    assert cav.transform(A).shape == (len(A), 2)
    with pytest.raises(ValueError, match="No concept reaches"):
        ConceptCAV(min_concept_accuracy=1.0, random_state=0).fit(A, C[:, 2:])


def test_class_labels_give_one_concept_per_class():
    A, C, _ = _concept_activations(m=1)
    labels = np.where(C[:, 0] == 1, "dog", "cat")
    cav = ConceptCAV(method="logistic").fit(A, labels)
    assert_array_equal(cav.concept_names_, ["cat", "dog"])
    assert_allclose(cav.cavs_[0], -cav.cavs_[1], atol=1e-6)


def test_bad_labels_are_named():
    A = np.random.RandomState(0).standard_normal((20, 3))
    C = np.zeros((20, 2))
    C[:10, 0] = 1
    C[3, 1] = 2
    with pytest.raises(ValueError, match="C\\[3, 1\\] is 2.0"):
        ConceptCAV().fit(A, C)
    C[3, 1] = 0
    with pytest.raises(ValueError, match="'concept1' needs examples .* 0 and 20"):
        ConceptCAV().fit(A, C)


def test_concept_bottleneck_pipeline_tunes():
    A, C, _ = _concept_activations(m=3)
    target = (C[:, 0] | C[:, 2]).astype(int)
    # the concept layer is fitted on concept labels, then frozen into features
    cav = ConceptCAV(method="mean_difference").fit(A, C)
    search = GridSearchCV(
        make_pipeline(ConceptCAV(), LogisticRegression()),
        {"conceptcav__method": ["svm", "mean_difference"]},
        cv=3,
    ).fit(A, target)
    assert search.best_score_ > 0.85
    bottleneck = LogisticRegression().fit(cav.transform(A), target)
    assert bottleneck.score(cav.transform(A), target) > 0.85
    assert abs(bottleneck.coef_[0, 1]) < abs(bottleneck.coef_[0, 0])


def test_dtype_preserved():
    A, C, _ = _concept_activations(m=2)
    cav = ConceptCAV(method="mean_difference").fit(A, C)
    assert cav.transform(A.astype(np.float32)).dtype == np.float32


@pytest.fixture(scope="module")
def fitted():
    A, C, _ = _concept_activations(d=6, m=3)
    return ConceptCAV(method="logistic", random_state=0).fit(A, C)


@settings(max_examples=40, deadline=None)
@given(
    x=arrays(np.float64, (6,), elements=st.floats(-5, 5)),
    z=arrays(np.float64, (6,), elements=st.floats(-5, 5)),
    alpha=st.floats(-2, 2),
)
def test_property_scores_affine_and_sign_flip(fitted, x, z, alpha):
    cav = fitted
    f = cav.transform(np.vstack([x, z, alpha * x + (1 - alpha) * z]))
    assert_allclose(f[2], alpha * f[0] + (1 - alpha) * f[1], atol=1e-8)
    # moving a row across concept j's boundary along its CAV flips the sign
    for j in range(len(cav.cavs_)):
        s = f[0, j]
        crossed = (
            x - (s + 1.0) * cav.cavs_[j] if s >= 0 else x + (1.0 - s) * cav.cavs_[j]
        )
        s_new = cav.transform(crossed[None, :])[0, j]
        assert np.sign(s_new) == -np.sign(s if s != 0 else 1.0)
        assert_allclose(abs(s_new), 1.0, atol=1e-8)
