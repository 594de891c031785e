"""CounterfactualExplainer: diverse, constrained counterfactuals of tabular rows."""

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
    clone,
    is_classifier,
    is_regressor,
)
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skcfx.counterfactual._base import STATUS, resolve_targets
from skcfx.counterfactual._engine.causal import CodedSCM
from skcfx.counterfactual._engine.constraints import Constraints, column_index
from skcfx.counterfactual._engine.feature_space import FeatureSpace
from skcfx.counterfactual._engine.manifold import Manifold
from skcfx.counterfactual._engine.methods import SearchContext
from skcfx.counterfactual._engine.methods.kdtree import TrainingIndex
from skcfx.counterfactual._engine.models import (
    ModelInput,
    categorical_columns_from_estimator,
    coded_forward,
    encoder_categories,
)
from skcfx.counterfactual._tabular.explain import ExplainMixin
from skcfx.counterfactual._tabular.queries import (
    check_input,
    oracle_of,
)
from skcfx.exceptions import NoCounterfactualWarning
from skcfx.utils._docstrings import substitute
from skcfx.utils._routing import fit_clone, model_router

__all__ = ["CounterfactualExplainer"]


@substitute()
class CounterfactualExplainer(
    ExplainMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """Diverse counterfactual explanations under exact constraints.

    For each query row, finds up to ``n_counterfactuals`` rows that are
    close to it (Wachter et al.'s proximity), change few features, differ
    from each other (DiCE's diversity), respect every constraint exactly,
    and that the model predicts as the desired class (or within the desired
    range). Works on raw pandas data through the user's own Pipeline: the
    search happens in the raw feature space and the model sees raw rows.

    Read more in the :ref:`User Guide <counterfactual>`.

    Parameters
    ----------
    estimator : estimator object
        The model to explain, with ``fit`` and ``predict`` (and preferably
        ``predict_proba``). It is cloned and fitted in :meth:`fit`; pass
        ``sklearn.frozen.FrozenEstimator(model)`` to explain a trained model
        as it is.
    method : {{"genetic", "random", "kdtree", "gradient", "exact", "auto"}}, \
            default="genetic"
        Search method (see Notes). ``"auto"`` picks between ``"gradient"``
        and ``"genetic"`` in :meth:`fit` (see ``method_``): the gradient
        search only for a differentiable classifier on which a probe (both
        searches on 8 training rows) finds it at least as fast per query at
        an equal or better :meth:`score`; ``"genetic"`` otherwise.
        ``"exact"`` returns provably optimal counterfactuals of linear
        models (a MILP per query, solved by HiGHS) and tree ensembles (a
        best-first branch and bound over the trees' thresholds), within
        ``time_limit``; see ``explanations.certificate``. ``"gradient"``
        needs a differentiable model: a torch module, a skorch net, a
        scikit-learn linear model, MLPClassifier or MLPRegressor, alone or in a
        Pipeline behind scalers (Standard, MinMax, MaxAbs), PCA /
        TruncatedSVD, feature selectors (SelectKBest, ...) and a
        ColumnTransformer whose categorical columns go
        through a OneHotEncoder, OrdinalEncoder or TargetEncoder (needs the
        ``torch`` extra); it cannot start from missing values (with
        ``"auto"``, queries with missing values get the genetic search).
    n_counterfactuals : int, default=4
        Counterfactuals returned per query (fewer when fewer exist).
    desired_class : "opposite", int, str or bool, default="opposite"
        Class the counterfactuals must be predicted as. ``"opposite"`` is the
        other class for a binary model and "any class but the query's" for
        a multi-class one. Classification only.
    desired_range : tuple (low, high), default=None
        Closed interval the prediction must reach (``None`` or ``inf`` for
        an open side: ``(200, None)`` is "at least 200"). Regression only,
        and then required.
    features_to_vary : "all" or list of str or int, default="all"
        Columns that may change; the others stay exactly as in the query.
        Here and in the other constraints a column is named by its name
        (``"x0"``, ``"x1"``, ... for arrays) or by its integer position, as
        in a ColumnTransformer (a frame's integer column names are names).
    permitted_range : dict, default=None
        ``{{numeric column: (low, high)}}`` closed interval (``None`` for an
        open side) and ``{{categorical column: [allowed categories]}}``. A
        counterfactual's value of such a column always lies in it (even when
        the query's does not). Other columns stay within their training
        range (extended to the query's value).
    monotonic : dict, default=None
        ``{{column: "increasing" | "decreasing"}}``: the column may only move
        in that direction. Categorical columns must be ordered pandas
        Categoricals.
    predicates : callable or list of callables, default=None
        Feasibility rules. Each is called as ``f(candidates)`` or, if it
        takes two arguments, ``f(candidates, queries)`` with DataFrames of
        candidate rows and of their queries (aligned row by row) and returns
        a boolean mask (True = admissible). Example:
        ``lambda c, q: (c.education_num <= q.education_num) | (c.age >=
        q.age + 2)``.
    categorical_features : "auto" or list of str or int, default="auto"
        Categorical columns. ``"auto"``: columns of object, string, category
        or bool dtype plus those that the estimator's ColumnTransformer
        routes to a OneHotEncoder, OrdinalEncoder or TargetEncoder.
    proximity_weight : float, default=1.0
        Weight of the distance to the query in the cost.
    sparsity_weight : float, default=1.0
        Weight of the fraction of changed features in the cost.
    plausibility_weight : float, default=0.0
        Weight of closeness to the data manifold in the cost: the mean
        mixed distance of the counterfactual (with ``scm``, of the resulting
        row) to its ``plausibility_neighbors`` nearest training rows that
        the model gives the desired outcome (see Notes). 0 leaves it out;
        ``method="exact"`` does not support it.
    plausibility_neighbors : int, default=5
        Neighbours averaged in the plausibility term.
    scm : StructuralCausalModel, default=None
        Causal recourse (see Notes): a
        :class:`~skcfx.causal.StructuralCausalModel` over the columns
        (fitted on ``X`` in :meth:`fit` unless already fitted). A
        counterfactual is then a set of interventions on the features that
        may vary; their effects on the descendants are propagated through
        the SCM, the model judges the resulting row, and the cost counts
        only the interventions. Model-agnostic methods only.
    diversity_weight : float, default=0.25
        Weight of the distance to already selected counterfactuals when
        picking the ``n_counterfactuals`` (see Notes). Not used by
        ``method="exact"``, whose next answers are the next cheapest that
        change another set of features (or a category to another one).
    min_separation : float, default=0.25
        Two counterfactuals of one query differ by at least this much:
        the sum over features of their absolute differences in MADs, a
        changed category counting 1 (0.25: a quarter of a typical spread in
        one column). Near-duplicates (incomes of 52,838 and 52,851, say)
        are never returned together; fewer than ``n_counterfactuals`` come
        back when no other separated counterfactual was found. 0 keeps
        only exact duplicates apart. Not used by ``method="exact"`` (its
        answers change different sets of features).
    n_candidates : int, default=None
        Candidates per query per iteration: samples per round (random,
        default 60), population size (genetic, default 100), neighbours in
        the first stage (kdtree, default 100).
    max_rounds : int, default=None
        Rounds (random, default 25), generations (genetic, default 40) or
        widening stages (kdtree, default 3).
    time_limit : float, default=10.0
        Seconds per query of the ``"exact"`` method's solver; a query not
        solved to optimality by then reports the best counterfactual found
        and its gap (see Notes).
    posthoc_sparsity : bool, default=True
        Revert changes that the outcome does not need, then shrink numeric
        changes toward the query by bisection.
    max_samples : int or None, default=100_000
        Training rows the explainer keeps for its searches (the nearest
        desired-outcome rows of the kd-tree method and of the genetic
        seeds, the surrogate models) and for the plausibility metric: a
        random sample of that many rows (drawn with ``random_state``) when
        ``X`` has more, and the model predicts only those in ``fit``. The
        feature space (ranges, MADs, categories, decimals) is always learned
        from every row. Fitting then takes time linear in the rows and
        memory bounded by the sample, and the fitted explainer pickles to
        the model plus the sample (``d`` numbers per row). ``None`` keeps
        every row.
    {random_state}
    {n_jobs}
    verbose : int, default=0
        ``1``: a progress bar of ``explain`` over its chunks of at most 1,024
        queries (needs tqdm, the ``progress`` extra); ``2`` and more: also
        the joblib backend's messages, at ``verbose - 1``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    method_ : str
        The search method in use: ``method``, or the one ``"auto"`` chose.
    method_probe_ : DataFrame or None
        With ``method="auto"`` on a differentiable classifier, the probe
        behind the choice: seconds per query and score of each search.
    classes_ : ndarray
        Classes of a classifier.
    categorical_features_ : list of str
        Columns treated as categorical.
    feature_ranges_ : dict
        ``{{numeric column: (min, max)}}`` seen in training and ``{{categorical
        column: [categories]}}``.
    mad_ : dict
        Scale (median absolute deviation) of each numeric column.
    integer_features_ : list of str
        Numeric columns whose values are integers.
    scm_ : StructuralCausalModel or None
        The fitted SCM of causal recourse.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X has string column
        names.

    See Also
    --------
    skcfx.metrics : Validity, proximity, sparsity, diversity, plausibility.

    Notes
    -----
    *Objective.* A candidate ``c`` for query ``x`` costs
    ``proximity_weight * dist(x, c) + sparsity_weight * n_changed / d``,
    with ``dist`` the MAD-scaled mixed distance of :mod:`skcfx.metrics`;
    only candidates that the model predicts as desired (and that pass the
    predicates) are valid.

    *Methods.* ``"random"`` samples sparse perturbations; ``"genetic"``
    evolves a population seeded with nearby desired-class training rows;
    ``"kdtree"`` retrieves the nearest training rows predicted as the
    desired class and projects them into the admissible region. Every
    method scores a whole batch of candidates, all queries together, with
    one model call, and draws and repairs candidates inside the admissible
    region so that constraints hold by construction. ``"gradient"``
    optimises all queries' counterfactuals together in one tensor with
    Adam on DiCE's loss (hinge toward the desired class on the model's
    logits, MAD-scaled L1 proximity, a smooth count of changed features,
    DPP diversity between the ``k`` counterfactuals) with Wachter's
    adjustment of the prediction weight, plus trajectories that complete
    the most promising category changes with numeric moves, clipping into
    the admissible box after every step; ``max_rounds`` is
    then the number of steps (default 200), and every 20 steps the rounded
    candidates are re-predicted by the model itself, so only rows the model
    really predicts as desired count. A query for which the
    chosen method finds nothing is handed to a second search (random
    sampling after ``"genetic"``, ``"kdtree"`` or ``"gradient"``, a genetic
    search after ``"random"``) before it is reported as not found.

    *Plausibility.* With ``plausibility_weight > 0`` a candidate's cost
    also holds ``plausibility_weight`` times its mean distance to the
    ``plausibility_neighbors`` nearest training rows (of the kept sample)
    that the model predicts as the desired outcome, in the same mixed
    distance: counterfactuals are pulled toward regions where real rows of
    the desired outcome lie (the k-nearest-neighbour density proxy of
    FACE and DiCE's plausibility criterion). While searching, the
    distance is measured against the 256 nearest such rows of each query;
    results report the exact distances (``skcfx.metrics.plausibility``,
    ``knn_distance``, ``local_outlier_factor``, ``ynn``).

    *Causal recourse.* With an ``scm``, a candidate row ``c`` of query
    ``x`` stands for the interventions ``do(c_j)`` on the cells where it
    differs from ``x``; the SCM abducts ``x``'s noise, applies them and
    recomputes their descendants (Karimi, Schölkopf and Valera, 2021).
    ``features_to_vary``, ranges and directions apply to the intervened
    cells, as always; ranges, directions and predicates also apply to the
    resulting row (a descendant pushed outside its permitted range makes
    the candidate invalid), while a frozen (not actionable) column may
    change as a consequence. Proximity, sparsity and the fixed ruler of
    :meth:`score` measure the interventions; the explanation lists the
    interventions and the downstream changes per counterfactual.

    *Diversity.* From the valid candidates the ``k`` counterfactuals are
    picked greedily: the cheapest first, then each time the candidate
    minimising ``cost - diversity_weight * (distance to the nearest one
    already picked)``; exact duplicates are never picked twice.

    *Determinism.* Each query's random stream is seeded from the fitted
    seed and the query's values, so a row's counterfactuals do not depend
    on the other rows of the batch nor on ``n_jobs``.

    References
    ----------
    .. [1] Wachter, S., Mittelstadt, B. and Russell, C. (2017).
       Counterfactual explanations without opening the black box.
       Harvard Journal of Law & Technology 31(2).
    .. [2] Mothilal, R. K., Sharma, A. and Tan, C. (2020). Explaining
       machine learning classifiers through diverse counterfactual
       explanations. FAT* 2020.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skcfx import CounterfactualExplainer
    >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    >>> cfx = CounterfactualExplainer(LogisticRegression(), n_counterfactuals=2,
    ...                               random_state=0).fit(X, y)
    >>> expl = cfx.explain(X[:3])
    >>> list(expl.status)
    ['found', 'found', 'found']
    >>> frame = expl.to_frame()
    >>> bool(frame["valid"].all())
    True
    >>> bool((frame["prediction"].to_numpy() != cfx.estimator_.predict(X[:3])[
    ...     frame["query"].to_numpy(dtype=int)]).all())
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "method": [
            StrOptions({"genetic", "random", "kdtree", "gradient", "exact", "auto"})
        ],
        "n_counterfactuals": [Interval(numbers.Integral, 1, None, closed="left")],
        # valid labels are known only once the model is fitted: checked in fit
        "desired_class": "no_validation",
        "desired_range": [tuple, list, None],
        "features_to_vary": [StrOptions({"all"}), list, tuple],
        "permitted_range": [dict, None],
        "monotonic": [dict, None],
        "predicates": [callable, list, None],
        "categorical_features": [StrOptions({"auto"}), list, tuple],
        "proximity_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "sparsity_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "plausibility_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "plausibility_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "scm": [HasMethods(["fit", "propagate"]), None],
        "diversity_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "min_separation": [Interval(numbers.Real, 0, None, closed="left")],
        "n_candidates": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_rounds": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "posthoc_sparsity": ["boolean"],
        "max_samples": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "time_limit": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        method="genetic",
        n_counterfactuals=4,
        desired_class="opposite",
        desired_range=None,
        features_to_vary="all",
        permitted_range=None,
        monotonic=None,
        predicates=None,
        categorical_features="auto",
        proximity_weight=1.0,
        sparsity_weight=1.0,
        plausibility_weight=0.0,
        plausibility_neighbors=5,
        scm=None,
        diversity_weight=0.25,
        min_separation=0.25,
        n_candidates=None,
        max_rounds=None,
        time_limit=10.0,
        posthoc_sparsity=True,
        max_samples=100_000,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.method = method
        self.n_counterfactuals = n_counterfactuals
        self.desired_class = desired_class
        self.desired_range = desired_range
        self.features_to_vary = features_to_vary
        self.permitted_range = permitted_range
        self.monotonic = monotonic
        self.predicates = predicates
        self.categorical_features = categorical_features
        self.proximity_weight = proximity_weight
        self.sparsity_weight = sparsity_weight
        self.plausibility_weight = plausibility_weight
        self.plausibility_neighbors = plausibility_neighbors
        self.scm = scm
        self.diversity_weight = diversity_weight
        self.min_separation = min_separation
        self.n_candidates = n_candidates
        self.max_rounds = max_rounds
        self.time_limit = time_limit
        self.posthoc_sparsity = posthoc_sparsity
        self.max_samples = max_samples
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        # missing values are accepted when the model accepts them
        tags.input_tags.allow_nan = get_tags(self.estimator).input_tags.allow_nan
        tags.target_tags.required = not isinstance(self.estimator, FrozenEstimator)
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def get_metadata_routing(self):
        """Metadata routing of this explainer: ``fit``'s metadata go to the
        model's ``fit``.

        Returns
        -------
        routing : MetadataRouter
            The routing of fit metadata to the model (scikit-learn's
            metadata routing user guide).
        """
        return model_router(self)

    # -------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the model (unless frozen) and learn the feature space.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data in raw form (the model's own input).
        y : array-like of shape (n_samples,), default=None
            Targets; not needed when ``estimator`` is a FrozenEstimator.
        **fit_params : dict
            Metadata for the model's ``fit``, such as ``sample_weight``:
            passed on as the model requests it when metadata routing is
            enabled (``set_fit_request``), else passed on as it is; a
            FrozenEstimator ignores them.

        Returns
        -------
        self : object
            Fitted explainer.
        """
        frame, kind = check_input(self, X, reset=True)
        if y is None and not isinstance(self.estimator, FrozenEstimator):
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the "
                "target y is None; pass y, or wrap a fitted model in "
                "sklearn.frozen.FrozenEstimator."
            )
        if y is not None and np.asarray(y).shape[0] != frame.shape[0]:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: "
                f"{frame.shape[0]} and {np.asarray(y).shape[0]}."
            )
        self._names = [str(c) for c in frame.columns]
        self.estimator_ = fit_clone(self, X, y, fit_params)
        space = self._fit_space(frame)
        self.model_input_ = ModelInput(kind, space.is_categorical.any())
        if self.max_samples is not None and len(frame) > self.max_samples:
            rng = check_random_state(self.random_state)
            keep = np.sort(rng.choice(len(frame), self.max_samples, replace=False))
            frame = frame.iloc[keep]
        Z = space.encode(frame)
        self.method_ = self.method if self.method != "auto" else None
        self._fit_method = self.method  # what the search context is made for
        self.method_probe_ = None
        self._fit_scm(frame)
        group, train_pred = self._fit_task(self.model_input_(space.decode(Z)))
        # training rows per outcome: the plausibility term and metrics
        self._manifold = Manifold(Z, group, space)
        varying = np.flatnonzero(self.constraints_.vary)
        self._seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        module = None
        if self.method == "auto":
            module = self._differentiable(space)
            self.method_ = "gradient" if module is not None else "genetic"
        if self.method == "gradient":
            module = coded_forward(self.estimator_, space)
        exact = None
        if self.method == "exact":
            from skcfx.counterfactual._engine.methods.exact import ExactModel

            exact = ExactModel(self.estimator_, space, Z[0])
        seeder = None
        if self.method in ("genetic", "random", "kdtree", "auto"):
            from skcfx.counterfactual._engine.exact.seeding import SurrogateSeeder

            seeder = SurrogateSeeder(
                self.estimator_,
                space,
                Z,
                group,
                self._task,
                prediction=train_pred,
                seed=self._seed,
            )
        self._context = SearchContext(
            index=TrainingIndex(Z, group, space, varying),
            module=module,
            exact=exact,
            time_limit=self.time_limit,
            seeder=seeder,
        )
        if self.method == "auto" and module is not None:
            self._probe(frame)
        return self

    def _differentiable(self, space):
        """The torch module of a classifier the gradient search can take,
        else None (``method="auto"``: regression, an SCM, no torch, a model
        that cannot be rebuilt in torch)."""
        if self._task != "classification" or self.scm is not None:
            return None
        try:
            return coded_forward(self.estimator_, space)
        except (ImportError, TypeError, ValueError, NotImplementedError):
            return None

    def _probe(self, frame, n_rows=8):
        """``method="auto"``: both searches on ``n_rows`` training rows; the
        gradient search is kept only if at least as fast per query at an
        equal or better fixed-ruler score."""
        rng = check_random_state(self._seed)
        pick = rng.choice(len(frame), min(n_rows, len(frame)), replace=False)
        rows = self.model_input_(frame.iloc[np.sort(pick)])
        probe = {}
        for method in ("gradient", "genetic"):
            self.method_ = method
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoCounterfactualWarning)
                expl = self.explain(rows)
            probe[method] = {
                "seconds_per_query": (time.perf_counter() - start) / len(rows),
                "score": expl.score(),
            }
        g, e = probe["gradient"], probe["genetic"]
        wins = (
            g["seconds_per_query"] <= e["seconds_per_query"]
            and g["score"] >= e["score"]
        )
        self.method_ = "gradient" if wins else "genetic"
        if not wins:  # the torch module is not needed any more
            self._context.module = None
        self.method_probe_ = pd.DataFrame(probe).T

    def _fit_scm(self, frame):
        """Fit (or check) the structural causal model; method limits."""
        if self.plausibility_weight > 0 and self.method == "exact":
            raise ValueError(
                f"plausibility_weight={self.plausibility_weight} is not "
                'supported by method="exact" (its solvers optimise proximity '
                "and sparsity); use a model-agnostic method or "
                "plausibility_weight=0."
            )
        self.scm_ = None
        self._coded_scm = None
        if self.scm is None:
            return
        if self.method in ("gradient", "exact"):
            raise ValueError(
                f"scm is not supported by method={self.method!r}; causal "
                'recourse uses a model-agnostic method ("genetic", "random", '
                '"kdtree").'
            )
        if self.model_input_.kind != "frame":
            raise ValueError(
                "scm needs the explainer to be fitted on a DataFrame whose "
                "columns the SCM's graph names; got an array."
            )
        try:
            check_is_fitted(self.scm)
            scm = self.scm
        except NotFittedError:
            scm = clone(self.scm).fit(frame)
        self.scm_ = scm
        self._coded_scm = CodedSCM(scm, self.feature_space_)

    def _fit_space(self, frame):
        """Learn the feature space and compile the constraints."""
        model = self.estimator_
        if self.categorical_features == "auto":
            categorical = categorical_columns_from_estimator(model, self._names)
        else:
            categorical = [
                self._names[column_index(self._names, "categorical_features", c)]
                for c in self.categorical_features
            ]
        self.feature_space_ = space = FeatureSpace(
            frame, categorical, extra_categories=encoder_categories(model, self._names)
        )
        self.categorical_features_ = [space.names[j] for j in space.categorical]
        self.integer_features_ = [
            space.names[j] for j in space.numeric if space.decimals[j] == 0
        ]
        self.feature_ranges_ = {
            name: (
                list(space.categories[j])
                if space.is_categorical[j]
                else (space.lower[j], space.upper[j])
            )
            for j, name in enumerate(space.names)
        }
        self.mad_ = {space.names[j]: float(space.mad[j]) for j in space.numeric}
        self.constraints_ = Constraints(
            space,
            self.features_to_vary,
            self.permitted_range,
            self.monotonic,
            self.predicates,
        )
        return space

    def _fit_task(self, Xm):
        """Classification or regression; the outcome group of each training
        row (predicted class index, or 1 inside the desired range) and, for
        a regressor, the predictions."""
        model = self.estimator_
        self._use_predict = False
        self._y_scale = 1.0
        if is_regressor(model) or (
            not is_classifier(model) and not hasattr(model, "classes_")
        ):
            self._task = "regression"
            if self.desired_range is None:
                raise ValueError(
                    "desired_range=(low, high) is required to explain a "
                    "regressor; got desired_range=None."
                )
            low, high = self._range()
            pred = np.asarray(model.predict(Xm), dtype=float).ravel()
            mad = np.median(np.abs(pred - np.median(pred)))
            self._y_scale = float(mad) if mad > 0 else 1.0
            self._use_predict = True
            return ((pred >= low) & (pred <= high)).astype(int), pred
        self._task = "classification"
        if self.desired_range is not None:
            raise ValueError(
                f"desired_range={self.desired_range!r} applies to "
                "regressors; use desired_class for a classifier."
            )
        self.classes_ = np.asarray(model.classes_)
        resolve_targets(self.desired_class, self.classes_, np.zeros(1, dtype=int))
        scores = oracle_of(self).scores(Xm)
        pred = np.searchsorted(self.classes_, np.asarray(model.predict(Xm)))
        # validity from ``predict`` when it is not the arg-max of the scores
        # (a tuned decision threshold, say)
        self._use_predict = bool((scores.argmax(axis=1) != pred).any())
        return pred, None

    def _range(self):
        try:
            low, high = self.desired_range
            # None: an open side, as in permitted_range
            low = -np.inf if low is None else float(low)
            high = np.inf if high is None else float(high)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"desired_range must be a (low, high) pair of numbers (None "
                f"for an open side); got {self.desired_range!r}."
            ) from exc
        if np.isinf(low) and np.isinf(high):
            raise ValueError(
                f"desired_range={self.desired_range!r} bounds nothing: give "
                "at least one finite side."
            )
        if not low <= high:
            raise ValueError(
                f"desired_range={self.desired_range!r} is empty: low > high."
            )
        return low, high

    # -------------------------------------------------- transform/score
    def transform(self, X):
        """Best valid counterfactual of each row (missing where none).

        Raises a ValueError naming the rows when the model itself fails to
        predict some input rows (for example missing values that the model
        does not handle); :meth:`explain` reports those per row instead.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        X_cf : ndarray or DataFrame of shape (n_samples, n_features)
            A DataFrame with X's columns and index when fitted on a DataFrame
            (numeric columns as float64, categorical columns in their dtype;
            missing values where a row has no counterfactual), else an
            array with NaN rows. A row that already has the desired outcome
            is returned unchanged.
        """
        expl = self.explain(X)
        failed = np.flatnonzero(expl.status == STATUS["failed"])
        if len(failed):
            # a transformer's output row cannot carry a status: raise, naming
            # the rows and the model's own message (explain reports it per row)
            labels = list(expl.queries.index[failed][:5])
            raise ValueError(
                f"The model failed to predict {len(failed)} input rows (index "
                f"labels {labels}): {expl.reason[failed[0]]}"
            )
        best = expl.best()
        if self.model_input_.kind == "frame":
            # Mixed dtypes cannot live in one ndarray, so an explainer fitted
            # on a DataFrame returns a DataFrame; set_output only re-labels
            # it (columns from get_feature_names_out).
            return best
        return best.to_numpy(dtype=object if self.model_input_.categorical else float)
