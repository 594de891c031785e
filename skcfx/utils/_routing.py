"""Metadata of ``fit`` (``sample_weight``, ...) passed on to the explained
model, as scikit-learn's meta-estimators do.

With metadata routing enabled (``sklearn.set_config(
enable_metadata_routing=True)``), ``fit``'s keyword arguments reach the
model's ``fit`` only as it requests them (``set_fit_request``), and an
unrequested one is an error; otherwise every one is passed to the model's
``fit`` (scikit-learn's behaviour before routing). A model used as it is
(a FrozenEstimator, a torch module) is not fitted and ignores them, as
FrozenEstimator's own ``fit`` does.
"""

import sklearn
from sklearn.base import clone
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)

__all__ = ["fit_clone", "model_router"]


def model_router(meta, estimator=None, consumes=False):
    """The router of a meta-estimator whose ``fit`` fits ``estimator``
    (default ``meta.estimator``); ``consumes``: ``meta`` takes metadata of
    its own too (its ``fit`` signature's)."""
    router = MetadataRouter(owner=type(meta).__name__)
    if consumes:
        router = router.add_self_request(meta)
    return router.add(
        estimator=meta.estimator if estimator is None else estimator,
        method_mapping=MethodMapping().add(caller="fit", callee="fit"),
    )


def fit_clone(meta, X, y, fit_params, estimator=None):
    """A clone of ``estimator`` (default ``meta.estimator``) fitted on
    ``(X, y)`` with the metadata ``fit_params`` that ``meta.fit`` received
    (routed when routing is on)."""
    if sklearn.get_config().get("enable_metadata_routing", False):
        params = process_routing(meta, "fit", **fit_params).estimator.fit
    else:
        params = fit_params
    estimator = meta.estimator if estimator is None else estimator
    return clone(estimator).fit(X, y, **params)
