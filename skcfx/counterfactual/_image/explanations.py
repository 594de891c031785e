"""Result object of :meth:`ImageCounterfactualExplainer.explain`."""

import numpy as np
import pandas as pd

from skcfx.counterfactual._base import STATUS, BaseCounterfactualExplanations

__all__ = ["ImageCounterfactualExplanations"]


class ImageCounterfactualExplanations(BaseCounterfactualExplanations):
    """Counterfactual images of a batch of query images.

    Returned by :meth:`ImageCounterfactualExplainer.explain`; not built by
    hand. Shares the API of every skcfx result (``status``, ``owner``,
    ``rank``, ``valid``, :meth:`best_index`, :meth:`validity`,
    :meth:`coverage`, :meth:`score`, ``to_frame()``, ``metrics``,
    ``plot()``).

    Attributes
    ----------
    queries : ndarray of shape (n_queries, ...)
        The query images (a copy).
    counterfactuals : ndarray of shape (n_counterfactuals, ...)
        One counterfactual image per query that needed one, in the order of
        ``owner``; the image itself where the search did not reach the
        desired class (``valid`` False).
    pixel_bounds : tuple of float
        The admissible pixel range ``(low, high)``.

    Notes
    -----
    The fixed-ruler cost of :meth:`score` is the mean absolute pixel change
    in units of the pixel range plus the fraction of pixels changed by more
    than 1% of the range.
    """

    def __init__(self, *, queries, counterfactuals, pixel_bounds, **common):
        self.queries = queries
        self.counterfactuals = counterfactuals
        self.pixel_bounds = tuple(float(v) for v in pixel_bounds)
        self._init_common(**common)

    @property
    def delta(self):
        """Counterfactual minus query image, per counterfactual."""
        return self.counterfactuals - self.queries[self.owner]

    def _flat_delta(self):
        lo, hi = self.pixel_bounds
        span = hi - lo if hi > lo else 1.0
        return np.abs(self.delta).reshape(len(self.owner), -1) / span

    def _row_keys(self):
        flat = np.round(self.counterfactuals.reshape(len(self.owner), -1), 6)
        return [row.tobytes() for row in flat]

    def _cost(self):
        d = self._flat_delta()
        if d.shape[1] == 0:
            return np.zeros(len(d))
        return d.mean(axis=1) + (d > 0.01).mean(axis=1)

    def best(self):
        """Best counterfactual image of each query.

        Returns
        -------
        images : ndarray of shape (n_queries, ...)
            The valid counterfactual of each query; the query itself where
            it already has the desired class; NaN where none was found.
        """
        out = np.array(self.queries, dtype=float, copy=True)
        best = self.best_index()
        has = best >= 0
        out[has] = self.counterfactuals[best[has]]
        out[~has & (self.status != STATUS["already"])] = np.nan
        return out

    def to_frame(self):
        """One row per counterfactual image.

        Returns
        -------
        frame : DataFrame
            ``query`` (the query's index label), ``rank``, ``prediction``,
            ``probability`` (of the prediction), ``valid``, ``l1`` and
            ``l2`` (of the change, in pixel units) and ``changed_fraction``
            (pixels changed by more than 1% of the pixel range). The images
            themselves are in ``counterfactuals``.
        """
        delta = self.delta.reshape(len(self.owner), -1)
        return pd.DataFrame(
            {
                "query": self.index[self.owner].to_numpy(),
                "rank": self.rank,
                "prediction": self.prediction,
                "probability": self.probability,
                "valid": self.valid,
                "l1": np.abs(delta).sum(axis=1),
                "l2": np.sqrt((delta**2).sum(axis=1)),
                "changed_fraction": (self._flat_delta() > 0.01).mean(axis=1)
                if delta.shape[1]
                else np.zeros(len(delta)),
            }
        )

    @property
    def metrics(self):
        """Per-query metrics as a DataFrame indexed like the queries:
        ``status``, ``valid``, ``l1``, ``l2``, ``changed_fraction`` (of the
        best counterfactual; NaN where none)."""
        frame = self.to_frame()
        best = self.best_index()
        out = pd.DataFrame(
            {"status": self.status, "valid": best >= 0}, index=self.index
        )
        for col in ("l1", "l2", "changed_fraction"):
            values = np.full(self.n_queries, np.nan)
            values[best >= 0] = frame[col].to_numpy()[best[best >= 0]]
            out[col] = values
        return out

    @property
    def summary(self):
        """Aggregate metrics: validity, coverage and the mean ``l1``, ``l2``
        and ``changed_fraction`` of valid counterfactuals."""
        frame = self.to_frame()[self.valid]
        return {
            "n_queries": self.n_queries,
            "validity": self.validity(),
            "coverage": self.coverage(),
            "l1": float(frame["l1"].mean()) if len(frame) else float("nan"),
            "l2": float(frame["l2"].mean()) if len(frame) else float("nan"),
            "changed_fraction": float(frame["changed_fraction"].mean())
            if len(frame)
            else float("nan"),
        }

    def plot(self, rows=None, *, image_shape=None, titles=None, axes=None, **kwargs):
        """Query, counterfactual and difference side by side, one row per
        shown query (see :func:`plot_image_counterfactuals`).

        Parameters
        ----------
        rows : array-like of int, default=None
            Positions of the queries to show (those with a counterfactual
            image by default).
        image_shape : tuple of int, default=None
            ``(height, width)``; inferred for square images.
        titles : list of str, default=None
            One caption per shown query.
        axes : ndarray of matplotlib Axes, default=None
            Where to draw.
        **kwargs
            Passed to :func:`plot_image_counterfactuals` (``cmap``,
            ``colorbar``).

        Returns
        -------
        axes : ndarray of matplotlib Axes of shape (n_shown, 3)
        """
        from skcfx.counterfactual._image.plot import plot_image_counterfactuals

        if rows is None:
            rows = np.unique(self.owner)
        return plot_image_counterfactuals(
            self.queries,
            self,
            rows=rows,
            image_shape=image_shape,
            titles=titles,
            axes=axes,
            **kwargs,
        )

    def __repr__(self):
        found, n_valid = self._status_counts()
        return (
            f"<ImageCounterfactualExplanations: {self.n_queries} queries, "
            f"{found} with counterfactuals, {n_valid} valid>"
        )
