"""Concepts drawn programmatically onto scikit-learn's bundled 8x8 digits."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["DIGIT_CONCEPTS", "add_digit_concept", "make_digit_concepts"]


def _corner_patch(img):
    img[:2, :2] = 16.0


def _bottom_bar(img):
    img[7, 1:7] = 16.0


def _left_bar(img):
    img[1:7, 0] = 16.0


def _thick_stroke(img):
    # a 2x2 maximum filter: every stroke one pixel wider
    grown = img.copy()
    grown[1:, :] = np.maximum(grown[1:, :], img[:-1, :])
    grown[:, 1:] = np.maximum(grown[:, 1:], grown[:, :-1].copy())
    img[:] = grown


def _faint(img):
    img *= 0.5


_DRAW = {
    "corner_patch": _corner_patch,
    "bottom_bar": _bottom_bar,
    "left_bar": _left_bar,
    "thick_stroke": _thick_stroke,
    "faint": _faint,
}
DIGIT_CONCEPTS = tuple(_DRAW)


def add_digit_concept(images, concept):
    """Draw a concept onto 8x8 digit images (returns a new array).

    Parameters
    ----------
    images : array-like of shape (n_images, 64) or (n_images, 8, 8)
        Images with pixel values in [0, 16], as from
        :func:`sklearn.datasets.load_digits`.
    concept : str
        One of ``DIGIT_CONCEPTS``: ``"corner_patch"`` (a bright 2x2 patch in
        the top-left corner), ``"bottom_bar"`` (a horizontal bar on the last
        row), ``"left_bar"`` (a vertical bar on the first column),
        ``"thick_stroke"`` (strokes widened by one pixel) or ``"faint"``
        (half intensity).

    Returns
    -------
    images : ndarray of the input's shape, float64
        The images with the concept drawn; the input is not modified.
    """
    if concept not in _DRAW:
        raise ValueError(f"concept={concept!r} is not one of {list(DIGIT_CONCEPTS)}.")
    out = np.array(images, dtype=np.float64, copy=True)
    shape = out.shape
    grid = out.reshape(-1, 8, 8)
    for img in grid:
        _DRAW[concept](img)
    return grid.reshape(shape)


@validate_params(
    {
        "concept_rate": [Interval(Real, 0, 1, closed="both")],
        "concepts": [list, tuple, None],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_digit_concepts(
    *, concept_rate=0.3, concepts=None, n_repeats=1, random_state=None
):
    """Digits with programmatic concepts, for concept-based explanations.

    Each of scikit-learn's 1,797 bundled 8x8 digit images (repeated
    ``n_repeats`` times) receives each concept independently with
    probability ``concept_rate``; the concept labels say which were drawn.
    Concepts are independent of the digit, so a model trained on these
    images has no reason to use them, unless the user injects one into a
    class (see :func:`add_digit_concept` and the CCE example).

    Read more in the :ref:`User Guide <concepts>`.

    Parameters
    ----------
    concept_rate : float, default=0.3
        Probability that an image receives each concept.
    concepts : list of str or None, default=None
        Which of ``DIGIT_CONCEPTS`` to use (all by default), drawn in this
        order.
    n_repeats : int, default=1
        How many times each digit appears (with independent concepts).
    random_state : int, RandomState instance or None, default=None
        Seed of the concept draws.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (ndarray (n, 64), pixels in [0, 16]), ``images``
        (n, 8, 8), ``target`` (the digit), ``concepts`` (DataFrame of 0/1,
        one column per concept, for :class:`skcfx.ConceptCAV`) and
        ``concept_names``.

    Examples
    --------
    >>> from skcfx.datasets import make_digit_concepts
    >>> d = make_digit_concepts(random_state=0)
    >>> d.data.shape, list(d.concepts.columns)[:2]
    ((1797, 64), ['corner_patch', 'bottom_bar'])
    """
    names = list(DIGIT_CONCEPTS if concepts is None else concepts)
    for name in names:
        if name not in _DRAW:
            raise ValueError(
                f"concepts holds {name!r}, which is not one of {list(DIGIT_CONCEPTS)}."
            )
    digits = load_digits()
    X = np.tile(digits.data, (n_repeats, 1)).astype(np.float64)
    y = np.tile(digits.target, n_repeats)
    rng = check_random_state(random_state)
    labels = (rng.random_sample((len(X), len(names))) < concept_rate).astype(int)
    for j, name in enumerate(names):
        rows = labels[:, j] == 1
        X[rows] = add_digit_concept(X[rows], name)
    np.clip(X, 0.0, 16.0, out=X)
    return Bunch(
        data=X,
        images=X.reshape(-1, 8, 8),
        target=y,
        concepts=pd.DataFrame(labels, columns=names),
        concept_names=names,
    )
