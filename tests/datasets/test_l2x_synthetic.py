"""The L2X synthetic generators: the labels follow the stated models."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skcfx.datasets import L2X_SYNTHETIC_K, make_l2x_synthetic


@pytest.mark.parametrize("name", sorted(L2X_SYNTHETIC_K))
def test_shapes_truth_and_determinism(name):
    X, y, relevant = make_l2x_synthetic(name, 500, random_state=0)
    assert X.shape == (500, 10) and y.shape == (500,) and relevant.shape == X.shape
    assert set(np.unique(y)) == {0, 1}
    assert_array_equal(relevant.sum(axis=1), np.full(500, L2X_SYNTHETIC_K[name]))
    X2, y2, r2 = make_l2x_synthetic(name, 500, random_state=0)
    assert_array_equal(X, X2) and assert_array_equal(y, y2)
    assert_array_equal(relevant, r2)
    X3, _, _ = make_l2x_synthetic(name, 500, n_features=14, random_state=0)
    assert X3.shape == (500, 14)


def test_noise_free_labels_follow_the_logits():
    X, y, _ = make_l2x_synthetic("xor", 1000, noise=False, random_state=0)
    assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    X, y, _ = make_l2x_synthetic("orange_skin", 1000, noise=False, random_state=0)
    assert_array_equal(y, (np.sum(X[:, :4] ** 2, axis=1) < 4).astype(int))
    X, y, _ = make_l2x_synthetic(
        "nonlinear_additive", 1000, noise=False, variant="paper", random_state=0
    )
    s = -100 * np.sin(2 * X[:, 0]) + 2 * np.abs(X[:, 1]) + X[:, 2] + np.exp(-X[:, 3])
    assert_array_equal(y, (s < 0).astype(int))
    X, y, _ = make_l2x_synthetic(
        "nonlinear_additive", 1000, noise=False, random_state=0
    )
    s = -100 * np.sin(0.2 * X[:, 0]) + np.abs(X[:, 1]) + X[:, 2] + np.exp(-X[:, 3])
    assert_array_equal(y, (s - 2.4 < 0).astype(int))


def test_noisy_labels_match_the_probability():
    X, y, _ = make_l2x_synthetic("xor", 40000, random_state=0)
    p1 = 1 / (1 + np.exp(X[:, 0] * X[:, 1]))
    high = p1 > 0.8
    assert abs(y[high].mean() - p1[high].mean()) < 0.02


def test_switch_uses_distinct_blocks():
    X, y, relevant = make_l2x_synthetic("switch", 2000, noise=False, random_state=1)
    orange = relevant[:, 1]
    # the switch feature comes from N(+3, 1) for orange rows, N(-3, 1) otherwise
    assert X[orange, 0].mean() == pytest.approx(3, abs=0.15)
    assert X[~orange, 0].mean() == pytest.approx(-3, abs=0.15)
    assert np.all(relevant[orange, 1:5]) and not relevant[orange, 5:].any()
    assert np.all(relevant[~orange, 5:9]) and not relevant[~orange, 1:5].any()
    s_orange = np.sum(X[:, 1:5] ** 2, axis=1) - 4
    assert_array_equal(y[orange], (s_orange[orange] < 0).astype(int))
    # unlike the reference generator, the two blocks are not copies
    assert not np.allclose(X[~orange, 1:5], X[~orange, 5:9])


def test_bad_name_is_named():
    with pytest.raises(ValueError, match="'name' parameter"):
        make_l2x_synthetic("xnor", 10)
