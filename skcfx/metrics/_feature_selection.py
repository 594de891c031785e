"""Quality criteria of instance-wise feature selection (L2X and others)."""

from numbers import Real

import numpy as np
from sklearn.base import is_regressor
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, validate_params
from sklearn.utils.validation import check_array

from skcfx.utils._frozen import unwrap_frozen

__all__ = ["median_rank", "posthoc_accuracy"]


def _rank_rows(scores, rng):
    """Rank of each entry within its row, 1 = highest score, random ties."""
    n, d = scores.shape
    tiebreak = rng.random_sample((n, d))
    # lexsort sorts by the last key first: descending score, then a random key.
    order = np.lexsort((tiebreak, -scores), axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, d + 1)[None, :], axis=1)
    return ranks


@validate_params(
    {
        "relevant": ["array-like"],
        "scores": ["array-like"],
        "average": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def median_rank(relevant, scores, *, average=True, random_state=None):
    """Median rank of the truly relevant features, as in the L2X paper.

    Each row's features are ranked by ``scores`` (rank 1 = highest score;
    equal scores are put in a random order, drawn from ``random_state``).
    The row's figure is the median of the ranks of its relevant features;
    lower is better, and the optimum with ``r`` relevant features is
    ``(r + 1) / 2`` (1.5 for two features, 2.5 for four, 3 for five).

    Read more in the :ref:`User Guide <l2x>`.

    Parameters
    ----------
    relevant : array-like of shape (n_samples, n_features), dtype=bool
        Ground truth: True for the features that determine each row's label
        (for example the third output of
        :func:`~skcfx.datasets.make_l2x_synthetic`). Every row needs at least
        one.
    scores : array-like of shape (n_samples, n_features)
        Importance of each feature of each row, higher = more important: the
        ``scores`` of :meth:`~skcfx.L2XSelector.explain`, absolute SHAP values,
        or a 0/1 selection mask (whose ties are then broken at random).
    average : bool, default=True
        If True, return the mean over rows (the figure reported in the
        paper's tables); if False, the per-row medians.
    random_state : int, RandomState instance or None, default=None
        Seed of the tie-breaking order.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean of the per-row median ranks, or the per-row medians.

    Examples
    --------
    >>> import numpy as np
    >>> from skcfx.metrics import median_rank
    >>> relevant = np.array([[True, True, False, False]])
    >>> median_rank(relevant, np.array([[0.9, 0.1, 0.5, 0.0]]))
    2.0
    """
    relevant = check_array(relevant, dtype=bool, input_name="relevant")
    scores = check_array(scores, dtype=np.float64, input_name="scores")
    if relevant.shape != scores.shape:
        raise ValueError(
            f"relevant has shape {relevant.shape} but scores has shape "
            f"{scores.shape}; they must match."
        )
    empty = np.flatnonzero(~relevant.any(axis=1))
    if len(empty):
        raise ValueError(
            f"Row {empty[0]} of relevant has no relevant feature; every row "
            "needs at least one."
        )
    ranks = _rank_rows(scores, check_random_state(random_state)).astype(np.float64)
    ranks[~relevant] = np.nan
    medians = np.nanmedian(ranks, axis=1)
    return float(medians.mean()) if average else medians


@validate_params(
    {
        "estimator": [HasMethods(["predict"])],
        "X": ["array-like"],
        "mask": ["array-like"],
        "baseline": ["array-like", Real],
    },
    prefer_skip_nested_validation=True,
)
def posthoc_accuracy(estimator, X, mask, *, baseline=0.0):
    r"""Fraction of rows whose prediction survives keeping only the selection.

    The L2X paper's fidelity criterion: the unselected entries of each row
    are replaced by ``baseline`` and the fitted ``estimator`` is re-run;
    post-hoc accuracy is the fraction of rows whose prediction equals the
    prediction on the full row. Both predictions are made in one batched
    call each.

    Read more in the :ref:`User Guide <l2x>`.

    Parameters
    ----------
    estimator : fitted classifier with ``predict``
        The model being explained (a regressor is refused: see
        :meth:`skcfx.L2XSelector.score` for its R\ :sup:`2`).
    X : array-like of shape (n_samples, n_features)
        The rows (numeric; missing values, for a model that handles them,
        stay missing where selected).
    mask : array-like of shape (n_samples, n_features), dtype=bool
        True for the kept (selected) entries.
    baseline : float or array-like of shape (n_features,), default=0.0
        Value that replaces an unselected entry (0 as in the paper, or a
        per-feature mean).

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skcfx.metrics import posthoc_accuracy
    >>> X = np.array([[-2.0, 0.1], [-1.0, -0.2], [1.0, 0.3], [2.0, -0.1]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> posthoc_accuracy(clf, X, np.array([[True, False]] * 4))
    1.0
    """
    if hasattr(estimator, "__sklearn_tags__") and is_regressor(estimator):
        raise ValueError(
            f"posthoc_accuracy compares predicted classes; "
            f"{type(unwrap_frozen(estimator)).__name__} is a regressor "
            f"(L2XSelector.score gives the R^2 of the masked rows' predictions)."
        )
    X_in = X
    # missing values go to the model as they are (it may impute them)
    X = check_array(X, dtype=np.float64, input_name="X", ensure_all_finite="allow-nan")
    mask = check_array(mask, dtype=bool, input_name="mask")
    if mask.shape != X.shape:
        raise ValueError(
            f"mask has shape {mask.shape} but X has shape {X.shape}; they must match."
        )
    baseline = np.broadcast_to(np.asarray(baseline, dtype=np.float64), X.shape[1:])
    masked = np.where(mask, X, baseline)
    if len(X) == 0:
        return 0.0
    if hasattr(X_in, "columns"):
        # Keep the caller's column names so a model fitted on a frame sees one.
        masked = X_in.__class__(masked, columns=X_in.columns, index=X_in.index)
    else:
        X_in = X
    full = np.asarray(estimator.predict(X_in))
    kept = np.asarray(estimator.predict(masked))
    return float(np.mean(full == kept))
