"""L2XSelector: learned instance-wise feature selection (Chen et al., 2018)."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.frozen import FrozenEstimator
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch, _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from skcfx.exceptions import SkcfxWarning
from skcfx.utils._docstrings import substitute
from skcfx.utils._outputs import class_probabilities
from skcfx.utils._routing import fit_clone, model_router
from skcfx.utils._torch import require_torch, seeded_torch, to_float32

__all__ = ["L2XSelector"]

# Rows per forward pass at explanation time: large enough to amortise the
# per-call overhead, small enough to keep the float32 buffers in cache.
_EXPLAIN_BLOCK = 8192


def _temper(proba, temperature):
    """Class probabilities raised to 1/temperature and renormalised."""
    if temperature == 1:
        return proba
    logp = np.log(np.clip(proba, 1e-12, None)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return out / out.sum(axis=1, keepdims=True)


def _fill_missing(X32, center):
    """float32 rows with each missing value replaced by its column's
    ``center`` (the rows themselves when none is missing)."""
    missing = np.isnan(X32)
    if not missing.any():
        return X32
    return np.where(missing, center, X32).astype(np.float32)


# largest dense copy of a sparse input (numbers): the networks take dense rows
_MAX_DENSE = 500_000_000


def _dense(X, where):
    """A sparse input as a dense array (the networks, masking and the
    explained model on masked rows work on dense rows); dense input as is."""
    if not sparse.issparse(X):
        return X
    if X.shape[0] * X.shape[1] > _MAX_DENSE:
        raise ValueError(
            f"L2XSelector.{where} got a sparse X of shape {X.shape}, whose dense "
            f"copy ({X.shape[0] * X.shape[1] * X.dtype.itemsize / 2**30:.1f} GiB) "
            "is too large: L2X works on dense rows. Keep fewer columns (for "
            "words, CountVectorizer(max_features=...) or min_df) or fewer rows."
        )
    return X.toarray()


def _approximate(module, X32, group_mask):
    """The approximator's outputs (numpy) on float32 rows ``X32`` (a
    missing value as the training mean) keeping the groups of
    ``group_mask``, one forward pass."""
    import torch

    device = module.center.device
    rows = _fill_missing(X32, module.center.cpu().numpy())
    with torch.no_grad():
        out = module.approximate(
            torch.as_tensor(rows, device=device),
            torch.as_tensor(to_float32(group_mask), device=device),
        )
    return out.cpu().numpy()


def _check_hidden(sizes, name):
    sizes = tuple(int(s) for s in np.atleast_1d(sizes))
    if not sizes or min(sizes) < 1:
        raise ValueError(
            f"{name}={sizes!r} in L2XSelector must be a non-empty sequence of "
            "positive layer widths."
        )
    return sizes


@substitute()
class L2XSelector(
    OneToOneFeatureMixin, TransformerMixin, MetaEstimatorMixin, BaseEstimator
):
    """Learning to Explain: instance-wise selection of k features per row.

    An explainer network learns, for every row, which ``k`` features (or
    feature groups) carry the prediction of a model. It is trained once, by
    maximising a variational lower bound on the mutual information between
    the selected features and the model's output: k Concrete
    (Gumbel-softmax) draws over the explainer's logits give a relaxed k-hot
    mask, an approximator network predicts the model's class probabilities
    from the masked row, and both networks minimise the cross-entropy
    against the model's soft ``predict_proba`` output. Explaining new rows
    is then one forward pass: the top ``k`` logits of each row, with no
    noise.

    :meth:`transform` keeps the selected entries of each row and replaces
    the others by a baseline, so the selector can sit in front of a model in
    a :class:`~sklearn.pipeline.Pipeline`; :meth:`explain` returns masks,
    scores and rankings; :meth:`score` is the paper's post-hoc accuracy.

    Read more in the :ref:`User Guide <l2x>`.

    Parameters
    ----------
    estimator : estimator with ``fit`` and ``predict_proba`` or \
            ``decision_function``, default=None
        The classifier to explain. ``fit`` clones and fits it on ``(X, y)``;
        wrap an already fitted model in
        :class:`~sklearn.frozen.FrozenEstimator` to use it as is. L2X is
        then trained on its ``predict_proba`` outputs (for a classifier
        without them, such as ``LinearSVC``, the softmax of its decision
        scores, whose arg-max is its decision). A regressor (an estimator
        without ``classes_``) is explained through its ``predict``: the
        approximator then predicts the model's standardised output with a
        squared loss (the bound of a Gaussian approximator), and fidelity
        is the R^2 of the model's predictions on the masked rows
        against those on the full rows. If None, the selector
        explains the targets ``y`` themselves (labels, or a probability
        matrix of shape (n_samples, n_classes)).
    k : int, default=4
        Number of features (or feature groups) selected per row.
    tau : float, default=0.3
        Temperature of the Gumbel-softmax relaxation used in training.
        Lower values give masks closer to k-hot but noisier gradients.
        With ``tau_start``, this is the temperature of the last epoch.
    tau_start : float or None, default=None
        If given, the temperature of the first epoch, lowered geometrically
        to ``tau`` over ``max_epochs`` (nearly uniform soft masks at first,
        sharper selections later). None trains at ``tau`` throughout.
    explainer_hidden_layer_sizes : array-like of int, default=(100, 100)
        Widths of the explainer network's hidden ReLU layers.
    approximator_hidden_layer_sizes : array-like of int, default=(200, 200)
        Widths of the approximator (variational family) network's hidden
        ReLU layers.
    max_epochs : int, default=30
        Training epochs over the training rows.
    batch_size : int, default=100
        Rows per optimisation step.
    learning_rate : float, default=1e-3
        Step size of the Adam optimiser.
    weight_decay : float, default=0.0
        L2 penalty of the Adam optimiser.
    validation_fraction : float, default=0.1
        Fraction of the rows held out to choose the training epoch. After
        each epoch the hard top-k selections of the held-out rows are scored
        by their fidelity to the explained model (see Notes) and the weights
        of the best epoch after the first third of training (a warm-up) are
        kept. 0 keeps the last epoch.
    random_mask_weight : float, default=1.0
        Weight of a second approximator loss, on uniformly random k-subsets
        of the groups, added to the paper's loss on the explainer's
        selections. It keeps the approximator a model of the output given
        *any* k groups, so that it cannot learn to read the label from which
        groups the explainer leaves out (see Notes). 0 gives the paper's
        purely joint training.
    target_temperature : float, default=3.0
        The explained probabilities are softened to ``p ** (1 / T)``
        (renormalised) before training and epoch selection, as in knowledge
        distillation. A saturated model (probabilities near 0 or 1) still
        moves its log-odds with the features it uses, but the cross-entropy
        barely registers that; softening keeps those features visible. It
        changes the scale of the output, not which features it depends on.
        1 explains the raw probabilities, as in the paper.
    feature_groups : list of list of int or str, default=None
        Select ``k`` groups of columns instead of ``k`` columns: each inner
        list holds the columns of one group (indices, or names when fitted
        on a DataFrame), for example the one-hot columns of a categorical
        feature or the pixels of an image patch. Columns in no group form a
        group of their own. Groups may not overlap.
    baseline : {"mean", "zero"} or array-like of shape (n_features,), \
            default="mean"
        Value that replaces an unselected entry in training and in
        :meth:`transform`: the training mean of each column (meaningful on
        raw, unscaled tabular data), 0 as in the paper (for centred data,
        word counts or blank pixels), or given values. A warning is raised
        when the explained model predicts a single class for the masked
        held-out rows although it predicts several for the rows themselves
        (the baseline then carries no information about the prediction).
    ignore_baseline_entries : bool, default=False
        If True, a group whose entries in a row all equal the baseline is
        ranked below every other group of that row, in training and in
        :meth:`explain` (keeping such entries gives the same row as
        replacing them, so selecting them says nothing). Use it for sparse
        inputs such as word counts, so that the ``k`` selections go to words
        that occur in the sentence; a row with fewer than ``k`` such groups
        still gets ``k`` selections, the rest from its baseline groups.
    removal : {"conditional", "baseline"}, default="conditional"
        What the approximator learns, and so which features count. With
        "conditional" (the paper's), it predicts the model's output on the
        full row from the kept entries (the others at the baseline, which
        the approximator learns to read as unknown): it estimates the
        output's expectation given the kept features, so a feature the model
        never reads still counts when it is correlated with one the model
        does read (on real tabular data it often is). With "baseline", it
        predicts the model's output on the masked row itself, the row that
        :meth:`transform`, :meth:`score` and
        :func:`~skcfx.metrics.posthoc_accuracy` hand the model, and the
        explainer learns the selections for which that output is the full
        row's: the features the model itself uses, given this baseline.
        Needs ``estimator``; costs one more model call per training batch
        (on the batch's masked rows and, with ``random_mask_weight``, as
        many randomly masked ones). See Notes.
    k_penalty : float, default=0.01
        What :meth:`score` charges per selected feature (group): the score
        is the post-hoc accuracy minus ``k_penalty * k``, so each further
        feature must buy at least this much accuracy (0.01: one point) to be
        worth selecting. Post-hoc accuracy alone never decreases with ``k``
        (more kept features, closer to the full row), so a search over
        ``k`` on it always picks the largest; at a fixed ``k`` the penalty is
        a constant and ``tau`` or the network sizes are chosen by post-hoc
        accuracy alone.
    device : str, default="cpu"
        The torch device on which the networks are trained and run.
    {random_state}
    verbose : int, default=0
        If positive, print skorch's per-epoch table.

    Attributes
    ----------
    estimator_ : estimator or None
        The fitted clone of ``estimator`` (None without one).
    classes_ : ndarray of shape (n_classes,)
        Classes of the explained output (classification only: not set when
        a regressor, or continuous ``y``, is explained).
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` holds the explainer and the
        approximator, ``net_.history`` the per-epoch training loss and
        ``valid_fidelity``.
    feature_groups_ : list of ndarray of int
        The column indices of each group, in the order of the explainer's
        outputs (the given groups, then one per remaining column).
    baseline_ : ndarray of shape (n_features,)
        The baseline values of the columns.
    best_epoch_ : int
        The epoch whose weights were kept.
    validation_fidelity_ : float or None
        Held-out post-hoc accuracy of that epoch (for a regressor, the
        R^2 of its predictions on the masked rows against those on
        the full rows; None when nothing was held out).
    validation_fixed_fidelity_ : float or None
        Reference for ``validation_fidelity_``: the post-hoc accuracy, on
        (up to 1,000 of) the held-out rows, of the same ``k`` groups kept in
        every row, chosen greedily; a warning is raised when the learned
        selections fall clearly below it (by more than 5 points, or
        ``1 / sqrt(rows)`` on fewer than 400 rows). None for a regressor,
        without ``estimator``, with fewer than 20 held-out rows, or when the
        greedy search would send the model more than 2,000,000 rows.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Column names seen in ``fit``, when X had string column names.

    See Also
    --------
    skcfx.metrics.median_rank : Rank of the truly relevant features.
    skcfx.metrics.posthoc_accuracy : Fidelity of any selection mask.

    Notes
    -----
    **Encoding, and what is done about it.** A jointly trained explainer and
    approximator can agree on a code: the explainer leaves out a
    recognisable set of features for one class, and the approximator reads
    the label from the mask pattern instead of from the kept values (a known
    critique of L2X; with a zero baseline it happens on the paper's own
    orange-skin data, whose class-1 region contains the baseline). Two
    measures close this channel. (1) ``random_mask_weight``: the
    approximator is also trained on random k-subsets, so that it models the
    output given any subset, not given the explainer's choices. (2) The
    training epoch is chosen by the explained model, never by the
    approximator: after each epoch the held-out rows are masked with the
    explainer's hard top-k selection and passed to
    ``estimator_.predict_proba``; the epoch with the smallest mean
    Kullback-Leibler divergence from the model's probabilities on the full
    rows is kept (the post-hoc accuracy of each epoch is recorded too, in
    ``net_.history``, as ``valid_fidelity``). The divergence is used rather
    than the accuracy because the accuracy alone can be raised by the same
    encoding (leaving out the features whose baseline values already give
    the predicted class). Without ``estimator`` there is no model to ask,
    and the approximator's accuracy on the hard-masked held-out rows against
    the targets is used instead.

    **Which removal.** Breast cancer data (scikit-learn's), a
    HistGradientBoostingClassifier, mean baseline, ``k=1``: with
    ``removal="conditional"`` the explainer picked "worst radius" for most
    rows, which predicts the label and so the model's output, but the model
    reads "mean concave points" and "worst area" instead: on the masked rows
    it kept the full row's class for 36% of the held-out rows (seed 0; 87%
    and 78% for seeds 1 and 2), where keeping "mean concave points" in
    every row keeps 88%. ``removal="baseline"`` asks the model and kept
    89% for all three seeds. Over breast cancer and wine, two models each
    and k = 1, 2, 4 (``benchmarks/bench_l2x_removal.py``), "baseline" was
    ahead or level in 10 of 12 settings; on the paper's synthetic sets,
    whose features are independent, both find the true features except on
    *switch*, where "conditional" is better (median rank 3.1-3.9 against
    5.0-5.5). The selections are compared with the best fixed set of ``k``
    features after training (``validation_fixed_fidelity_``), with a
    warning when they do clearly worse. :meth:`score` uses the baseline
    removal whichever is trained, so a
    :class:`~sklearn.model_selection.GridSearchCV` over ``removal`` picks
    the better one for a given model.

    **Determinism.** The same ``random_state`` gives the same weights and
    therefore identical masks (on the same device and torch version).
    Explanation involves no sampling: a row's mask depends on that row only,
    ties between equal logits go to the lower column index, and every row
    has exactly ``k`` selected groups. (The float32 logits of a row can
    differ in the last bit with the batch it is computed in, because the
    matrix kernels block rows differently; only two logits within that
    rounding of each other could then swap.) torch's global random state is left
    untouched.

    **Cost.** Training is ``max_epochs`` passes of two small MLPs over the
    rows plus one ``predict`` call per epoch on the held-out rows;
    explanation is one forward pass of the explainer.

    References
    ----------
    .. [1] J. Chen, L. Song, M. J. Wainwright and M. I. Jordan, "Learning to
       Explain: An Information-Theoretic Perspective on Model
       Interpretation", ICML 2018.

    Examples
    --------
    >>> from sklearn.neural_network import MLPClassifier
    >>> from skcfx import L2XSelector
    >>> from skcfx.datasets import make_l2x_synthetic
    >>> X, y, relevant = make_l2x_synthetic("xor", 2000, random_state=0)
    >>> mlp = MLPClassifier((50,), max_iter=300, random_state=0)
    >>> selector = L2XSelector(estimator=mlp, k=2, max_epochs=5, random_state=0)
    >>> mask = selector.fit(X, y).explain(X[:5]).mask
    >>> mask.sum(axis=1)
    array([2, 2, 2, 2, 2])
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
            HasMethods(["fit", "predict"]),
            None,
        ],
        "k": [Interval(Integral, 1, None, closed="left")],
        "tau": [Interval(Real, 0, None, closed="neither")],
        "tau_start": [Interval(Real, 0, None, closed="neither"), None],
        "explainer_hidden_layer_sizes": ["array-like"],
        "approximator_hidden_layer_sizes": ["array-like"],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "random_mask_weight": [Interval(Real, 0, None, closed="left")],
        "target_temperature": [Interval(Real, 0, None, closed="neither")],
        "feature_groups": [list, None],
        "baseline": [StrOptions({"zero", "mean"}), "array-like"],
        "ignore_baseline_entries": ["boolean"],
        "removal": [StrOptions({"conditional", "baseline"})],
        "k_penalty": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        k=4,
        tau=0.3,
        tau_start=None,
        explainer_hidden_layer_sizes=(100, 100),
        approximator_hidden_layer_sizes=(200, 200),
        max_epochs=30,
        batch_size=100,
        learning_rate=1e-3,
        weight_decay=0.0,
        validation_fraction=0.1,
        random_mask_weight=1.0,
        target_temperature=3.0,
        feature_groups=None,
        baseline="mean",
        ignore_baseline_entries=False,
        removal="conditional",
        k_penalty=0.01,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.k = k
        self.tau = tau
        self.tau_start = tau_start
        self.explainer_hidden_layer_sizes = explainer_hidden_layer_sizes
        self.approximator_hidden_layer_sizes = approximator_hidden_layer_sizes
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.random_mask_weight = random_mask_weight
        self.target_temperature = target_temperature
        self.feature_groups = feature_groups
        self.baseline = baseline
        self.ignore_baseline_entries = ignore_baseline_entries
        self.removal = removal
        self.k_penalty = k_penalty
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def _resolve_groups(self, n_features):
        names = getattr(self, "feature_names_in_", None)
        lookup = {} if names is None else {str(n): i for i, n in enumerate(names)}
        owner = np.full(n_features, -1)
        groups = []
        for g, group in enumerate(self.feature_groups or []):
            if np.ndim(group) != 1 or len(group) == 0:
                raise ValueError(
                    f"feature_groups[{g}]={group!r} in L2XSelector must be a "
                    "non-empty list of column indices or names."
                )
            cols = []
            for col in group:
                if isinstance(col, str):
                    if col not in lookup:
                        raise ValueError(
                            f"feature_groups[{g}] names column {col!r}, which is "
                            "not a column of X seen in fit."
                        )
                    col = lookup[col]
                elif isinstance(col, Integral | np.integer):
                    if not 0 <= col < n_features:
                        raise ValueError(
                            f"feature_groups[{g}] holds column index {col}, "
                            f"outside [0, {n_features}) for X with "
                            f"n_features_in_={n_features}."
                        )
                else:
                    raise TypeError(
                        f"feature_groups[{g}] holds {col!r}; expected column "
                        "indices (int) or names (str)."
                    )
                if owner[col] >= 0:
                    raise ValueError(
                        f"Column {col} is in feature_groups[{owner[col]}] and in "
                        f"feature_groups[{g}]; groups may not overlap."
                    )
                owner[col] = len(groups)
                cols.append(int(col))
            groups.append(np.asarray(cols, dtype=np.intp))
        for col in np.flatnonzero(owner < 0):
            owner[col] = len(groups)
            groups.append(np.asarray([col], dtype=np.intp))
        return groups, owner

    def _resolve_baseline(self, X):
        if isinstance(self.baseline, str):
            if self.baseline == "zero":
                return np.zeros(X.shape[1])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column
                return np.nan_to_num(np.nanmean(X, axis=0)).astype(np.float64)
        baseline = np.asarray(self.baseline, dtype=np.float64)
        if baseline.shape != (X.shape[1],) or not np.all(np.isfinite(baseline)):
            raise ValueError(
                f"baseline of shape {baseline.shape} in L2XSelector must be "
                f"finite with shape ({X.shape[1]},), one value per column."
            )
        return baseline

    def _targets(self, X_in, y):
        """Soft targets (n, n_classes) float32, and the classes; for a
        regression, the outputs (n, 1) and None."""
        if self._regression:
            if self.estimator_ is not None:
                out = np.asarray(self.estimator_.predict(X_in), dtype=np.float64)
            else:
                out = np.asarray(y, dtype=np.float64)
            return out.reshape(len(out), 1), None
        if self.estimator_ is not None:
            proba = class_probabilities(self.estimator_, X_in)
            return proba, np.asarray(self.estimator_.classes_)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1 and np.issubdtype(y.dtype, np.number):
            proba = y.astype(np.float64)
            sums = proba.sum(axis=1)
            if np.any(proba < 0) or not np.allclose(sums, 1.0, atol=1e-4):
                bad = int(
                    np.flatnonzero(
                        (proba < 0).any(axis=1) | ~np.isclose(sums, 1, atol=1e-4)
                    )[0]
                )
                raise ValueError(
                    "y given as a 2-D array must hold class probabilities "
                    f"(non-negative rows summing to 1); row {bad} is "
                    f"{proba[bad].tolist()}."
                )
            return proba, np.arange(proba.shape[1])
        if y.ndim == 2:
            y = y.ravel()
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        codes = encoder.transform(y)
        proba = np.zeros((len(y), len(encoder.classes_)))
        proba[np.arange(len(y)), codes] = 1.0
        return proba, encoder.classes_

    def _model_input(self, X):
        """Rows as the explained model expects them (a frame if fitted on one)."""
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return X
        import pandas as pd

        return pd.DataFrame(X, columns=names)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the model to explain (if given), then train the explainer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Numeric rows (encode categorical columns beforehand, for example
            with a one-hot encoder and ``feature_groups``); sparse rows
            (word counts from a vectorizer in a Pipeline) are densified for
            the networks, and the model is fitted on them as given. Missing values
            (NaN) are allowed when the explained model handles them (a
            Pipeline with ``SimpleImputer``, HistGradientBoosting): the model
            gets the rows as they are, the explainer and approximator
            networks a missing value as its column's training mean, and a
            selected missing entry stays missing in :meth:`transform`.
        y : array-like of shape (n_samples,) or (n_samples, n_classes), \
                default=None
            Class labels; or, without ``estimator``, a class-probability
            matrix to explain. Not needed when ``estimator`` is a
            :class:`~sklearn.frozen.FrozenEstimator` (L2X learns from its
            predicted probabilities).
        **fit_params : dict
            Metadata for the model's ``fit`` (``sample_weight``, ...),
            routed as it requests them when metadata routing is enabled,
            else passed on as they are; a FrozenEstimator ignores them.

        Returns
        -------
        self : L2XSelector
            The fitted selector.
        """
        torch = require_torch("L2XSelector")
        from skorch import NeuralNet

        from skcfx.feature_selection._l2x_modules import (
            AnnealTemperature,
            L2XLoss,
            L2XNetwork,
            SelectByHeldOutFidelity,
            Teach,
        )

        X_in = X
        if self.removal == "baseline" and self.estimator is None:
            raise ValueError(
                'L2XSelector(removal="baseline") asks the explained model for '
                "its output on masked rows; estimator is None. Pass the model, "
                'or use removal="conditional" to explain the targets y.'
            )
        frozen = isinstance(self.estimator, FrozenEstimator)
        if y is None and not frozen:
            raise ValueError(
                "L2XSelector requires y to be passed, but the target y is None; "
                "pass y, or wrap a fitted model in sklearn.frozen.FrozenEstimator."
            )
        if y is None:
            X = validate_data(
                self,
                X,
                accept_sparse="csr",
                dtype=[np.float64, np.float32],
                ensure_min_samples=2,
                ensure_all_finite="allow-nan",
            )
        else:
            X, y = validate_data(
                self,
                X,
                y,
                accept_sparse="csr",
                dtype=[np.float64, np.float32],
                multi_output=True,
                ensure_min_samples=2,
                ensure_all_finite="allow-nan",
            )
        X = _dense(X, "fit")
        explainer_hidden = _check_hidden(
            self.explainer_hidden_layer_sizes, "explainer_hidden_layer_sizes"
        )
        approximator_hidden = _check_hidden(
            self.approximator_hidden_layer_sizes, "approximator_hidden_layer_sizes"
        )
        groups, owner = self._resolve_groups(X.shape[1])
        if self.k > len(groups):
            unit = "feature groups" if self.feature_groups else "features"
            raise ValueError(
                f"k={self.k} must be <= the number of {unit}={len(groups)} in "
                "L2XSelector.fit."
            )
        baseline = self._resolve_baseline(X)

        self.estimator_ = None
        if self.estimator is not None:
            self.estimator_ = fit_clone(self, X_in, y, fit_params)
            self._regression = not hasattr(self.estimator_, "classes_")
            outputs = ("predict_proba", "decision_function")
            if not self._regression and not any(
                hasattr(self.estimator_, m) for m in outputs
            ):
                raise ValueError(
                    f"L2XSelector explains a classifier through predict_proba "
                    f"or decision_function; {type(self.estimator_).__name__} "
                    f"has neither."
                )
        else:
            self._regression = (
                y is not None
                and np.asarray(y).ndim == 1
                and type_of_target(y) == "continuous"
            )
        proba, classes = self._targets(X_in, y)
        if self._regression:
            if hasattr(self, "classes_"):
                del self.classes_
            # standardised outputs (the training rows' mean and spread)
            self._target_center = float(np.mean(proba))
            spread = float(np.std(proba))
            self._target_scale = spread if spread > 1e-12 else 1.0
            proba = (proba - self._target_center) / self._target_scale
        else:
            self.classes_ = classes
            proba = _temper(proba, self.target_temperature)
        if not self._regression and len(self.classes_) < 2:
            raise ValueError(
                f"L2XSelector needs at least 2 classes to explain; got "
                f"{len(self.classes_)} class: {self.classes_.tolist()}."
            )

        rng = check_random_state(self.random_state)
        n = len(X)
        n_valid = int(np.floor(self.validation_fraction * n))
        order = rng.permutation(n)
        valid, train = order[:n_valid], order[n_valid:]
        if n_valid == 0 or len(train) < 2:
            valid, train = order[:0], order
        # missing values (for a model that imputes them) enter the networks
        # as the column's training mean (0 after centring); the explained
        # model itself always gets the rows with their missing values
        X32 = to_float32(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column
            center = np.nan_to_num(np.nanmean(X32[train], axis=0)).astype(np.float32)
            scale = np.nan_to_num(np.nanstd(X32[train], axis=0)).astype(np.float32)
        scale[~(scale > 1e-12)] = 1.0
        X32 = _fill_missing(X32, center)

        callbacks = []
        if self.tau_start is not None:
            callbacks.append(("anneal", AnnealTemperature(self.tau_start, self.tau)))
        if self.removal == "baseline":
            callbacks.append(("teach", Teach(self._teacher())))
        if len(valid):
            callbacks.append(
                (
                    "select_epoch",
                    SelectByHeldOutFidelity(
                        X32[valid],
                        self._fidelity_on(X, proba, valid, owner, baseline),
                        criterion=(
                            "valid_fidelity"
                            if self.estimator_ is None
                            else "neg_valid_divergence"
                        ),
                        # The first third of the epochs is warm-up: scored
                        # and recorded, never kept.
                        first_epoch=max(1, self.max_epochs // 3),
                    ),
                )
            )
        net = NeuralNet(
            module=L2XNetwork,
            module__n_features=X.shape[1],
            module__n_outputs=proba.shape[1],
            module__group_index=owner,
            module__k=self.k,
            module__tau=self.tau,
            module__explainer_hidden=explainer_hidden,
            module__approximator_hidden=approximator_hidden,
            module__center=center,
            module__scale=scale,
            module__baseline=baseline.astype(np.float32),
            module__random_mask_weight=self.random_mask_weight,
            module__ignore_baseline_entries=self.ignore_baseline_entries,
            module__removal=self.removal,
            criterion=L2XLoss,
            criterion__random_mask_weight=self.random_mask_weight,
            criterion__regression=self._regression,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            lr=self.learning_rate,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            iterator_train__shuffle=True,
            callbacks=callbacks,
            device=self.device,
            verbose=self.verbose,
        )
        # numpy's BLAS held to one thread while torch trains: the explained
        # model's calls (each epoch's held-out rows; every batch with
        # removal="baseline") are small, and BLAS threads left spinning after
        # them take the cores from torch's (switch data, 4,000 rows, 10
        # epochs: 8.5 s with removal="baseline" without the limit, 1.6 s
        # with it; 1.8 s and 1.3 s for "conditional")
        with (
            seeded_torch(rng.randint(np.iinfo(np.int32).max)),
            threadpool_limits(1, user_api="blas"),
        ):
            net.fit(X32[train], to_float32(proba[train]))
        net.module_.eval()
        self.net_ = net
        self.feature_groups_ = groups
        self.baseline_ = baseline
        if len(valid):
            cb = callbacks[-1][1]
            self.best_epoch_ = int(cb.best_epoch_)
            self.validation_fidelity_ = float(
                net.history[self.best_epoch_ - 1, "valid_fidelity"]
            )
        else:
            self.best_epoch_ = int(self.max_epochs)
            self.validation_fidelity_ = None
        fixed, short = self._compare_with_fixed(X, valid)
        self.validation_fixed_fidelity_ = fixed
        if not short:  # the selection, not the baseline, is then at fault
            self._warn_if_collapsed(X, X_in, valid if len(valid) else train)
        return self

    def _compare_with_fixed(self, X, valid):
        """Held-out post-hoc accuracy of the best fixed k groups (greedy)
        or None, and whether the learned selections do clearly worse (then
        with a warning)."""
        if self.estimator_ is None or self._regression:
            return None, False
        G, k = len(self.feature_groups_), self.k
        m = min(len(valid), 1_000, 2_000_000 // (G * k))
        if m < 20:
            return None, False
        from skcfx.metrics import posthoc_accuracy

        rows = X[valid[:m]]
        owner = self._group_owner()
        predict = self.estimator_.predict
        full = np.asarray(predict(self._model_input(rows)))
        learned = posthoc_accuracy(
            self.estimator_,
            self._model_input(rows),
            self._mask(rows),
            baseline=self.baseline_,
        )
        chosen, fixed = [], 0.0
        for _ in range(k):
            candidates = np.array([g for g in range(G) if g not in chosen])
            hits = np.empty(len(candidates))
            # candidates in runs of at most ~5,000,000 numbers of masked rows
            step = max(1, 5_000_000 // (m * X.shape[1]))
            for a in range(0, len(candidates), step):
                run = candidates[a : a + step]
                keep = np.zeros((len(run), G), dtype=bool)
                keep[:, chosen] = True
                keep[np.arange(len(run)), run] = True
                cols = keep[:, owner]  # (run, n_features)
                masked = np.where(cols[:, None, :], rows[None], self.baseline_)
                masked = self._model_input(masked.reshape(-1, X.shape[1]))
                pred = np.asarray(predict(masked)).reshape(len(run), m)
                hits[a : a + len(run)] = (pred == full).mean(axis=1)
            best = int(np.argmax(hits))
            chosen.append(int(candidates[best]))
            fixed = float(hits[best])
        # a clear shortfall: 5 points, more on few rows (1 / sqrt(rows))
        short = learned < fixed - max(0.05, m**-0.5)
        if short:
            names = getattr(self, "feature_names_in_", None)
            label = [
                str(names[self.feature_groups_[g][0]])
                if names is not None
                else int(self.feature_groups_[g][0])
                for g in chosen
            ]
            unit = "group(s) led by" if self.feature_groups else "column(s)"
            advice = (
                'With removal="conditional" the explainer also credits features '
                "that predict the model's output without the model reading "
                'them (correlated columns); try removal="baseline".'
                if self.removal == "conditional"
                else "Try more max_epochs, another tau or tau_start."
            )
            warnings.warn(
                f"L2XSelector's selections keep the model's prediction on "
                f"{learned:.0%} of {m} held-out rows; keeping the same {k} "
                f"{unit} {label} in every row keeps it on {fixed:.0%}. {advice}",
                SkcfxWarning,
                stacklevel=3,
            )
        return fixed, short

    def _teacher(self):
        """The training targets of raw float32 rows, from the explained
        model (``removal="baseline"``): tempered probabilities, or a
        regression's standardised output."""
        estimator, model_input = self.estimator_, self._model_input
        if self._regression:
            center, scale = self._target_center, self._target_scale

            def teacher(rows):
                out = estimator.predict(model_input(rows.astype(np.float64)))
                return ((np.asarray(out, dtype=np.float64) - center) / scale)[:, None]

            return teacher
        temperature = self.target_temperature

        def teacher(rows):
            proba = class_probabilities(estimator, model_input(rows.astype(np.float64)))
            return _temper(proba, temperature)

        return teacher

    def _warn_if_collapsed(self, X, X_in, rows):
        """Warn when the masked rows make the model predict one class only."""
        if self.estimator_ is None or len(rows) < 2:
            return
        rows = rows[:2000]
        sub = X[rows]
        before = np.asarray(self.estimator_.predict(_safe_indexing(X_in, rows)))
        masked = self._masked(sub)
        after = np.asarray(self.estimator_.predict(self._model_input(masked)))
        if self._regression:
            spread = float(np.std(before))
            if spread > 0 and float(np.std(after)) < 0.01 * spread:
                warnings.warn(
                    f"With baseline={self.baseline!r} the explained model's "
                    f"predictions on the masked held-out rows hardly vary "
                    f"(spread {np.std(after):.3g} against {spread:.3g} on the "
                    "rows themselves), so the selection cannot carry the "
                    "prediction. Use a baseline meaningful for these data, "
                    'e.g. baseline="mean" on raw tabular data, or scale the '
                    "inputs.",
                    SkcfxWarning,
                    stacklevel=3,
                )
            return
        labels, counts = np.unique(after, return_counts=True)
        top = labels[np.argmax(counts)]
        share_after = counts.max() / len(after)
        share_before = np.mean(before == top)
        # collapsed: (almost) every masked row gets one class that the
        # unmasked rows do not (almost) all have
        if share_after >= 0.99 and share_before <= 0.95:
            top = top.item() if hasattr(top, "item") else top
            warnings.warn(
                f"With baseline={self.baseline!r} the explained model predicts "
                f"class {top!r} for {share_after:.0%} of the masked held-out "
                f"rows (for {share_before:.0%} of the rows themselves), so "
                "the selection cannot carry the prediction. "
                'Use a baseline meaningful for these data, e.g. baseline="mean" '
                "on raw tabular data, or scale the inputs.",
                SkcfxWarning,
                stacklevel=3,
            )

    def _fidelity_on(self, X, proba, valid, group_owner, baseline):
        """Held-out fidelity of a group mask, as a closure for the callback.

        With a model: one ``predict_proba`` call on the masked held-out rows
        gives the post-hoc accuracy (``valid_fidelity``) and the mean
        Kullback-Leibler divergence from the model's probabilities on the
        full rows to those on the masked rows (``valid_divergence``).
        Without: the approximator's accuracy against the targets.
        """
        X_valid = X[valid]
        p_full = proba[valid]
        label = p_full.argmax(axis=1)
        eps = 1e-12
        if self._regression:
            return self._regression_fidelity(
                X_valid, p_full[:, 0], group_owner, baseline
            )

        if self.estimator_ is not None:
            estimator, model_input = self.estimator_, self._model_input
            temperature = self.target_temperature

            def fidelity(group_mask, module):
                masked = np.where(group_mask[:, group_owner], X_valid, baseline)
                p_masked = _temper(
                    class_probabilities(estimator, model_input(masked)), temperature
                )
                kl = np.sum(
                    p_full * (np.log(p_full + eps) - np.log(p_masked + eps)), axis=1
                )
                return {
                    "valid_fidelity": np.mean(p_masked.argmax(axis=1) == label),
                    "valid_divergence": np.mean(kl),
                    "neg_valid_divergence": -np.mean(kl),
                }

            return fidelity

        X_valid32 = to_float32(X_valid)

        def agreement(group_mask, module):
            pred = _approximate(module, X_valid32, group_mask).argmax(axis=1)
            return {"valid_fidelity": np.mean(pred == label)}

        return agreement

    def _standardized(self, X_in):
        """The explained regressor's predictions on ``X_in``, standardised
        as in training."""
        out = np.asarray(self.estimator_.predict(X_in), dtype=np.float64).ravel()
        return (out - self._target_center) / self._target_scale

    def _regression_fidelity(self, X_valid, z_full, group_owner, baseline):
        """Held-out fidelity for a regression: the R^2 of the
        model's standardised predictions on the masked rows against those on
        the full rows (``valid_fidelity``) and their mean squared gap
        (``valid_divergence``); without a model, the approximator's
        predictions against the targets."""
        spread = max(float(np.var(z_full)), 1e-12)
        X_valid32 = to_float32(X_valid)

        def scores(z_masked):
            gap = float(np.mean((z_full - z_masked) ** 2))
            return {
                "valid_fidelity": 1.0 - gap / spread,
                "valid_divergence": gap,
                "neg_valid_divergence": -gap,
            }

        def fidelity(group_mask, module):
            if self.estimator_ is not None:
                masked = np.where(group_mask[:, group_owner], X_valid, baseline)
                return scores(self._standardized(self._model_input(masked)))
            z = _approximate(module, X_valid32, group_mask)
            return scores(z[:, 0].astype(np.float64))

        return fidelity

    # ------------------------------------------------------------ explain
    def _group_scores(self, X):
        """Explainer logits of validated rows, float64 (n, n_groups)."""
        import torch

        module = self.net_.module_
        out = np.empty((len(X), len(self.feature_groups_)), dtype=np.float64)
        device = module.center.device
        with torch.no_grad():
            for start in range(0, len(X), _EXPLAIN_BLOCK):
                chunk = self._network_input(X[start : start + _EXPLAIN_BLOCK])
                logits = module.explainer_logits(torch.as_tensor(chunk, device=device))
                out[start : start + len(chunk)] = logits.cpu().numpy()
        return out

    def _group_owner(self):
        """Group index of each column (as built in fit)."""
        return self.net_.module_.group_index.cpu().numpy()

    def _validate(self, X, keep_sparse=False):
        """Validated rows, dense (``keep_sparse``: a sparse input stays
        sparse, CSR)."""
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse="csr",
            reset=False,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
        )
        return X if keep_sparse else _dense(X, "transform")

    def _network_input(self, X):
        """float32 rows for the networks: a missing value as the column's
        training mean (the networks' centre)."""
        return _fill_missing(to_float32(X), self.net_.module_.center.cpu().numpy())

    def explain(self, X):
        """Selected features, scores and rankings of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to explain.

        Returns
        -------
        explanation : :class:`~sklearn.utils.Bunch`
            With keys

            - ``mask``: bool ndarray of shape (n_samples, n_features), True
              for the columns of the ``k`` selected groups of each row;
            - ``group_mask``: bool ndarray of shape (n_samples, n_groups),
              exactly ``k`` True per row (equal to ``mask`` without
              ``feature_groups``);
            - ``scores``: float ndarray of shape (n_samples, n_features), the
              explainer's logit of each column's group (higher = more
              important; use it with :func:`~skcfx.metrics.median_rank`);
            - ``group_scores``: float ndarray of shape (n_samples, n_groups);
            - ``ranking``: int ndarray of shape (n_samples, n_groups), group
              indices from most to least important (ties to the lower index);
            - ``selected``: int ndarray of shape (n_samples, k), the first
              ``k`` columns of ``ranking``.
        """
        X = self._validate(X)
        group_scores, ranking, group_mask = self._select(X)
        owner = self._group_owner()
        return Bunch(
            mask=group_mask[:, owner],
            group_mask=group_mask,
            scores=group_scores[:, owner],
            group_scores=group_scores,
            ranking=ranking,
            selected=ranking[:, : self.k],
        )

    def transform(self, X):
        """Keep each row's selected entries and set the others to the baseline.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to mask.

        Returns
        -------
        X_masked : ndarray or sparse CSR matrix of shape (n_samples, n_features)
            Same dtype as the validated input (float64 or float32); the
            entries outside each row's selection equal ``baseline_``. A
            sparse input gives a sparse CSR output.
        """
        X = self._validate(X, keep_sparse=True)
        if sparse.issparse(X):
            return sparse.csr_matrix(self._masked(_dense(X, "transform")))
        return self._masked(X)

    def _select(self, X):
        """Scores, ranking (stable: ties to the lower index) and k-hot mask."""
        group_scores = self._group_scores(X)
        ranking = np.argsort(-group_scores, axis=1, kind="stable")
        group_mask = np.zeros(group_scores.shape, dtype=bool)
        np.put_along_axis(group_mask, ranking[:, : self.k], True, axis=1)
        return group_scores, ranking, group_mask

    def _group_mask(self, X):
        return self._select(X)[2]

    def _masked(self, X):
        """Validated rows with the unselected entries at the baseline."""
        return np.where(self._mask(X), X, self.baseline_.astype(X.dtype))

    def _mask(self, X):
        return self._group_mask(X)[:, self._group_owner()]

    def score(self, X, y=None):
        """Post-hoc accuracy of the selections on ``X``, minus ``k_penalty * k``.

        Post-hoc accuracy, with ``estimator``: the fraction of rows whose
        ``estimator_`` prediction on the masked row (:meth:`transform`)
        equals its prediction on the full row (``y`` is ignored); without:
        the approximator's accuracy on the masked rows against the labels
        ``y``. The penalty makes a search over ``k`` meaningful (see
        ``k_penalty``); :func:`skcfx.metrics.posthoc_accuracy` gives the
        accuracy alone. To choose ``k`` for a downstream model instead, put
        the selector in a Pipeline before that model and search
        ``l2xselector__k`` on the Pipeline's own score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows.
        y : array-like of shape (n_samples,), default=None
            Labels; needed only without ``estimator``.

        Returns
        -------
        score : float
            Higher is better, so it can drive
            :class:`~sklearn.model_selection.GridSearchCV`.
        """
        from skcfx.metrics import posthoc_accuracy

        X_in = X
        X = self._validate(X)
        if self._regression:
            return self._regression_score(X_in, X, y) - self.k_penalty * self.k
        if self.estimator_ is not None:
            if not hasattr(X_in, "columns"):
                X_in = self._model_input(X)
            acc = posthoc_accuracy(
                self.estimator_, X_in, self._mask(X), baseline=self.baseline_
            )
            return acc - self.k_penalty * self.k
        if y is None:
            raise ValueError(
                "L2XSelector.score needs y when no estimator is explained: the "
                "score is then the approximator's accuracy on masked rows."
            )
        logits = _approximate(self.net_.module_, to_float32(X), self._group_mask(X))
        pred = self.classes_[logits.argmax(axis=1)]
        acc = float(np.mean(pred == np.asarray(y).ravel()))
        return acc - self.k_penalty * self.k

    def _regression_score(self, X_in, X, y):
        """R^2 of the kept rows' outputs against the full rows' (the
        model's predictions; without a model, the approximator's against
        ``y``)."""
        from sklearn.metrics import r2_score

        masked = self._masked(X)
        if self.estimator_ is not None:
            if not hasattr(X_in, "columns"):
                X_in = self._model_input(X)
            full = np.asarray(self.estimator_.predict(X_in), dtype=np.float64)
            kept = np.asarray(
                self.estimator_.predict(self._model_input(masked)), dtype=np.float64
            )
            return float(r2_score(full.ravel(), kept.ravel()))
        if y is None:
            raise ValueError(
                "L2XSelector.score needs y when no estimator is explained: the "
                "score is then the approximator's R^2 on masked rows."
            )
        z = _approximate(self.net_.module_, to_float32(X), self._group_mask(X))
        pred = z[:, 0] * self._target_scale + self._target_center
        return float(r2_score(np.asarray(y, dtype=np.float64).ravel(), pred))

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
        tags.target_tags.required = not isinstance(self.estimator, FrozenEstimator)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # missing values go to the explained model as they are (a Pipeline
        # that imputes them, HistGradientBoosting) and to the networks as
        # the training mean
        tags.input_tags.allow_nan = True
        # sparse rows (word counts) are taken and densified
        tags.input_tags.sparse = True
        return tags
