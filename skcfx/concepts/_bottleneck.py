"""ConceptBottleneck: concept scores, then a model on them, in one estimator."""

import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
    is_classifier,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from skcfx.concepts._cav import ConceptCAV
from skcfx.exceptions import SkcfxWarning
from skcfx.utils._routing import fit_clone, model_router

__all__ = ["ConceptBottleneck"]


def _estimator_has(attr):
    def check(self):
        est = getattr(self, "estimator_", None)
        if est is None:
            est = self.estimator if self.estimator is not None else LogisticRegression()
        return hasattr(est, attr)

    return check


class ConceptBottleneck(MetaEstimatorMixin, TransformerMixin, BaseEstimator):
    """A post-hoc concept bottleneck model: concepts, then a model on them.

    :meth:`fit` learns the concepts from the layer's activations ``X`` and
    the user's concept labels (``concept_labels``: 1 present, 0 absent,
    NaN/-1 unlabelled, one column per concept), turns the activations into
    concept scores, and fits ``estimator`` on those scores to predict ``y``.
    Predictions go through the concepts only, so the model's reasoning can be
    read (and edited) in the concepts' terms.

    ``concept_labels`` is a fit parameter aligned with the rows of ``X``, so
    the estimator clones, cross-validates and grid-searches in one call:
    ``GridSearchCV(bottleneck, ...).fit(A, y, concept_labels=C)`` slices
    the labels with each fold. With scikit-learn's metadata routing enabled,
    request it as for any metadata: ``bottleneck.set_fit_request(
    concept_labels=True)``.

    Read more in the :ref:`User Guide <concepts>`.

    Parameters
    ----------
    concepts : estimator, default=None
        The concept step: a transformer fitted as ``fit(X, concept_labels)``
        whose ``transform`` gives concept scores; :class:`ConceptCAV` by
        default. A ``FrozenEstimator`` of a fitted one is used as it is (no
        concept labels needed).
    estimator : estimator, default=None
        The model on the concept scores; ``LogisticRegression()`` by
        default.

    Attributes
    ----------
    concepts_ : estimator
        The fitted concept step.
    estimator_ : estimator
        The model fitted on the concept scores.
    classes_ : ndarray
        Classes, for a classifier.
    concept_names_ : ndarray of str
        Names of the concept scores (the model's input features).
    n_features_in_ : int
        Number of activation columns seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the activation columns, when they are strings.

    See Also
    --------
    ConceptCAV : The concept step.

    Examples
    --------
    >>> import numpy as np
    >>> from skcfx.concepts import ConceptBottleneck
    >>> rng = np.random.RandomState(0)
    >>> A = rng.normal(size=(200, 8))              # a layer's activations
    >>> C = np.column_stack([A[:, 0] > 0, A[:, 1] > 0]).astype(float)
    >>> y = (A[:, 0] + A[:, 1] > 0).astype(int)    # the label uses both
    >>> cbm = ConceptBottleneck().fit(A, y, concept_labels=C)
    >>> cbm.concept_names_.tolist()
    ['concept0', 'concept1']
    >>> bool(cbm.score(A, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "concepts": [HasMethods(["fit", "transform"]), None],
        "estimator": [HasMethods(["fit", "predict"]), None],
    }

    def __init__(self, concepts=None, estimator=None):
        self.concepts = concepts
        self.estimator = estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        est = self.estimator if self.estimator is not None else LogisticRegression()
        inner = get_tags(est)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags.required = True
        return tags

    def _estimator(self):
        return self.estimator if self.estimator is not None else LogisticRegression()

    def get_metadata_routing(self):
        """Metadata routing: ``concept_labels`` for this estimator's
        ``fit``, other metadata to the model's ``fit``.

        Returns
        -------
        routing : MetadataRouter
            The routing of fit metadata to the model (scikit-learn's
            metadata routing user guide).
        """
        return model_router(self, self._estimator(), consumes=True)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, concept_labels=None, **fit_params):
        """Learn the concepts, then the model on the concept scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Activations of the layer (or any features the concepts live in).
        y : array-like of shape (n_samples,)
            The target of the model on concept scores.
        concept_labels : array-like of shape (n_samples, n_concepts), \
                default=None
            Concept labels of the rows (a DataFrame's columns name the
            concepts). Without them a frozen concept step is used as it is;
            an unfitted one then learns one concept per class of ``y``, with
            a warning (rarely what is wanted).
        **fit_params : dict
            Metadata for ``estimator``'s ``fit`` (``sample_weight``, ...),
            routed as it requests them when metadata routing is enabled,
            else passed on as they are.

        Returns
        -------
        self : ConceptBottleneck
            The fitted estimator.
        """
        validate_data(self, X, dtype=None, ensure_all_finite=False)
        concepts = self.concepts if self.concepts is not None else ConceptCAV()
        if concept_labels is None:
            if isinstance(concepts, FrozenEstimator):
                self.concepts_ = concepts
            else:
                warnings.warn(
                    "ConceptBottleneck.fit got no concept_labels: the concept "
                    "step learns one concept per class of y (a class "
                    "bottleneck). Pass concept_labels=C (in GridSearchCV: "
                    "fit(X, y, concept_labels=C); with metadata routing "
                    "enabled, set_fit_request(concept_labels=True)).",
                    SkcfxWarning,
                    stacklevel=3,
                )
                y = column_or_1d(y, warn=True)
                if len(np.unique(y)) < 2:
                    raise ValueError(
                        "ConceptBottleneck needs samples of at least 2 classes "
                        f"in y to learn class concepts; got 1 class: {y[0]!r}."
                    )
                self.concepts_ = clone(concepts).fit(X, y)
        else:
            if len(concept_labels) != len(y):
                raise ValueError(
                    f"concept_labels has {len(concept_labels)} rows but X has "
                    f"{len(y)}; give one row of concept labels per sample."
                )
            self.concepts_ = clone(concepts).fit(X, concept_labels)
        S = self.concepts_.transform(X)
        self.estimator_ = fit_clone(self, S, y, fit_params, self._estimator())
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        names = getattr(self.concepts_, "get_feature_names_out", None)
        self.concept_names_ = (
            np.asarray(names(), dtype=object)
            if names is not None
            else np.asarray([f"concept{j}" for j in range(S.shape[1])], dtype=object)
        )
        return self

    def _scores(self, X):
        check_is_fitted(self)
        validate_data(self, X, dtype=None, ensure_all_finite=False, reset=False)
        return self.concepts_.transform(X)

    def transform(self, X):
        """Concept scores of the rows (the model's inputs).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Activations.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_concepts)
            One column per concept (``concept_names_``).
        """
        return self._scores(X)

    def get_feature_names_out(self, input_features=None):
        """Names of the concept scores.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against the input features seen in :meth:`fit`.

        Returns
        -------
        names : ndarray of str
            ``concept_names_``.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return self.concept_names_

    def predict(self, X):
        """Predict through the concepts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Activations.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predictions of ``estimator_`` on the concept scores.
        """
        S = self._scores(X)
        return self.estimator_.predict(S)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities through the concepts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Activations.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``estimator_.predict_proba`` on the concept scores.
        """
        S = self._scores(X)
        return self.estimator_.predict_proba(S)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function through the concepts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Activations.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``estimator_.decision_function`` on the concept scores.
        """
        S = self._scores(X)
        return self.estimator_.decision_function(S)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifier) or R^2 (regressor) through the concepts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Activations.
        y : array-like of shape (n_samples,)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Higher is better.
        """
        pred = self.predict(X)
        if is_classifier(self):
            return float(accuracy_score(y, pred, sample_weight=sample_weight))
        return float(r2_score(y, pred, sample_weight=sample_weight))
