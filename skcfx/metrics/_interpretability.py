"""IM1 and IM2: how much a counterfactual looks like its new class's data."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_array

__all__ = ["im1", "im2"]


def _reconstruct(autoencoder, X):
    """Reconstruction of the flattened rows ``X`` by an autoencoder."""
    if hasattr(autoencoder, "inverse_transform") and hasattr(autoencoder, "transform"):
        out = autoencoder.inverse_transform(autoencoder.transform(X))
    elif hasattr(autoencoder, "predict"):
        out = autoencoder.predict(X)
    elif callable(autoencoder):
        try:
            import torch
        except ImportError:  # pragma: no cover - torch is an optional extra
            torch = None
        if torch is not None and isinstance(autoencoder, torch.nn.Module):
            with torch.no_grad():
                out = autoencoder(torch.as_tensor(X, dtype=torch.float32)).numpy()
        else:
            out = autoencoder(X)
    else:
        raise TypeError(
            "An autoencoder must be a callable, a torch module, an estimator "
            "with transform and inverse_transform (e.g. PCA), or one with "
            f"predict; got {type(autoencoder).__name__}."
        )
    out = np.asarray(out, dtype=np.float64).reshape(len(X), -1)
    if out.shape != X.shape:
        raise ValueError(
            f"The autoencoder returned shape {out.shape} for input of shape "
            f"{X.shape}; it must reconstruct its input."
        )
    return out


def _rows(counterfactuals):
    X = np.asarray(counterfactuals, dtype=np.float64)
    return check_array(X.reshape(len(X), -1), input_name="counterfactuals")


_AE = [callable, object]


@validate_params(
    {
        "counterfactuals": ["array-like"],
        "autoencoder_target": _AE,
        "autoencoder_original": _AE,
        "average": ["boolean"],
        "eps": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def im1(
    counterfactuals, autoencoder_target, autoencoder_original, *, average=True, eps=1e-6
):
    """IM1: reconstruction error by the target class's autoencoder, relative.

    ``IM1(c) = ||c - AE_t(c)||^2 / (||c - AE_o(c)||^2 + eps)``, with
    ``AE_t`` an autoencoder trained on the counterfactual's (desired) class
    and ``AE_o`` one trained on the query's original class (Van Looveren
    and Klaise, 2021). Below 1, the counterfactual is better explained by
    the data of its new class than by that of its old one: lower is more
    interpretable.

    Parameters
    ----------
    counterfactuals : array-like of shape (n, ...)
        Counterfactual instances (images are flattened per row).
    autoencoder_target, autoencoder_original : autoencoder
        A callable or torch module mapping rows to reconstructions, an
        estimator with ``transform`` and ``inverse_transform`` (e.g.
        :class:`~sklearn.decomposition.PCA` fitted on one class), or one
        with ``predict`` (e.g. an ``MLPRegressor`` fitted to reproduce its
        input).
    average : bool, default=True
        Mean over rows, or the per-row values.
    eps : float, default=1e-6
        Guards the division.

    Returns
    -------
    float or ndarray of shape (n,)

    References
    ----------
    .. [1] A. Van Looveren and J. Klaise, "Interpretable Counterfactual
       Explanations Guided by Prototypes", ECML PKDD 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skcfx.metrics import im1
    >>> rng = np.random.RandomState(0)
    >>> a = rng.standard_normal((50, 3)) * [1, 0, 0]   # class a: along x
    >>> b = rng.standard_normal((50, 3)) * [0, 1, 0]   # class b: along y
    >>> pca_a, pca_b = PCA(1).fit(a), PCA(1).fit(b)
    >>> im1([[0.0, 2.0, 0.0]], pca_b, pca_a) < 1   # looks like class b
    True
    """
    X = _rows(counterfactuals)
    num = np.sum((X - _reconstruct(autoencoder_target, X)) ** 2, axis=1)
    den = np.sum((X - _reconstruct(autoencoder_original, X)) ** 2, axis=1) + eps
    values = num / den
    return float(values.mean()) if average else values


@validate_params(
    {
        "counterfactuals": ["array-like"],
        "autoencoder_target": _AE,
        "autoencoder": _AE,
        "average": ["boolean"],
        "eps": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def im2(counterfactuals, autoencoder_target, autoencoder, *, average=True, eps=1e-6):
    """IM2: agreement of the target class's and the all-data autoencoders.

    ``IM2(c) = ||AE_t(c) - AE(c)||^2 / (||c||_1 + eps)``, with ``AE_t``
    trained on the counterfactual's class and ``AE`` on all classes (Van
    Looveren and Klaise, 2021). Lower is more interpretable: the
    counterfactual looks like data of its class as much as like data in
    general.

    Parameters
    ----------
    counterfactuals : array-like of shape (n, ...)
        Counterfactual instances (images are flattened per row).
    autoencoder_target, autoencoder : autoencoder
        As in :func:`im1`.
    average : bool, default=True
        Mean over rows, or the per-row values.
    eps : float, default=1e-6
        Guards the division.

    Returns
    -------
    float or ndarray of shape (n,)
    """
    X = _rows(counterfactuals)
    diff = _reconstruct(autoencoder_target, X) - _reconstruct(autoencoder, X)
    values = np.sum(diff**2, axis=1) / (np.sum(np.abs(X), axis=1) + eps)
    return float(values.mean()) if average else values
