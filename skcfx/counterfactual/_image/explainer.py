"""ImageCounterfactualExplainer: gradient counterfactual images as an estimator."""

import numbers
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from skcfx.counterfactual._base import (
    NOT_FOUND,
    STATUS,
    class_index,
    describe_desired,
    resolve_targets,
)
from skcfx.counterfactual._image.explanations import ImageCounterfactualExplanations
from skcfx.exceptions import NoCounterfactualWarning
from skcfx.utils._frozen import unwrap_frozen
from skcfx.utils._routing import fit_clone, model_router

__all__ = ["ImageCounterfactualExplainer"]

_OWNER = "ImageCounterfactualExplainer"


def _is_torch_module(obj):
    """A torch.nn.Module, without importing torch (an optional extra)."""
    return any(
        c.__name__ == "Module" and c.__module__ == "torch.nn.modules.module"
        for c in type(obj).__mro__
    )


class ImageCounterfactualExplainer(
    OneToOneFeatureMixin, TransformerMixin, MetaEstimatorMixin, BaseEstimator
):
    """Counterfactual images: small pixel changes that make a model say the
    desired class, optionally guided toward real images by prototypes.

    Gradient search on the pixels of all images together (Wachter et al.'s
    objective with CFProto's elastic-net penalty and prototype term, Van
    Looveren and Klaise 2021): a hinge toward the desired class on the
    model's logits, ``l1`` and ``l2`` penalties on the change, optional
    total-variation smoothness and, with an ``encoder``, a pull toward the
    desired class's prototype: the mean code of the
    ``n_prototype_neighbors`` training images of that class nearest to the
    query's code, which makes the counterfactual look like a real image of
    the class instead of adversarial noise (measure it with
    :func:`skcfx.metrics.im1` / :func:`skcfx.metrics.im2`). The training
    images are encoded once, in :meth:`fit`. Read more in the
    :ref:`User Guide <counterfactual>`.

    Parameters
    ----------
    estimator : estimator or torch module
        The image classifier: a skorch ``NeuralNetClassifier``, an
        ``MLPClassifier``, a linear classifier (alone or behind scalers in a
        Pipeline), cloned and fitted in :meth:`fit`; wrap a trained one in
        ``sklearn.frozen.FrozenEstimator`` to use it as is. A plain
        ``torch.nn.Module`` (returning logits) is used as is. It receives
        float32 arrays shaped like ``X``.
    desired_class : "opposite", label, default="opposite"
        Class the counterfactual images must be predicted as. ``"opposite"``
        is the other class of a binary model and, for a multi-class model,
        the query's runner-up class (the class with the second highest
        logit). :meth:`explain` also takes one label per image.
    encoder : torch module or skorch net, default=None
        Maps images to latent codes (the encoder half of an autoencoder),
        used as is; enables prototype guidance. Needs ``y`` (or the model's
        predictions on ``X``) in :meth:`fit` for the prototypes.
    n_prototype_neighbors : int, default=5
        Training codes of the desired class averaged into each prototype.
    pixel_bounds : tuple (low, high), default=None
        Admissible pixel range; ``None`` learns it from the training images
        (their minimum and maximum).
    l1 : float, default=0.05
        L1 penalty on the change (sparsity of the edited pixels).
    l2 : float, default=1.0
        Squared-L2 penalty on the change.
    tv_weight : float, default=0.0
        Total-variation smoothness of the counterfactual (images with two
        trailing spatial dimensions, or square flattened images).
    prototype_weight : float, default=1.0
        Weight of the prototype term (with ``encoder``).
    max_steps : int, default=300
        Adam steps of the search (in :meth:`explain`; :meth:`fit` only
        fits the model and encodes the training images).
    learning_rate : float, default=0.01
        Adam's step size, in pixel units.
    margin : float, default=0.5
        Hinge margin on the logits.

    Attributes
    ----------
    estimator_ : estimator or torch module
        The fitted model.
    classes_ : ndarray
        The model's classes.
    pixel_bounds_ : tuple of float
        The admissible pixel range used.
    prototype_codes_ : ndarray of shape (n_train, n_latent) or None
        Codes of the training images (with ``encoder``).
    prototype_classes_ : ndarray of int or None
        Class index of each code.
    n_features_in_ : int
        ``X.shape[1]`` seen in fit (pixels of a flat image, channels of a
        4-D batch).
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame of flat images.

    See Also
    --------
    CounterfactualExplainer : Tabular counterfactuals.
    TextCounterfactualExplainer : Word-level edits of sentences.

    References
    ----------
    .. [1] Van Looveren, A. and Klaise, J. (2021). Interpretable
       counterfactual explanations guided by prototypes. ECML PKDD 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skcfx import ImageCounterfactualExplainer
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> cfx = ImageCounterfactualExplainer(
    ...     LogisticRegression(max_iter=500), desired_class=8, max_steps=100
    ... ).fit(X, y)
    >>> expl = cfx.explain(X[:3])
    >>> list(expl.status)
    ['found', 'found', 'found']
    >>> [int(c) for c in cfx.estimator_.predict(expl.best())]
    [8, 8, 8]
    """

    _parameter_constraints: dict = {
        "estimator": "no_validation",  # an estimator or a torch module
        "desired_class": "no_validation",  # labels known once fitted
        "encoder": "no_validation",
        "n_prototype_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "pixel_bounds": [tuple, list, None],
        "l1": [Interval(numbers.Real, 0, None, closed="left")],
        "l2": [Interval(numbers.Real, 0, None, closed="left")],
        "tv_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "prototype_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "max_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "margin": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        *,
        desired_class="opposite",
        encoder=None,
        n_prototype_neighbors=5,
        pixel_bounds=None,
        l1=0.05,
        l2=1.0,
        tv_weight=0.0,
        prototype_weight=1.0,
        max_steps=300,
        learning_rate=0.01,
        margin=0.5,
    ):
        self.estimator = estimator
        self.desired_class = desired_class
        self.encoder = encoder
        self.n_prototype_neighbors = n_prototype_neighbors
        self.pixel_bounds = pixel_bounds
        self.l1 = l1
        self.l2 = l2
        self.tv_weight = tv_weight
        self.prototype_weight = prototype_weight
        self.max_steps = max_steps
        self.learning_rate = learning_rate
        self.margin = margin

    def get_metadata_routing(self):
        """Metadata routing: ``fit``'s metadata go to the model's ``fit``.

        Returns
        -------
        routing : MetadataRouter
            The routing of fit metadata to the model (scikit-learn's
            metadata routing user guide).
        """
        return model_router(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = not (
            isinstance(self.estimator, FrozenEstimator)
            or _is_torch_module(self.estimator)
        )
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    # -------------------------------------------------------------- fit
    def _validate(self, X, reset):
        return validate_data(
            self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32]
        )

    def _torch(self):
        from skcfx.utils._torch import require_torch

        return require_torch(_OWNER)

    def _net(self):
        from skcfx.utils._torch_forward import torch_forward

        return torch_forward(
            self.estimator_,
            owner=_OWNER,
            alternative="Pass a torch module, a skorch net, an MLPClassifier or "
            "a linear classifier.",
        )

    def _logits(self, net, X):
        torch = self._torch()
        from skcfx.utils._torch import device_of, eval_mode, to_float32

        device = device_of(net)
        with eval_mode(net), torch.no_grad():
            out = net(torch.as_tensor(to_float32(X), device=device))
        return out.cpu().numpy().astype(float)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the model (unless frozen or a torch module) and encode the
        training images for the prototypes.

        Parameters
        ----------
        X : array-like of shape (n_images, ...)
            Training images, in the model's input shape.
        y : array-like of shape (n_images,), default=None
            Their classes; not needed for a FrozenEstimator or torch module
            (the prototypes then group the images by the model's
            prediction).
        **fit_params : dict
            Metadata for the model's ``fit`` (``sample_weight``, ...),
            routed as it requests them when metadata routing is enabled;
            a model used as it is ignores them.

        Returns
        -------
        self : object
        """
        self._torch()
        X = self._validate(X, reset=True)
        as_is = isinstance(self.estimator, FrozenEstimator) or _is_torch_module(
            self.estimator
        )
        if y is None and not as_is:
            raise ValueError(
                f"{_OWNER} requires y to be passed, but the target y is None; "
                "pass y, or wrap a fitted model in sklearn.frozen.FrozenEstimator."
            )
        if y is not None and len(np.asarray(y)) != len(X):
            raise ValueError(
                f"X and y have inconsistent numbers of samples: {len(X)} and "
                f"{len(np.asarray(y))}."
            )
        if _is_torch_module(self.estimator) or isinstance(
            self.estimator, FrozenEstimator
        ):
            self.estimator_ = self.estimator  # a trained model, used as it is
        else:
            self.estimator_ = fit_clone(self, X, y, fit_params)
        width = getattr(unwrap_frozen(self.estimator_), "n_features_in_", None)
        if width is not None and (X.ndim != 2 or X.shape[1] != width):
            raise ValueError(
                f"X has shape {X.shape}, but the model "
                f"{type(unwrap_frozen(self.estimator_)).__name__} takes rows of "
                f"{width} features: pass the images in the model's input shape "
                f"(for flattened images, X.reshape(len(X), -1))."
            )
        net = self._net()
        try:
            logits = self._logits(net, X)
        except RuntimeError as exc:  # torch's shape mismatch, say
            raise ValueError(
                f"The model could not take X of shape {X.shape} (images in the "
                f"model's input shape are expected): {exc}"
            ) from exc
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = np.asarray(self.estimator_.classes_)
        else:
            self.classes_ = np.arange(logits.shape[1])
        if logits.shape[1] != len(self.classes_):
            raise ValueError(
                f"The model returns {logits.shape[1]} logits for "
                f"{len(self.classes_)} classes."
            )
        if isinstance(self.desired_class, str) and self.desired_class == "opposite":
            pass
        else:
            resolve_targets(self.desired_class, self.classes_, np.zeros(1, int))
        if self.pixel_bounds is None:
            self.pixel_bounds_ = (float(np.min(X)), float(np.max(X)))
        else:
            lo, hi = (float(v) for v in self.pixel_bounds)
            if not lo < hi:
                raise ValueError(
                    f"pixel_bounds={self.pixel_bounds!r} must be (low, high) "
                    "with low < high."
                )
            self.pixel_bounds_ = (lo, hi)
        self.prototype_codes_ = self.prototype_classes_ = None
        if self.encoder is not None:
            if y is None:
                group = logits.argmax(axis=1)
            else:
                group = class_index(self.classes_, y)
            self.prototype_codes_ = self._encode(X)
            self.prototype_classes_ = group.astype(int)
        return self

    def _encoder(self):
        return getattr(self.encoder, "module_", self.encoder)

    def _encode(self, X):
        torch = self._torch()
        from skcfx.utils._torch import device_of, eval_mode, to_float32

        enc = self._encoder()
        device = device_of(enc)
        with eval_mode(enc), torch.no_grad():
            codes = enc(torch.as_tensor(to_float32(X), device=device))
        return codes.reshape(len(X), -1).cpu().numpy()

    # ---------------------------------------------------------- explain
    def _targets(self, logits, desired_class):
        orig = logits.argmax(axis=1)
        goal = self.desired_class if desired_class is None else desired_class
        target = resolve_targets(goal, self.classes_, orig)
        if (target < 0).any():  # multi-class "opposite": the runner-up class
            masked = logits.copy()
            masked[np.arange(len(orig)), orig] = -np.inf
            target = np.where(target < 0, masked.argmax(axis=1), target)
        return orig, target

    def _predict(self, X):
        """(class index, probability of it) by the model itself."""
        model = self.estimator_
        if hasattr(model, "predict_proba"):
            P = np.asarray(model.predict_proba(X), dtype=float)
            idx = class_index(self.classes_, model.predict(X))
            return idx, P[np.arange(len(idx)), idx]
        logits = self._logits(self._net(), X)
        P = np.exp(logits - logits.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        idx = logits.argmax(axis=1)
        return idx, P[np.arange(len(idx)), idx]

    def explain(self, X, desired_class=None):
        """Find a counterfactual image for each image of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_images, ...)
            Query images, shaped as in :meth:`fit`. Not modified.
        desired_class : label, "opposite" or array-like of labels, default=None
            Overrides the ``desired_class`` parameter for this call; one
            label per image is accepted.

        Returns
        -------
        explanations : ImageCounterfactualExplanations
        """
        start = time.perf_counter()
        check_is_fitted(self)
        index = X.index if isinstance(getattr(X, "index", None), pd.Index) else None
        X = self._validate(X, reset=False)
        n = len(X)
        index = np.arange(n) if index is None else index
        net = self._net()
        orig, target = self._targets(self._logits(net, X), desired_class)
        query_pred, _ = self._predict(X)
        already = query_pred == target
        todo = np.flatnonzero(~already)
        cf = self._search(net, X[todo], target[todo])
        cf = cf.astype(X.dtype)
        pred, proba = self._predict(cf) if len(todo) else (np.zeros(0, int), [])
        valid = pred == target[todo]  # decided by the model itself
        status = np.full(n, STATUS["exhausted"], dtype=object)
        status[todo[valid]] = STATUS["found"]
        status[already] = STATUS["already"]
        missing = int(np.isin(status, NOT_FOUND).sum())
        if missing:
            warnings.warn(
                f"No valid counterfactual found for {missing} of {n} images "
                "(see the explanation's status).",
                NoCounterfactualWarning,
                stacklevel=2,
            )
        return ImageCounterfactualExplanations(
            queries=np.array(X, copy=True),
            counterfactuals=cf,
            pixel_bounds=self.pixel_bounds_,
            index=index,
            owner=todo,
            rank=np.zeros(len(todo), dtype=int),
            valid=valid,
            prediction=self.classes_[pred],
            probability=proba,
            status=status,
            reason=np.full(n, "", dtype=object),
            query_prediction=self.classes_[query_pred],
            desired=describe_desired(self.classes_, target, orig),
            n_requested=1,
            seconds=time.perf_counter() - start,
        )

    def _search(self, net, X, target):
        """Counterfactual images of ``X`` toward class indices ``target``."""
        torch = self._torch()
        from skcfx.counterfactual._image.search import nearest_prototypes, optimise
        from skcfx.utils._torch import device_of, eval_mode, to_float32

        cf = to_float32(X)
        if len(X) == 0:
            return cf
        x = torch.as_tensor(cf, device=device_of(net))
        enc = proto = None
        if self.encoder is not None:
            enc = self._encoder()
            codes = torch.as_tensor(self.prototype_codes_, device=x.device)
            with eval_mode(enc), torch.no_grad():
                own = enc(x).reshape(len(X), -1)
            proto = nearest_prototypes(
                torch,
                own,
                codes,
                self.prototype_classes_,
                target,
                self.n_prototype_neighbors,
            )
        keys = ("l1", "l2", "tv_weight", "prototype_weight", "max_steps")
        params = {key: getattr(self, key) for key in keys}
        params.update(learning_rate=self.learning_rate, margin=self.margin)
        with eval_mode(net, enc):
            best, _ = optimise(
                net,
                x,
                target,
                bounds=self.pixel_bounds_,
                params=params,
                enc=enc,
                proto=proto,
            )
        return best.detach().cpu().numpy()

    # -------------------------------------------------- transform/score
    def transform(self, X):
        """Best counterfactual image of each image (NaN where none).

        Parameters
        ----------
        X : array-like of shape (n_images, ...)
            Query images, shaped as in :meth:`fit`.

        Returns
        -------
        X_cf : ndarray shaped like ``X``
            An image that already has the desired class is returned as is.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoCounterfactualWarning)
            return self.explain(X).best()

    def score(self, X, y=None):
        """Validity traded against the size of the change, on a fixed ruler
        (see :meth:`ImageCounterfactualExplanations.score`), higher is
        better.

        Parameters
        ----------
        X : array-like of shape (n_images, ...)
            Query images, shaped as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoCounterfactualWarning)
            return self.explain(X).score()
