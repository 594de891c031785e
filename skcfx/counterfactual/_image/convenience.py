"""``image_counterfactuals``: the one-call form of ImageCounterfactualExplainer."""

from numbers import Integral, Real

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from skcfx.counterfactual._base import class_index
from skcfx.counterfactual._image.explainer import (
    ImageCounterfactualExplainer,
    _is_torch_module,
)

__all__ = ["image_counterfactuals"]


@validate_params(
    {
        "model": [object],
        "X": ["array-like"],
        "target": ["array-like", Integral],
        "encoder": [object, None],
        "X_train": ["array-like", None],
        "y_train": ["array-like", None],
        "n_prototype_neighbors": [Interval(Integral, 1, None, closed="left")],
        "pixel_bounds": [tuple],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "tv_weight": [Interval(Real, 0, None, closed="left")],
        "prototype_weight": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "margin": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def image_counterfactuals(
    model,
    X,
    target,
    *,
    encoder=None,
    X_train=None,
    y_train=None,
    n_prototype_neighbors=5,
    pixel_bounds=(0.0, 1.0),
    l1=0.05,
    l2=1.0,
    tv_weight=0.0,
    prototype_weight=1.0,
    max_iter=300,
    learning_rate=0.01,
    margin=0.5,
):
    """Counterfactual images of a trained model in one call.

    A convenience over :class:`ImageCounterfactualExplainer` (same search,
    same parameters; see it for the objective): the model is used as it is,
    the prototypes come from ``X_train`` / ``y_train``. To reuse the
    encoded training images over several calls, tune the hyperparameters
    with GridSearchCV or put the search in a Pipeline, use the estimator.

    Parameters
    ----------
    model : torch module, skorch net, MLPClassifier or linear classifier
        The trained classifier; it receives arrays shaped like ``X``
        (float32).
    X : array-like of shape (n_images, ...)
        Images, in the model's input shape.
    target : int or array-like of int of shape (n_images,)
        Desired class index (column of the model's logits) per image.
    encoder : torch module or skorch net, default=None
        Maps images to latent codes; enables prototype guidance.
    X_train, y_train : array-like, default=None
        Training images and their class indices, for the prototypes.
    n_prototype_neighbors : int, default=5
        Target-class encodings averaged into each image's prototype.
    pixel_bounds : tuple of float, default=(0.0, 1.0)
        Valid pixel range.
    l1, l2 : float, default=0.05, 1.0
        Penalties on the perturbation (elastic net, as in CFProto).
    tv_weight : float, default=0.0
        Total-variation smoothness of the counterfactual.
    prototype_weight : float, default=1.0
        Weight of the prototype term (used with ``encoder``).
    max_iter : int, default=300
        Adam steps.
    learning_rate : float, default=0.01
        Adam's step size, in pixel units.
    margin : float, default=0.5
        Hinge margin on the logits.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``counterfactuals`` (ndarray shaped like ``X``; the image itself
        where the target was not reached), ``valid`` (the model predicts
        ``target`` on it), ``prediction`` (class index) and ``delta``
        (counterfactual minus image), plus ``explanations`` (the
        :class:`ImageCounterfactualExplanations`).
    """
    if encoder is not None and (X_train is None or y_train is None):
        raise ValueError(
            "encoder is given but X_train/y_train are not: prototype guidance "
            "needs the training images and their classes."
        )
    as_is = model if _is_torch_module(model) else FrozenEstimator(model)
    explainer = ImageCounterfactualExplainer(
        as_is,
        encoder=encoder,
        n_prototype_neighbors=n_prototype_neighbors,
        pixel_bounds=pixel_bounds,
        l1=l1,
        l2=l2,
        tv_weight=tv_weight,
        prototype_weight=prototype_weight,
        max_steps=max_iter,
        learning_rate=learning_rate,
        margin=margin,
    )
    X = np.asarray(X)
    if encoder is None:
        explainer.fit(X)
    else:
        classes = np.asarray(getattr(model, "classes_", np.arange(np.max(y_train) + 1)))
        explainer.fit(X_train, classes[np.asarray(y_train)])
    target = np.broadcast_to(np.asarray(target, dtype=int), (len(X),))
    expl = explainer.explain(X, desired_class=explainer.classes_[target])
    out = np.array(X, dtype=np.float32, copy=True)
    out[expl.owner] = expl.counterfactuals
    valid = np.zeros(len(X), dtype=bool)
    valid[expl.owner] = expl.valid
    valid |= expl.status == "query already has the desired outcome"
    prediction = class_index(explainer.classes_, expl.query_prediction)
    prediction[expl.owner] = class_index(explainer.classes_, expl.prediction)
    return Bunch(
        counterfactuals=out,
        valid=valid,
        prediction=prediction,
        delta=out - X,
        explanations=expl,
    )
