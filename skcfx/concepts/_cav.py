"""ConceptCAV: concept activation vectors learned on a layer's activations."""

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from skcfx.exceptions import SkcfxWarning
from skcfx.utils._docstrings import substitute

__all__ = ["ConceptCAV"]


def _concept_matrix(C):
    """Concept labels as a float matrix (nan = unlabelled) and their names."""
    names = None
    if hasattr(C, "columns"):
        names = np.asarray([str(c) for c in C.columns], dtype=object)
        C = C.to_numpy(dtype=np.float64, na_value=np.nan)
    C = np.asarray(C)
    if C.ndim == 1:
        kind = type_of_target(C)
        classes = np.unique(C)
        if kind == "binary" and set(classes.tolist()) <= {0, 1}:
            return C.astype(np.float64)[:, None], np.asarray(["concept0"], dtype=object)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                "Unknown label type: concept labels given as a 1-D array must "
                f"be class labels (one concept per class); got {kind!r}."
            )
        # one concept per class: its rows against the rest
        M = (C[:, None] == classes[None, :]).astype(np.float64)
        return M, np.asarray([str(c) for c in classes], dtype=object)
    C = np.array(C, dtype=np.float64)  # a copy: -1 is rewritten below
    bad = (C != 0) & (C != 1) & (C != -1) & ~np.isnan(C)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"Concept labels must be 1 (present), 0 (counter-example) or "
            f"NaN/-1 (not labelled); C[{i}, {j}] is {float(C[i, j])}."
        )
    C[C == -1] = np.nan  # -1 also means "not labelled"
    if names is None:
        names = np.asarray([f"concept{j}" for j in range(C.shape[1])], dtype=object)
    return C, names


def _stratified_test_rows(y, test_size, rng):
    """Held-out rows: a share ``test_size`` of each class, at least one each."""
    test = []
    for label in (0, 1):
        rows = rng.permutation(np.flatnonzero(y == label))
        n = min(max(1, int(round(test_size * len(rows)))), len(rows) - 1)
        test.append(rows[:n])
    return np.concatenate(test)


@substitute()
class ConceptCAV(TransformerMixin, BaseEstimator):
    """Concept activation vectors: one linear concept direction per concept.

    A concept activation vector (CAV, Kim et al. 2018) is the unit normal of
    a linear boundary that separates a layer's activations for examples of a
    concept from its counter-examples. :meth:`fit` learns one CAV per
    concept, with its held-out accuracy; :meth:`transform` gives each row's
    signed distance to every concept boundary (its concept scores);
    :class:`~skcfx.concepts.ConceptBottleneck` puts a model on those scores
    in one estimator (a post-hoc concept bottleneck).

    Read more in the :ref:`User Guide <concepts>`.

    Parameters
    ----------
    method : {"svm", "logistic", "mean_difference"}, default="svm"
        How each boundary is learned: a linear SVM (hinge loss, as in CCE),
        an L2-regularised logistic regression, or the difference of the
        class means with the boundary half-way between them (fast, no
        optimisation).
    C : float, default=1.0
        Inverse regularisation strength of the SVM or logistic regression.
    test_size : float, default=0.2
        Fraction of each concept's labelled rows held out to measure its
        accuracy (stratified); the final CAV is then refitted on all of
        them. Concepts with fewer than two examples in a class get no
        held-out figure (NaN).
    min_concept_accuracy : float or None, default=None
        Concepts whose held-out accuracy is below this value (or unknown) are
        dropped, with a warning naming them; None keeps every concept.
    {random_state}

    Attributes
    ----------
    cavs_ : ndarray of shape (n_concepts, n_features)
        Unit concept directions, one row per kept concept.
    intercepts_ : ndarray of shape (n_concepts,)
        Offsets: the score of a row ``a`` is ``a @ cavs_[j] + intercepts_[j]``.
    concept_names_ : ndarray of str of shape (n_concepts,)
        Names of the kept concepts (C's columns, or ``concept0``, ...).
    concept_accuracy_ : ndarray of shape (n_concepts,)
        Held-out accuracy of each kept concept's boundary.
    margin_range_ : ndarray of shape (n_concepts, 2)
        Smallest and largest score of the concept's labelled training rows.
    rejected_concepts_ : list of str
        Concepts dropped by ``min_concept_accuracy``.
    n_features_in_ : int
        Width of the activations.
    feature_names_in_ : ndarray of shape (n_features,)
        Column names of the activations, when given as a DataFrame.

    References
    ----------
    .. [1] B. Kim et al., "Interpretability Beyond Feature Attribution:
       Quantitative Testing with Concept Activation Vectors (TCAV)",
       ICML 2018.
    .. [2] A. Abid, M. Yuksekgonul and J. Zou, "Meaningfully Debugging Model
       Mistakes using Conceptual Counterfactual Explanations", ICML 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skcfx import ConceptCAV
    >>> rng = np.random.RandomState(0)
    >>> A = rng.standard_normal((200, 5))
    >>> C = np.column_stack([A[:, 0] > 0, A[:, 1] + A[:, 2] > 0]).astype(int)
    >>> cav = ConceptCAV(method="logistic", random_state=0).fit(A, C)
    >>> np.round(cav.cavs_[0], 1)
    array([ 1.,  0., -0.,  0., -0.])
    >>> cav.transform(A[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"svm", "logistic", "mean_difference"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "test_size": [Interval(Real, 0, 1, closed="left")],
        "min_concept_accuracy": [Interval(Real, 0, 1, closed="both"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        method="svm",
        C=1.0,
        test_size=0.2,
        min_concept_accuracy=None,
        random_state=None,
    ):
        self.method = method
        self.C = C
        self.test_size = test_size
        self.min_concept_accuracy = min_concept_accuracy
        self.random_state = random_state

    def _boundary(self, A, y, seed):
        """Unnormalised (w, b) separating y == 1 from y == 0 rows of A."""
        if self.method == "mean_difference":
            pos, neg = A[y == 1].mean(axis=0), A[y == 0].mean(axis=0)
            w = pos - neg
            return w, -float(w @ (pos + neg)) / 2.0
        if self.method == "svm":
            model = LinearSVC(C=self.C, random_state=seed)
        else:
            model = LogisticRegression(C=self.C, max_iter=1000)
        model.fit(A, y)
        return model.coef_[0].astype(np.float64), float(model.intercept_[0])

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn one concept activation vector per concept.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Activations of the concept layer (``A`` in the papers).
        y : array-like or DataFrame of shape (n_samples, n_concepts)
            The concept labels (``C``):
            1 where the row shows the concept, 0 where it is a
            counter-example, NaN or -1 where it is not labelled for that
            concept. A 1-D array of class labels gives one concept per class
            (its rows against all others).

        Returns
        -------
        self : ConceptCAV
            The fitted transformer.
        """
        if y is None:
            raise ValueError(
                "ConceptCAV requires y to be passed, but the target y is None: "
                "pass the concept labels."
            )
        A = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        M, names = _concept_matrix(y)
        check_consistent_length(A, M)
        rng = check_random_state(self.random_state)
        cavs, intercepts, accuracy, margins = [], [], [], []
        for j in range(M.shape[1]):
            labelled = ~np.isnan(M[:, j])
            y = M[labelled, j].astype(int)
            counts = np.bincount(y, minlength=2)
            if counts.min() == 0:
                raise ValueError(
                    f"Concept {names[j]!r} needs examples (1) and counter-"
                    f"examples (0); it has {counts[1]} and {counts[0]}."
                )
            Aj = A[labelled]
            seed = rng.randint(np.iinfo(np.int32).max)
            acc = np.nan
            n_test = int(np.ceil(self.test_size * len(y)))
            if self.test_size > 0 and counts.min() >= 2 and len(y) - n_test >= 2:
                test = _stratified_test_rows(y, self.test_size, rng)
                train = np.ones(len(y), dtype=bool)
                train[test] = False
                w, b = self._boundary(Aj[train], y[train], seed)
                acc = float(np.mean(((Aj[test] @ w + b) > 0).astype(int) == y[test]))
            w, b = self._boundary(Aj, y, seed)
            norm = np.linalg.norm(w)
            if not norm > 0:
                raise ValueError(
                    f"Concept {names[j]!r}: its examples and counter-examples "
                    "have the same activations; no direction separates them."
                )
            w, b = w / norm, b / norm
            s = Aj @ w + b
            cavs.append(w)
            intercepts.append(b)
            accuracy.append(acc)
            margins.append((s.min(), s.max()))
        accuracy = np.asarray(accuracy)
        keep = np.ones(len(names), dtype=bool)
        if self.min_concept_accuracy is not None:
            keep = accuracy >= self.min_concept_accuracy  # NaN fails too
            if not keep.any():
                raise ValueError(
                    "No concept reaches min_concept_accuracy="
                    f"{self.min_concept_accuracy}; held-out accuracies: "
                    f"{dict(zip(names.tolist(), np.round(accuracy, 3).tolist()))}."
                )
            if not keep.all():
                warnings.warn(
                    f"{int((~keep).sum())} concept(s) dropped below "
                    f"min_concept_accuracy={self.min_concept_accuracy}: "
                    f"{names[~keep].tolist()}.",
                    SkcfxWarning,
                )
        self.cavs_ = np.asarray(cavs)[keep]
        self.intercepts_ = np.asarray(intercepts)[keep]
        self.concept_names_ = names[keep]
        self.concept_accuracy_ = accuracy[keep]
        self.margin_range_ = np.asarray(margins).reshape(-1, 2)[keep]
        self.rejected_concepts_ = names[~keep].tolist()
        return self

    def transform(self, X):
        """Concept scores: signed distance of each row to each concept boundary.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Activations.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_concepts)
            Positive on the concept's side of its boundary; linear in ``A``.
        """
        check_is_fitted(self)
        A = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return A @ self.cavs_.T.astype(A.dtype) + self.intercepts_.astype(A.dtype)

    def get_feature_names_out(self, input_features=None):
        """Names of the concept-score columns: the concept names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in ``fit``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The kept concepts' names.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return np.asarray(self.concept_names_, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
