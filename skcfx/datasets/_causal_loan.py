"""A synthetic loan world with a known structural causal model.

Inspired by the loan example of Karimi, Schölkopf and Valera (FAccT 2021):
gender and age cause education, education (with age and gender) causes
income, income causes savings, and income and savings decide the loan.
The equations are this module's own; they are known exactly, so recourse
can be checked against the true world.
"""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["CAUSAL_LOAN_GRAPH", "make_causal_loan"]

CAUSAL_LOAN_GRAPH = {
    "education": ["gender", "age"],
    "income": ["gender", "age", "education"],
    "savings": ["income"],
}

# noise standard deviations of the structural equations
_NOISE = {"education": 1.5, "income": 6.0, "savings": 4.0}


def _education(parents):
    """Years of education: rises with age until the mid-thirties."""
    age = parents["age"].to_numpy(dtype=float)
    male = (parents["gender"].astype(str) == "male").to_numpy(dtype=float)
    return 9.0 + 6.0 / (1.0 + np.exp(-0.15 * (age - 28.0))) + 0.8 * male


def _income(parents):
    """Yearly income in thousands: education pays, experience too."""
    age = parents["age"].to_numpy(dtype=float)
    edu = parents["education"].to_numpy(dtype=float)
    male = (parents["gender"].astype(str) == "male").to_numpy(dtype=float)
    return -10.0 + 4.0 * edu + 0.35 * (age - 18.0) + 3.0 * male


def _savings(parents):
    """Savings in thousands: a share of income."""
    return 0.6 * parents["income"].to_numpy(dtype=float) - 12.0


EQUATIONS = {"education": _education, "income": _income, "savings": _savings}


def make_causal_loan(n_samples=5000, *, random_state=None):
    """Loan applicants drawn from a known structural causal model.

    ``gender`` ("female" / "male", probability 1/2) and ``age`` (18 plus a
    gamma variable, whole years, at most 80) are exogenous; then::

        education = 9 + 6 sigmoid(0.15 (age - 28)) + 0.8 male + U_e   (sd 1.5)
        income    = -10 + 4 education + 0.35 (age - 18) + 3 male + U_i  (sd 6)
        savings   = 0.6 income - 12 + U_s                               (sd 4)

    and the loan is granted (``y = 1``) with probability
    ``sigmoid(0.25 (income - 55) + 0.3 (savings - 21))``.

    Read more in the :ref:`User Guide <causal_recourse>`.

    Parameters
    ----------
    n_samples : int, default=5000
        Applicants drawn.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    X : DataFrame of shape (n_samples, 5)
        ``gender``, ``age``, ``education``, ``income``, ``savings``.
    y : ndarray of int
        Loan granted.
    scm : StructuralCausalModel
        The true model (its equations are the functions above, noise
        additive), fitted on ``X``.

    Examples
    --------
    >>> from skcfx.datasets import make_causal_loan
    >>> X, y, scm = make_causal_loan(1000, random_state=0)
    >>> list(X.columns)
    ['gender', 'age', 'education', 'income', 'savings']
    >>> scm.order_[-1]
    'savings'
    """
    from skcfx.causal import StructuralCausalModel

    rng = check_random_state(random_state)
    n = int(n_samples)
    gender = np.where(rng.uniform(size=n) < 0.5, "female", "male")
    age = np.minimum(18 + np.round(rng.gamma(3.0, 6.0, size=n)), 80).astype(int)
    X = pd.DataFrame({"gender": pd.Series(gender, dtype=object), "age": age})
    for node in ("education", "income", "savings"):
        X[node] = EQUATIONS[node](X) + rng.normal(0.0, _NOISE[node], size=n)
    logit = 0.25 * (X["income"] - 55.0) + 0.3 * (X["savings"] - 21.0)
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    scm = StructuralCausalModel(CAUSAL_LOAN_GRAPH, equations=dict(EQUATIONS)).fit(X)
    return X, y.to_numpy(), scm
