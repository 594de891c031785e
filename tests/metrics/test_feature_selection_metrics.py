"""median_rank and posthoc_accuracy on hand-computed cases."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LogisticRegression

from skcfx.metrics import median_rank, posthoc_accuracy


def test_median_rank_by_hand():
    relevant = np.array([[1, 1, 0, 0, 0], [0, 1, 0, 1, 1]], dtype=bool)
    scores = np.array([[5.0, 4, 3, 2, 1], [1.0, 2, 3, 4, 5]])
    # row 0: ranks 1, 2 -> 1.5; row 1: ranks 4, 2, 1 -> 2
    assert median_rank(relevant, scores) == pytest.approx(1.75)
    assert np.allclose(median_rank(relevant, scores, average=False), [1.5, 2.0])


def test_median_rank_optimum_and_worst():
    relevant = np.zeros((3, 10), dtype=bool)
    relevant[:, :4] = True
    best = np.tile(np.arange(10, 0, -1), (3, 1)).astype(float)
    assert median_rank(relevant, best) == 2.5
    assert median_rank(relevant, -best) == 8.5


def test_median_rank_ties_are_random_but_seeded():
    relevant = np.zeros((2000, 10), dtype=bool)
    relevant[:, :2] = True
    flat = np.zeros((2000, 10))
    a = median_rank(relevant, flat, random_state=0)
    assert a == median_rank(relevant, flat, random_state=0)
    # two random positions out of ten: expected median rank 5.5
    assert a == pytest.approx(5.5, abs=0.15)
    # a 0/1 mask that selects the truth ranks it first whatever the ties
    assert median_rank(relevant, relevant.astype(float), random_state=1) == 1.5


@settings(max_examples=50, deadline=None)
@given(
    scores=arrays(np.float64, (4, 6), elements=st.floats(-5, 5)),
    k=st.integers(1, 6),
)
def test_median_rank_bounds(scores, k):
    relevant = np.zeros((4, 6), dtype=bool)
    relevant[:, :k] = True
    per_row = median_rank(relevant, scores, average=False, random_state=0)
    assert np.all(per_row >= (k + 1) / 2) and np.all(per_row <= 6 - (k - 1) / 2)


def test_median_rank_errors():
    with pytest.raises(ValueError, match="relevant has shape \\(2, 3\\) but scores"):
        median_rank(np.ones((2, 3), bool), np.ones((2, 4)))
    with pytest.raises(ValueError, match="Row 1 of relevant has no relevant"):
        median_rank(np.array([[1, 0], [0, 0]], bool), np.ones((2, 2)))


def test_posthoc_accuracy_by_hand():
    X = np.array([[-2.0, 3.0], [-1.0, -3.0], [1.0, 3.0], [2.0, -3.0]])
    clf = LogisticRegression().fit(X[:, :1], [0, 0, 1, 1])

    class OnFirst:
        def predict(self, Z):
            return clf.predict(np.asarray(Z)[:, :1])

    keep_first = np.array([[True, False]] * 4)
    keep_second = ~keep_first
    assert posthoc_accuracy(OnFirst(), X, keep_first) == 1.0
    # without the first feature every row goes to the prediction at x0 = 0 or 5
    assert posthoc_accuracy(OnFirst(), X, keep_second) == 0.5
    assert posthoc_accuracy(OnFirst(), X, keep_second, baseline=[5.0, 0.0]) == 0.5


def test_posthoc_accuracy_keeps_frame_columns():
    df = pd.DataFrame({"a": [-2.0, -1.0, 1.0, 2.0], "b": [1.0, 0.0, 1.0, 0.0]})
    clf = LogisticRegression().fit(df, [0, 0, 1, 1])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        assert posthoc_accuracy(clf, df, np.ones((4, 2), bool)) == 1.0
    with pytest.raises(ValueError, match="mask has shape"):
        posthoc_accuracy(clf, df, np.ones((4, 3), bool))


def test_posthoc_accuracy_names_a_regressor():
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LinearRegression

    X = np.array([[-2.0, 3.0], [-1.0, -3.0], [1.0, 3.0], [2.0, -3.0]])
    reg = LinearRegression().fit(X, [0.1, 0.2, 0.3, 0.4])
    for model in (reg, FrozenEstimator(reg)):
        with pytest.raises(ValueError, match="LinearRegression is a regressor"):
            posthoc_accuracy(model, X, np.ones((4, 2), bool))
