"""Parallel explain: ``n_jobs=None`` follows ``joblib.parallel_config``,
every back end (processes, threads, a dask cluster) gives the results of
``n_jobs=1``, and ``verbose`` draws a progress bar."""

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator

from skcfx import CounterfactualExplainer
from skcfx.counterfactual._tabular import explain as explain_module


def _explainer(model, **kw):
    return CounterfactualExplainer(
        FrozenEstimator(model), n_counterfactuals=2, random_state=0, **kw
    )


@pytest.fixture(scope="module")
def reference(adult, adult_model, rejected):
    X, _ = adult
    return _explainer(adult_model, n_jobs=1).fit(X).explain(rejected).to_frame()


def test_n_jobs_none_follows_parallel_config(
    adult, adult_model, rejected, reference, monkeypatch
):
    """Under ``parallel_config(n_jobs=2)`` an explainer with ``n_jobs=None``
    deals the batch into two chunks (one per job), with the same results."""
    X, _ = adult
    calls = []
    inner = explain_module.search_chunk

    def spy(setup, chunk, *args):
        calls.append(len(chunk.Zq))
        return inner(setup, chunk, *args)

    monkeypatch.setattr(explain_module, "search_chunk", spy)
    cfx = _explainer(adult_model).fit(X)
    cfx.explain(rejected)
    assert calls == [len(rejected)]  # None alone: one job, one chunk
    calls.clear()
    with parallel_config(backend="threading", n_jobs=2):
        frame = cfx.explain(rejected).to_frame()
    assert sorted(calls) == [3, 3]
    pd.testing.assert_frame_equal(frame, reference)


def test_dask_cluster_gives_the_results_of_one_job(
    adult, adult_model, rejected, reference
):
    """A two-worker dask LocalCluster on loopback as joblib's back end."""
    distributed = pytest.importorskip("distributed")
    X, _ = adult
    cfx = _explainer(adult_model).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cluster's own start-up notes
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    with cluster, distributed.Client(cluster):
        with parallel_config(backend="dask"):
            frame = cfx.explain(rejected).to_frame()
    pd.testing.assert_frame_equal(frame, reference)


def test_ray_gives_the_results_of_one_job(adult, adult_model, rejected, reference):
    """Ray's joblib back end (the ``ray`` extra; skipped without it)."""
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    X, _ = adult
    cfx = _explainer(adult_model).fit(X)
    register_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with parallel_config(backend="ray", n_jobs=2):
            frame = cfx.explain(rejected).to_frame()
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(frame, reference)


def test_verbose_draws_a_progress_bar(adult, adult_model, rejected, capsys):
    pytest.importorskip("tqdm")
    X, _ = adult
    _explainer(adult_model, verbose=0).fit(X).explain(rejected)
    assert capsys.readouterr().err == ""
    _explainer(adult_model, verbose=1).fit(X).explain(rejected)
    err = capsys.readouterr().err
    assert "explain:" in err and "/1 [" in err  # one chunk of 6 queries


def test_tcav_verbose_draws_a_progress_bar(capsys):
    pytest.importorskip("tqdm")
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from skcfx.concepts import tcav

    rng = np.random.RandomState(0)
    A = rng.normal(size=(200, 5))
    head = LogisticRegression().fit(A, (A[:, 0] > 0).astype(int))
    concepts = {"first": A[A[:, 0] > 1][:20]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a linear head: scores of 0 or 1
        tcav(head, concepts, A[:50], 1, random_activations=A, n_random=4, verbose=1)
    assert "TCAV" in capsys.readouterr().err


def test_the_models_own_joblib_calls_run_sequentially_in_parallel_explain(adult):
    """While explain runs in parallel, the model's inner joblib calls (a
    ColumnTransformer's, a forest's) see the sequential back end; with one
    job they keep the user's."""
    from joblib.parallel import get_active_backend
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    seen = []

    def record(Z):
        seen.append(type(get_active_backend()[0]).__name__)
        return Z

    X, y = adult
    cat = [c for c in X.columns if c not in ("age", "hours_per_week")]
    pre = ColumnTransformer(
        [
            ("num", FunctionTransformer(record), ["age", "hours_per_week"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cat),
        ]
    )
    model = Pipeline([("prep", pre), ("clf", LogisticRegression(max_iter=500))])
    model.fit(X, y)
    queries = X[model.predict(X) == 0].iloc[:4]
    cfx = _explainer(model).fit(X)
    seen.clear()
    cfx.explain(queries)
    assert seen and "SequentialBackend" not in seen
    seen.clear()
    with parallel_config(backend="threading", n_jobs=2):
        cfx.explain(queries)
    assert seen and set(seen) == {"SequentialBackend"}


class _Unpicklable(ClassifierMixin, BaseEstimator):
    """A fitted model that cannot be pickled: it can only reach a worker
    that inherits it."""

    def __init__(self, model=None):
        self.model = model

    def fit(self, X, y=None):
        self.classes_ = self.model.classes_
        return self

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def __reduce__(self):
        raise TypeError("this model cannot be pickled")


@pytest.mark.skipif(
    not explain_module.local_processes(2), reason="no fork on this platform"
)
def test_n_jobs_2_forks_workers_that_inherit_the_model(
    adult, adult_model, rejected, monkeypatch
):
    """Under joblib's default back end, ``n_jobs=2`` runs the chunks in
    forked workers: nothing of the explainer is pickled to them (a model
    that refuses pickling works), and the results are those of one job."""
    import pickle

    from skcfx.utils import _parallel

    model = _Unpicklable(adult_model).fit(None)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(model)
    X, _ = adult
    used = []
    inner = _parallel.fork_map

    def spy(func, tasks, n_jobs):
        used.append((len(tasks), n_jobs))
        return inner(func, tasks, n_jobs)

    monkeypatch.setattr(explain_module, "fork_map", spy)
    cfx = _explainer(model, n_jobs=1).fit(X)
    reference = cfx.explain(rejected).to_frame()
    assert used == []
    frame = cfx.set_params(n_jobs=2).explain(rejected).to_frame()
    assert used == [(2, 2)]
    pd.testing.assert_frame_equal(frame, reference)
    # a back end the user names is used as named: loky must pickle the model
    with parallel_config(backend="loky"):
        with pytest.raises(Exception, match="pickle"):
            cfx.explain(rejected)
    assert len(used) == 1


@pytest.mark.parametrize(
    "n, n_jobs, sizes",
    [
        (7, 1, [7]),
        (7, 2, [4, 3]),
        (3, 8, [1, 1, 1]),
        (1024, 1, [1024]),
        (1024, 2, [512, 512]),
        (2500, 1, [834, 833, 833]),
        (2000, 2, [500, 500, 500, 500]),
        (3000, 3, [334] * 3 + [333] * 6),
    ],
)
def test_queries_are_dealt_into_few_alike_chunks(n, n_jobs, sizes):
    """As few chunks as keep at most 1,024 queries in flight over all jobs,
    a multiple of the jobs; every query once, dealt round-robin."""
    todo = np.arange(10, 10 + n)
    chunks = explain_module._deal(todo, n_jobs)
    assert [len(c) for c in chunks] == sizes
    assert len(chunks) % min(n_jobs, n) == 0
    assert max(sizes) * min(n_jobs, n) <= max(explain_module._MAX_CHUNK, n_jobs)
    np.testing.assert_array_equal(np.sort(np.concatenate(chunks)), todo)
    for i, c in enumerate(chunks):
        np.testing.assert_array_equal(c, todo[i :: len(chunks)])


def test_rows_judged_chunk_by_chunk_equal_rows_judged_at_once(adult, adult_model):
    """Workers judge their chunk's rows (the model's outcome, breaches,
    distance to the data); gathered, they equal one judging of all rows in
    the parent, row for row, whatever the dealing."""
    from skcfx.counterfactual._tabular.build import build_explanations, gather
    from skcfx.counterfactual._tabular.queries import QueryChunk, SearchSetup, prepare

    X, _ = adult
    cfx = _explainer(adult_model, desired_class=1).fit(X)
    accepted = adult_model.predict(X) == 1
    # accepted rows too: no search, no rows
    batch = pd.concat([X[~accepted].head(20), X[accepted].head(6)]).sample(
        frac=1, random_state=0
    )
    queries = prepare(cfx, batch)
    todo = np.flatnonzero(~queries.already)
    assert 0 < len(todo) < queries.n
    setup = SearchSetup(cfx)
    results = [np.zeros((0, cfx.feature_space_.n_features))] * queries.n
    pieces = []
    for c in explain_module._deal(todo, 3):
        res, _, _, judged = explain_module.search_chunk(
            setup, QueryChunk.of(queries, c)
        )
        for i, r in zip(c, res):
            results[i] = r
        pieces.append((c, res, judged))
    n_rows = sum(len(r) for r in results)
    assert n_rows > len(todo)
    gathered = gather(pieces, n_rows)
    at_once = build_explanations(cfx, queries, results)
    by_chunk = build_explanations(cfx, queries, results, judged=gathered)
    pd.testing.assert_frame_equal(by_chunk.to_frame(), at_once.to_frame())
    np.testing.assert_array_equal(by_chunk.nearest_distance, at_once.nearest_distance)
    np.testing.assert_array_equal(by_chunk.owner, at_once.owner)
    assert gather([(todo[:2], results[:2], None)], 0) is None


def test_a_pickled_setup_carries_its_built_trees(adult, adult_model, rejected):
    """The setup sent to loky, dask or ray workers carries the KD-trees
    built once in the caller (a fitted explainer still pickles without
    them); a worker's chunk gives the caller's results without rebuilding."""
    import pickle

    from skcfx.counterfactual._tabular.queries import QueryChunk, SearchSetup, prepare

    X, _ = adult
    cfx = _explainer(adult_model).fit(X)
    setup = SearchSetup(cfx)
    assert setup._trees() and all(t._tree is None for t in setup._trees())
    unbuilt = pickle.loads(pickle.dumps(setup))
    assert all(t._tree is None for t in unbuilt._trees())
    setup.build()
    assert all(t._tree is not None for t in setup._trees())
    # the explainer's own pickle stays without them
    again = SearchSetup(pickle.loads(pickle.dumps(cfx)))
    assert all(t._tree is None for t in again._trees())
    copy = pickle.loads(pickle.dumps(setup))
    assert all(t._tree is not None for t in copy._trees())
    for a, b in zip(setup._trees(), copy._trees()):
        np.testing.assert_array_equal(a._tree.get_arrays()[0], b._tree.get_arrays()[0])
    queries = prepare(cfx, rejected.head(6))
    chunk = QueryChunk.of(queries, np.arange(queries.n))
    mine = explain_module.search_chunk(setup, chunk)[0]
    theirs = explain_module.search_chunk(copy, chunk)[0]
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)


def test_fork_map_keeps_order_and_raises_the_tasks_error():
    from skcfx.utils._parallel import fork_map, local_processes

    if not local_processes(2):
        pytest.skip("no fork on this platform")

    def square_or_fail(x):
        if x < 0:
            raise ValueError(f"negative task {x}")
        return x * x

    assert list(fork_map(square_or_fail, [(i,) for i in range(7)], 2)) == [
        i * i for i in range(7)
    ]
    with pytest.raises(ValueError, match="negative task -3"):
        list(fork_map(square_or_fail, [(1,), (-3,), (2,)], 2))
    # the inherited tasks are forgotten once the map is done
    from skcfx.utils import _parallel

    assert _parallel._TASKS == {}


@pytest.mark.skipif(
    not explain_module.local_processes(2) or not os.path.exists("/proc/self/statm"),
    reason="no fork or no /proc on this platform",
)
def test_fork_map_returns_the_freed_heap_before_forking():
    """Pages the caller freed but still held (here 200 MB of small blocks
    with a live one after them, as unpickling a model leaves them) go back
    to the system before the fork, so that the workers' allocations do not
    copy them (README forest from a pickle, n_jobs=2: 557-563 -> 472 MB)."""
    from skcfx.utils._parallel import fork_map

    def resident():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    blocks = [bytearray(4096) for _ in range(50_000)]
    pin = bytearray(4096)  # keeps the freed blocks below the heap's top
    del blocks
    before = resident()
    assert list(fork_map(abs, [(-1,), (-2,)], 2)) == [1, 2]
    assert before - resident() > 100 * 2**20
    del pin


@pytest.mark.skipif(
    not explain_module.local_processes(2), reason="no fork on this platform"
)
def test_forked_workers_run_an_openmp_model_used_before_the_fork():
    """HistGradientBoosting predicts with OpenMP threads; used in the parent
    before the fork, it must not hang in the workers (they run it with one
    thread)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    model.predict_proba(X)  # the OpenMP pool exists in this process
    queries = X[model.predict(X) == 0].iloc[:8]
    one = _explainer(model, n_jobs=1).fit(X).explain(queries).to_frame()
    two = _explainer(model, n_jobs=2).fit(X).explain(queries).to_frame()
    pd.testing.assert_frame_equal(one, two)
