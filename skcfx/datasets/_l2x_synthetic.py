"""The four synthetic data sets of the L2X paper, with their true features."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["make_l2x_synthetic"]

L2X_SYNTHETIC_K = {"xor": 2, "orange_skin": 4, "nonlinear_additive": 4, "switch": 5}


def _xor_logit(X):
    return X[:, 0] * X[:, 1]


def _orange_logit(X):
    return np.sum(X[:, :4] ** 2, axis=1) - 4.0


def _additive_logit(X, variant):
    if variant == "paper":
        return (
            -100.0 * np.sin(2.0 * X[:, 0])
            + 2.0 * np.abs(X[:, 1])
            + X[:, 2]
            + np.exp(-X[:, 3])
        )
    return (
        -100.0 * np.sin(0.2 * X[:, 0])
        + np.abs(X[:, 1])
        + X[:, 2]
        + np.exp(-X[:, 3])
        - 2.4
    )


@validate_params(
    {
        "name": [StrOptions(set(L2X_SYNTHETIC_K))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 10, None, closed="left")],
        "noise": ["boolean"],
        "variant": [StrOptions({"code", "paper"})],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_l2x_synthetic(
    name,
    n_samples=1000,
    *,
    n_features=10,
    noise=True,
    variant="code",
    random_state=None,
):
    """Generate one of the four synthetic data sets of the L2X paper.

    Every feature is drawn from a standard normal distribution (except the
    switch feature, see below) and the label follows a logistic model whose
    logit depends on a few features only; those features are the ground
    truth an instance-wise feature selector should find. With ``s`` the
    logit below, ``P(y = 1 | x) = 1 / (1 + exp(s))`` as in the paper:

    - ``"xor"``: ``s = x0 * x1``; true features {0, 1} (use ``k=2``).
    - ``"orange_skin"``: ``s = x0^2 + x1^2 + x2^2 + x3^2 - 4``; true features
      {0, 1, 2, 3} (``k=4``).
    - ``"nonlinear_additive"``: ``s = -100 sin(0.2 x0) + |x1| + x2 +
      exp(-x3) - 2.4`` (the authors' released code, ``variant="code"``) or
      ``s = -100 sin(2 x0) + 2 |x1| + x2 + exp(-x3)`` (the formula printed
      in the paper, ``variant="paper"``); true features {0, 1, 2, 3}
      (``k=4``).
    - ``"switch"``: ``x0`` is drawn from an equal mixture of ``N(3, 1)`` and
      ``N(-3, 1)``. Rows from the component at +3 follow the orange-skin
      model on features 1-4, rows from the component at -3 the nonlinear
      additive model on features 5-8. The true features of a row are 0 plus
      its block (``k=5``), so they differ between rows: this is the data
      set that tests instance-wise selection.

    Read more in the :ref:`User Guide <l2x>`.

    Parameters
    ----------
    name : {"xor", "orange_skin", "nonlinear_additive", "switch"}
        Which data set.
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=10
        Number of columns (at least 10); the columns beyond the true features
        are pure noise.
    noise : bool, default=True
        If True, labels are drawn from ``P(y = 1 | x)`` (the paper's
        generative model, so the Bayes accuracy is below 1). If False, the
        label is the more probable class.
    variant : {"code", "paper"}, default="code"
        Which nonlinear-additive logit (also used by the additive rows of
        ``"switch"``): the released code's, with which the paper's figures
        were produced, or the one printed in the paper. With the paper's
        ``sin(2 x0)`` term of amplitude 100 the label is decided by ``x0``
        on all but a few percent of the rows, so a fitted model barely
        depends on ``x1``-``x3`` and no explanation of that model can rank
        them; with the code's ``sin(0.2 x0)`` they decide the label on a
        band of ``x0`` around 0.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws; an int gives the same data every call.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features, float64.
    y : ndarray of shape (n_samples,)
        Binary labels (0 or 1).
    relevant : ndarray of shape (n_samples, n_features), dtype=bool
        ``relevant[i, j]`` is True when feature ``j`` enters the logit of
        row ``i``.

    Notes
    -----
    The authors' released generator places the switch feature last and
    exchanges the feature blocks of the additive rows with
    ``X[:, 4:8], X[:, :4] = X[:, :4], X[:, 4:8]``; on numpy views this
    assignment copies the first block over the second instead of swapping
    them, so in their data the "additive" rows carry duplicated features.
    Here the blocks are generated in place (features 1-4 for orange-skin
    rows, 5-8 for additive rows, as the paper's text describes), so nothing
    is duplicated. The paper's ``k`` for each set is in
    ``skcfx.datasets.L2X_SYNTHETIC_K``.

    References
    ----------
    .. [1] J. Chen, L. Song, M. J. Wainwright and M. I. Jordan, "Learning to
       Explain: An Information-Theoretic Perspective on Model
       Interpretation", ICML 2018.

    Examples
    --------
    >>> from skcfx.datasets import make_l2x_synthetic
    >>> X, y, relevant = make_l2x_synthetic("switch", 6, random_state=0)
    >>> X.shape, relevant.sum(axis=1)
    ((6, 10), array([5, 5, 5, 5, 5, 5]))
    """
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, n_features))
    relevant = np.zeros((n_samples, n_features), dtype=bool)
    if name == "xor":
        logit = _xor_logit(X)
        relevant[:, :2] = True
    elif name == "orange_skin":
        logit = _orange_logit(X)
        relevant[:, :4] = True
    elif name == "nonlinear_additive":
        logit = _additive_logit(X, variant)
        relevant[:, :4] = True
    else:
        orange = rng.random_sample(n_samples) < 0.5
        X[:, 0] += np.where(orange, 3.0, -3.0)
        logit = np.where(
            orange, _orange_logit(X[:, 1:5]), _additive_logit(X[:, 5:9], variant)
        )
        relevant[:, 0] = True
        relevant[orange, 1:5] = True
        relevant[~orange, 5:9] = True
    # P(y = 1 | x) = 1 / (1 + exp(logit)), written stably.
    p1 = 0.5 * (1.0 - np.tanh(0.5 * logit))
    if noise:
        y = (rng.random_sample(n_samples) < p1).astype(np.int64)
    else:
        y = (p1 > 0.5).astype(np.int64)
    return X, y, relevant
