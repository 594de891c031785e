"""What a fitted tabular explainer does: explain, evaluate, semi-factuals,
transform and score (the methods of :class:`CounterfactualExplainer`,
defined here to keep its fitting and its use apart)."""

import time
import warnings
from contextlib import nullcontext

import numpy as np
from joblib import effective_n_jobs, parallel_config
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from skcfx.counterfactual._engine.methods import get, run_search
from skcfx.counterfactual._engine.selection import finalize
from skcfx.counterfactual._tabular.build import (
    build_explanations,
    gather,
    judge_results,
)
from skcfx.counterfactual._tabular.queries import QueryChunk, SearchSetup, prepare
from skcfx.counterfactual._tabular.semifactuals import semifactual_frame
from skcfx.exceptions import NoCounterfactualWarning
from skcfx.utils._parallel import fork_map, local_processes
from skcfx.utils._progress import progress

__all__ = ["ExplainMixin", "search_chunk"]

# queries in flight over all jobs: one chunk's model calls carry all its
# queries' candidates (fewer, larger calls: the README forest pipeline's
# call costs ~35 ms on top of its rows, ~12 ms of it the ColumnTransformer,
# the rest the forest walking 100 trees); see ``_deal``
_MAX_CHUNK = 1024


def search_chunk(setup, chunk, pinned=False, method=None):
    """Search, then pick, sparsify and rank, the counterfactuals of one chunk
    of queries, and judge them (a unit of parallel work: ``setup`` is the
    :class:`~skcfx.counterfactual._tabular.queries.SearchSetup` every chunk
    shares, ``chunk`` the chunk's :class:`~skcfx.counterfactual._tabular.
    queries.QueryChunk`; ``pinned``: the model's own joblib calls run
    sequentially, the chunks being the parallel work; ``method``: another
    method than the setup's, for this chunk).

    Returns
    -------
    results : list of ndarray
        Final coded counterfactuals per query, best first.
    unreachable : ndarray of bool
        Queries found to be out of the model's reach.
    certificates : dict
        Exact search: the solver's certificate per query of the chunk.
    judged : dict or None
        :func:`~skcfx.counterfactual._tabular.build.judge_results` of the
        results (the model's outcome on them, constraint breaches, distance
        to the training data), computed here so that the parent only gathers.
    """
    problem = setup.problem(chunk)
    method = method or setup.method
    with _sequential(pinned):
        pools = run_search(
            method,
            problem,
            setup.context,
            n_candidates=setup.n_candidates,
            max_rounds=setup.max_rounds,
        )
        if get(method).finalize:
            results = finalize(problem, pools, posthoc_sparsity=setup.posthoc_sparsity)
        else:  # already the ranked counterfactuals (exact search)
            results = [p[: problem.k] for p in pools]
        judged = judge_results(setup.oracle, setup.settings["manifold"], chunk, results)
    hopeless = problem.unreachable & ~problem.any_valid
    certificates = problem.certificates
    if not certificates:  # a heuristic's proofs, from the model's own program
        certificates = {
            int(i): {"solver_status": "proved infeasible"}
            for i in np.flatnonzero(problem.proved_infeasible)
        }
    return results, hopeless, certificates, judged


def _deal(todo, n_jobs):
    """The queries ``todo`` dealt round-robin into as few chunks as keep at
    most ``_MAX_CHUNK`` queries in flight over all jobs (a multiple of
    ``n_jobs`` chunks).

    Few, large chunks: a chunk is searched with one model call per step
    for all its queries, and a model call has a fixed cost (a forest's
    100 MB of trees walked again), so twice the chunks cost about twice
    the calls. At most ``_MAX_CHUNK`` queries in flight: a chunk's working
    memory grows with its queries, so ``n_jobs`` workers together hold
    about what one process holds for one chunk. Dealt rather than cut into
    consecutive runs, the chunks are alike however the batch is ordered
    (rejected rows of one kind together, say), so one job does not wait on
    another. Each query's search depends on its own random stream only:
    the chunking never changes a result.
    """
    n_jobs = max(1, min(n_jobs, len(todo)))
    n_chunks = n_jobs * -(-len(todo) // _MAX_CHUNK)
    return [c for c in (todo[i::n_chunks] for i in range(n_chunks)) if len(c)]


def _sequential(pinned):
    """Inner joblib calls (a ColumnTransformer's, a forest's) run one at a
    time when ``pinned``: explain's own chunks use the cores or the
    cluster, and a model fanning out into it would drown it in tiny tasks."""
    return parallel_config(backend="sequential") if pinned else nullcontext()


def _broadcast(setup):
    """Under joblib's dask back end, ``setup`` (the model and the training
    summary every chunk shares) is sent to every worker once, up front:
    left to joblib, it would be scattered to one worker, and the scheduler,
    keeping tasks near their data, would run every chunk there."""
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    client = getattr(backend, "client", None)
    if type(backend).__name__ != "DaskDistributedBackend" or client is None:
        return nullcontext()
    return parallel_config(backend="dask", client=client, scatter=[setup])


def _streams():
    """Whether the active joblib back end returns results as a generator."""
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    return bool(getattr(backend, "supports_return_generator", False))


class ExplainMixin:
    """explain, evaluate, semifactuals, transform and score of a fitted
    :class:`CounterfactualExplainer`."""

    @property
    def _search_method(self):
        """The method a search runs: ``method``, or what ``"auto"`` chose in
        ``fit`` (a method named after fit takes effect at once when fit
        prepared it; see :meth:`_check_prepared`)."""
        return self.method_ if self.method == "auto" else self.method

    def _check_prepared(self):
        """A method named after ``fit`` runs on what fit prepared: the
        genetic, random and kdtree searches share it (their index of
        training rows and seed programs), the exact search needs the model
        read as constraints and the gradient search its torch copy, both
        made in fit for that method only. Otherwise a clear error."""
        method, context = self._search_method, self._context
        heuristic = ("genetic", "random", "kdtree")
        ready = {
            "exact": context.exact is not None,
            "gradient": context.module is not None,
        }.get(method, self._fit_method in (*heuristic, "auto"))
        if not ready:
            raise ValueError(
                f"method={method!r} was set after fit, which prepared the "
                f"search for method={self._fit_method!r} ("
                + {
                    "exact": "the exact search reads the model as constraints",
                    "gradient": "the gradient search rebuilds the model in torch",
                }.get(method, "the heuristic searches index the training rows")
                + " in fit); call fit again."
            )

    # ---------------------------------------------------------- explain
    def explain(self, X):
        """Find counterfactuals for each row of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_queries, n_features)
            Query rows in the raw form seen in :meth:`fit`. Not modified.

        Returns
        -------
        explanations : CounterfactualExplanations
            Counterfactuals, predictions re-computed on the final rows,
            per-query status and metrics; see its ``to_frame()``.
        """
        start = time.perf_counter()
        # None: joblib decides (1, or an enclosing parallel_config's)
        n_jobs = effective_n_jobs(self.n_jobs)
        with _sequential(n_jobs > 1):
            queries = prepare(self, X)
        self._check_prepared()
        setup = SearchSetup(self)
        todo = np.flatnonzero(~queries.already & ~queries.failed)
        # method="auto" with the gradient search: queries with missing
        # values get the genetic search (each query's method is its own)
        missing = np.zeros(queries.n, dtype=bool)
        if setup.missing_method is not None:
            missing = self.feature_space_.missing_rows(queries.Zq)
        elif self._search_method in ("gradient", "exact"):
            self._check_no_missing(queries.Zq)
        results = [np.zeros((0, self.feature_space_.n_features))] * queries.n
        unreachable = np.zeros(queries.n, dtype=bool)
        certificates = {}
        judged = None
        if len(todo):
            kinds = [(todo[~missing[todo]], None)]
            if missing[todo].any():
                kinds.append((todo[missing[todo]], setup.missing_method))
            tasks, chunks = [], []
            for rows, method in kinds:
                for c in _deal(rows, n_jobs) if len(rows) else []:
                    chunks.append(c)
                    chunk = QueryChunk.of(queries, c)
                    tasks.append((setup, chunk, n_jobs > 1, method))
            if n_jobs > 1:
                # built once here (and kept on this explainer): inherited
                # by forked workers, sent built to others
                setup.build()
            if local_processes(n_jobs):
                # forked workers inherit the model and the training summary
                out = fork_map(search_chunk, tasks, n_jobs)
            else:
                # with ``verbose``, chunks come back in order as they finish
                # (a progress bar: one step per chunk of at most 1,024
                # queries) where the back end can stream them (ray's cannot)
                stream = bool(self.verbose) and _streams()
                with _broadcast(setup):
                    out = Parallel(
                        n_jobs=self.n_jobs,
                        verbose=max(0, self.verbose - 1),
                        return_as="generator" if stream else "list",
                    )(delayed(search_chunk)(*task) for task in tasks)
            out = progress(out, verbose=self.verbose, total=len(chunks), desc="explain")
            pieces = []
            for c, (res, hopeless, certs, verdicts) in zip(chunks, out):
                unreachable[c] = hopeless
                certificates.update({c[i]: cert for i, cert in certs.items()})
                for i, r in zip(c, res):
                    results[i] = r
                pieces.append((c, res, verdicts))
            judged = gather(pieces, sum(len(r) for r in results))
        exact = self._search_method == "exact"
        proved = np.zeros(queries.n, dtype=bool)
        if not exact and certificates:
            proved[list(certificates)] = True
        with _sequential(n_jobs > 1):
            return build_explanations(
                self,
                queries,
                results,
                unreachable=unreachable,
                start=start,
                certificates=certificates if exact else None,
                judged=judged,
                proved=proved,
            )

    def _check_no_missing(self, Zq):
        """The gradient and exact methods cannot start from a missing value."""
        space = self.feature_space_
        miss = space.missing_cells(Zq).any(axis=0)
        cols = [space.names[j] for j in np.flatnonzero(miss)]
        if cols:
            raise ValueError(
                f"method={self._search_method!r} cannot search from missing "
                f"values; queries have missing values in columns {cols}. Use "
                'a model-agnostic method ("genetic", "random", "kdtree"), '
                "which keeps them or fills them."
            )

    def evaluate(self, X, counterfactuals):
        """Check and score counterfactuals produced elsewhere (e.g. DiCE).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_queries, n_features)
            The queries.
        counterfactuals : DataFrame or CounterfactualExplanations
            Long frame with the feature columns and a ``query`` column
            holding the query's index label in ``X`` (or its position for
            arrays); an optional ``rank`` column orders them. An
            explanation object (from :meth:`explain` of this or another
            explainer) is read through its ``to_frame()``.

        Returns
        -------
        explanations : CounterfactualExplanations
            Same metrics as :meth:`explain`, with status ``"evaluated"``:
            ``valid`` means the model, re-run on the row, predicts the
            desired outcome; constraint breaches are reported separately
            (``to_frame()["constraint_violations"]``, ``metrics``,
            :func:`skcfx.metrics.constraint_violations`).
        """
        queries = prepare(self, X)
        space = self.feature_space_
        pos = {lab: i for i, lab in enumerate(queries.frame.index)}
        cf = counterfactuals
        if hasattr(cf, "to_frame") and hasattr(cf, "query_codes"):
            cf = cf.to_frame()  # an explanation object
        if not hasattr(cf, "columns"):
            raise TypeError(
                "counterfactuals must be a DataFrame with the feature columns "
                "and a 'query' column, or the explanations explain returned; "
                f"got {type(cf).__name__}."
            )
        missing = [c for c in space.names + ["query"] if c not in cf.columns]
        if missing:
            raise ValueError(f"counterfactuals lacks columns {missing}.")
        unknown = [q for q in cf["query"] if q not in pos]
        if unknown:
            raise ValueError(
                f"counterfactuals['query'] holds labels not in X: {unknown[:5]}."
            )
        Zc = space.encode(cf[space.names].reset_index(drop=True))
        owner = np.array([pos[q] for q in cf["query"]], dtype=int)
        limit = max(self.n_counterfactuals, 1) * 100
        results = [Zc[owner == i][:limit] for i in range(queries.n)]
        return build_explanations(self, queries, results, evaluated=True)

    # ------------------------------------------------------ semi-factuals
    def semifactuals(self, X, *, n_grid=12):
        """Semi-factuals ("even if") of each row: the farthest change of one
        feature that keeps the prediction, toward the desired outcome.

        For every feature that may vary (the same constraints as
        :meth:`explain`: ``features_to_vary``, ``permitted_range``,
        ``monotonic``, predicates), the admissible value farthest from the
        query such that every value in between keeps the query's predicted
        class, on the side where the model moves toward the desired outcome
        (a change that brings it no closer is not reported; with a named
        desired class of a multi-class model, that class's probability must
        grow too, not only its margin against the query's class; the other
        features keep the query's values); for a
        categorical feature, the allowed category closest to the desired
        outcome that keeps the prediction. "Even if your hours were 60, the
        prediction would stay <=50K." For a regressor, the prediction stays
        outside ``desired_range`` ("even if the BMI fell to 25, the
        predicted progression would stay above 200"). All rows and features
        are searched together, in five model calls.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_queries, n_features)
            Query rows in the raw form seen in :meth:`fit`. Not modified.
        n_grid : int, default=12
            Values per side of a numeric feature in the first grid; two
            finer grids follow in the gap where the prediction changes.

        Returns
        -------
        semifactuals : DataFrame
            One row per query and feature with a semi-factual, the strongest
            first within each query (largest ``margin_gain``: the change that
            moves the model closest to the desired outcome while keeping the
            prediction; ties by larger ``distance``): ``query`` (the query's
            index label), ``rank``, ``feature`` (the changed column), the
            feature columns of the semi-factual row, ``change`` (readable:
            ``"hours_per_week 40 -> 47 (+2.33 MAD)"``), ``distance`` (the
            change in MADs for a numeric feature, 1 for a category),
            ``prediction`` (re-predicted by the model: the query's) and
            ``margin_gain`` (how much closer the model's score margin gets to
            the desired outcome, for a regressor its prediction to the range
            in units of the predictions' spread; larger is a stronger "even
            if").
        """
        check_is_fitted(self)
        if self.scm_ is not None:
            raise ValueError(
                "semifactuals does not support causal recourse (scm); fit an "
                "explainer without scm for semi-factuals."
            )
        return semifactual_frame(self, X, n_grid)

    # ------------------------------------------------------------ score
    def score(self, X, y=None):
        """Validity traded against cost on a fixed ruler, higher is better.

        ``validity - mean over valid counterfactuals of (dist(x, c) +
        n_changed / d)`` with unit weights, whatever this explainer's
        ``proximity_weight`` and ``sparsity_weight`` (see
        :meth:`CounterfactualExplanations.score`), so that
        :class:`~sklearn.model_selection.GridSearchCV` compares methods,
        weights and budgets on the same ruler. For other criteria (time
        included) use :data:`skcfx.metrics.COUNTERFACTUAL_SCORERS` in a
        multi-metric search.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoCounterfactualWarning)
            return self.explain(X).score()
