"""A linear model's decision as linear constraints.

Classifiers: the decision function is linear in the model input (its sign
for one score, the arg-max for several); regressors: the prediction itself,
kept in the desired range. Tree ensembles are searched combinatorially
instead (see ``tree_search.py``).
"""

import numpy as np

from skcfx.counterfactual._engine.exact.encoding import UnsupportedModelError
from skcfx.counterfactual._engine.exact.milp import Expr

__all__ = ["Head"]


class Head:
    """The decision of a fitted linear model.

    Attributes
    ----------
    rule : {"sign", "argmax", "value"}
        How outputs become the prediction: the sign of one score (binary
        decision functions), the arg-max of several, or the value itself
        (regression).

    Parameters
    ----------
    head : fitted linear model
    offset : float or None
        A decision threshold's boundary on the binary score (see
        :func:`~skcfx.counterfactual._engine.models.split_threshold`),
        folded into the intercept.
    """

    def __init__(self, head, offset=None):
        if not (hasattr(head, "coef_") and hasattr(head, "intercept_")):
            raise UnsupportedModelError(
                f"{type(head).__name__} is neither a linear model nor a tree "
                'ensemble; method="exact" cannot encode it. Use a heuristic '
                'method ("genetic", "random" or "kdtree").'
            )
        self.head = head
        W = np.atleast_2d(np.asarray(head.coef_, dtype=float))
        b = np.atleast_1d(np.asarray(head.intercept_, dtype=float))
        self.W, self.b = W, b
        classifier = hasattr(head, "classes_")
        self.rule = ("sign" if W.shape[0] == 1 else "argmax") if classifier else "value"
        if offset is not None:
            if self.rule != "sign":
                raise UnsupportedModelError(
                    "A decision threshold needs a binary linear model; "
                    f"{type(head).__name__} has {len(W)} scores."
                )
            # a decision threshold: class 1 from the score ``offset`` on
            self.b = b - offset

    def n_classes(self):
        return 2 if self.rule == "sign" else len(self.W)

    def outputs(self, phi):
        """Score expressions of the model; ``phi(f)`` gives input ``f`` as
        an expression."""
        return [Expr(const=b) + _dot(w, phi, len(w)) for w, b in zip(self.W, self.b)]

    def decide(self, milp, scores, target, eps, low=None, high=None, margin=0.0):
        """Constraints that the prediction is class index ``target`` (or,
        for a regressor, lies in ``[low, high]``, ``margin`` times the
        bounds' size inside it)."""
        if self.rule == "value":
            # a margin inside the range when a solution on a bound was
            # predicted a rounding error outside it (the bounds are
            # inclusive: the first solve has none)
            lo, hi = low, high
            if margin and low is not None and np.isfinite(low):
                lo = low + margin * max(1.0, abs(low))
            if margin and high is not None and np.isfinite(high):
                hi = high - margin * max(1.0, abs(high))
            if lo is not None and hi is not None and lo > hi:
                lo = hi = (low + high) / 2
            milp.add(scores[0], lo, hi)
        elif self.rule == "sign":
            if target == 1:
                milp.add(scores[0], lo=eps)
            else:
                milp.add(scores[0], hi=0.0)
        else:  # arg-max, ties to the first class
            for k, s in enumerate(scores):
                if k != target:
                    milp.add(scores[target] - s, lo=eps if k < target else 0.0)


def _dot(w, phi, p):
    out = Expr()
    for f in range(p):
        if w[f] != 0:
            out = out + phi(f) * w[f]
    return out
