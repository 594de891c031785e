"""
=====================================================
Explaining a large batch on a dask cluster or on Ray
=====================================================

:meth:`~skcfx.CounterfactualExplainer.explain` splits a batch of queries
into chunks of at most 1,024 and hands them to joblib. With ``n_jobs=None``
(the default) an enclosing :func:`joblib.parallel_config` decides where the
chunks run: local processes, threads, a ``dask.distributed`` cluster or
Ray. Every query's random stream is seeded from the fitted seed and the
query's own values, so each back end gives exactly the counterfactuals of
``n_jobs=1``; here we check it on 1,000 rejected Adult applicants.

The cluster below is a ``LocalCluster`` of two workers inside this process
(``processes=False``: a script run as is, without an ``if __name__ ==
"__main__"`` guard, cannot spawn worker processes); pointing the ``Client``
at a real scheduler's address is the only change a real cluster needs, and
the test suite runs the same comparison on two worker processes.
"""

# %%
# Model, explainer and a batch of queries
# ---------------------------------------
import time
import warnings

import pandas as pd
from joblib import parallel_config
from sklearn.compose import make_column_transformer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skcfx import CounterfactualExplainer
from skcfx.datasets import load_adult

X, y = load_adult(subset="dice", return_X_y=True)
categorical = [c for c in X.columns if c not in ("age", "hours_per_week")]
model = make_pipeline(
    make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical),
        (StandardScaler(), ["age", "hours_per_week"]),
    ),
    LogisticRegression(max_iter=1000),
).fit(X, y)
explainer = CounterfactualExplainer(
    FrozenEstimator(model), n_counterfactuals=2, random_state=0
).fit(X)
queries = X[model.predict(X) == 0].head(1000)


def timed(label):
    start = time.perf_counter()
    frame = explainer.explain(queries).to_frame()
    print(f"{label:<28s} {time.perf_counter() - start:5.1f} s")
    return frame


reference = timed("n_jobs=1")

# %%
# On a dask.distributed cluster
# -----------------------------
# ``parallel_config(backend="dask")`` sends the chunks to the cluster's
# workers (the ``dask`` extra installs ``distributed``). Inside a chunk the
# model's own joblib calls run sequentially, so a ColumnTransformer does not
# fan out into hundreds of tiny cluster tasks.
from dask.distributed import Client, LocalCluster  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the local cluster's start-up notes
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
    )
with cluster, Client(cluster):
    with parallel_config(backend="dask"):
        on_dask = timed("dask LocalCluster (2 workers)")
pd.testing.assert_frame_equal(on_dask, reference)
print("dask: the counterfactuals of n_jobs=1")

# %%
# On Ray
# ------
# Ray's joblib back end (the ``ray`` extra) works the same way.
try:
    import ray
    from ray.util.joblib import register_ray
except ImportError:
    print("ray is not installed (pip install skcfx[ray]); skipped")
else:
    register_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with parallel_config(backend="ray", n_jobs=2):
            on_ray = timed("ray (2 CPUs)")
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(on_ray, reference)
    print("ray: the counterfactuals of n_jobs=1")

# %%
# On a laptop, two local processes are the simplest choice: under joblib's
# default back end (on Linux) they are forked from this process and share
# the fitted model and search state with it, instead of each receiving a
# copy.
explainer.set_params(n_jobs=2)
pd.testing.assert_frame_equal(timed("n_jobs=2 (processes)"), reference)
