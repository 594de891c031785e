"""Parallel explain: ``n_jobs=1`` against ``n_jobs=2`` and a dask cluster.

The README's model (DiCE's eight Adult columns, OneHotEncoder + a default
RandomForestClassifier, trained on all rows) and its constraints; the first
``--n-queries`` rows the model rejects, explained with the default genetic
search. Each setting runs in a fresh process (so that peak memory is its
own): wall time of ``explain``, peak resident memory of the process and its
workers (``ru_maxrss`` of each; their sum counts pages the processes
share, such as joblib's memory-mapped arrays, once per process), the number
of model calls and rows sent to the model, and whether the counterfactuals
equal those of ``n_jobs=1``. The model's own time for the rows the search
sent is measured with one bulk ``predict_proba`` on as many rows.

    python bench_scale.py --n-queries 2000 --out results/scale.md

Settings: ``n_jobs=1``; ``n_jobs=2`` (joblib's loky processes); and, when
``distributed`` is installed, ``n_jobs=2`` inside
``joblib.parallel_config(backend="dask")`` on a ``LocalCluster`` of two
single-threaded worker processes.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
sys.path.insert(0, {here!r})
from bench_scale import setting
setup = setting({n})
explainer, queries = setup["explainer"], setup["queries"]
backend = {backend!r}
if backend == "dask":
    from dask.distributed import Client, LocalCluster
    from joblib import parallel_config
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    ctx = parallel_config(backend="dask")
else:
    import contextlib
    ctx = contextlib.nullcontext()
explainer.set_params(n_jobs={n_jobs})
with ctx, warnings.catch_warnings():
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    expl = explainer.explain(queries)
    seconds = time.perf_counter() - start
frame = expl.to_frame()
frame.to_pickle({out!r} + ".pkl")
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = {{}}
if backend == "dask":
    mem = client.run(lambda: __import__("resource").getrusage(
        __import__("resource").RUSAGE_SELF).ru_maxrss)
    kids = dict(mem)
    client.close(); cluster.close()
elif {n_jobs} > 1:
    # the loky workers are still alive: ask each for its own peak
    from joblib import Parallel, delayed
    def peak():
        import os, resource, time
        time.sleep(0.3)
        return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for pid, m in Parallel(n_jobs={n_jobs})(delayed(peak)() for _ in range(8)):
        kids[pid] = max(kids.get(pid, 0), m)
json.dump(dict(seconds=seconds, rss_kb=rss,
               child_rss_kb=max(kids.values(), default=0),
               children_rss_kb=sum(kids.values()),
               n_found=int(expl.valid.sum())), open({out!r} + ".json", "w"))
"""


def setting(n):
    """The README's model, explainer (fitted) and ``n`` rejected rows."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from skcfx import CounterfactualExplainer
    from skcfx.datasets import load_adult

    X, y = load_adult(subset="dice", return_X_y=True)
    categorical = [
        "workclass",
        "education",
        "marital_status",
        "occupation",
        "race",
        "gender",
    ]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical),
            remainder="passthrough",
        ),
        RandomForestClassifier(random_state=0),
    ).fit(X, y)
    explainer = CounterfactualExplainer(
        FrozenEstimator(model),
        n_counterfactuals=4,
        features_to_vary=["age", "education", "occupation", "hours_per_week"],
        permitted_range={"age": (20, 60)},
        monotonic={"age": "increasing"},
        random_state=0,
    ).fit(X)
    queries = X[model.predict(X) == 0].head(n)
    return dict(model=model, explainer=explainer, queries=queries, X=X)


def run_child(n, n_jobs, backend, out):
    code = CHILD.format(
        here=str(Path(__file__).parent), n=n, n_jobs=n_jobs, backend=backend, out=out
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with open(out + ".json") as f:
        return json.load(f), pd.read_pickle(out + ".pkl")


def model_time(n):
    """Rows and calls the search sends to the model, and the model's own
    time for as many rows in one bulk call."""
    setup = setting(n)
    model, explainer, queries = setup["model"], setup["explainer"], setup["queries"]
    calls, rows = [0], [0]
    inner = model.predict_proba

    def counting(X):
        calls[0] += 1
        rows[0] += len(X)
        return inner(X)

    model.predict_proba = counting
    start = time.perf_counter()
    explainer.explain(queries)
    seconds = time.perf_counter() - start
    model.predict_proba = inner
    X = setup["X"]
    bulk = X.sample(rows[0], replace=True, random_state=0)
    start = time.perf_counter()
    for part in np.array_split(np.arange(len(bulk)), max(1, len(bulk) // 100_000)):
        inner(bulk.iloc[part])
    model_seconds = time.perf_counter() - start
    return dict(
        queries=n,
        explain_s=seconds,
        model_calls=calls[0],
        rows_per_query=rows[0] / n,
        bulk_model_s=model_seconds,
        ratio=seconds / model_seconds,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-queries", type=int, default=2000)
    parser.add_argument("--model-time", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    tmp = "/tmp/skcfx_bench_scale"
    rows, frames = [], {}
    settings = [("n_jobs=1", 1, "loky"), ("n_jobs=2", 2, "loky")]
    try:
        import distributed  # noqa: F401

        settings.append(("n_jobs=2, dask LocalCluster(2)", 2, "dask"))
    except ImportError:
        print("distributed not installed: no dask setting")
    for name, n_jobs, backend in settings:
        stats, frame = run_child(args.n_queries, n_jobs, backend, f"{tmp}_{n_jobs}")
        frames[name] = frame
        same = frame.equals(frames["n_jobs=1"])
        peak = max(stats["rss_kb"], stats["child_rss_kb"]) / 1024
        total = (stats["rss_kb"] + stats["children_rss_kb"]) / 1024
        rows.append(
            dict(
                setting=name,
                queries=args.n_queries,
                seconds=stats["seconds"],
                speedup=rows[0]["seconds"] / stats["seconds"] if rows else 1.0,
                peak_process_mb=peak,
                all_processes_mb=total,
                found=stats["n_found"],
                identical_to_n_jobs_1=same,
            )
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    timing = pd.DataFrame([model_time(n) for n in args.model_time])
    text = (
        table.to_markdown(index=False, floatfmt=".3g")
        + "\n\n"
        + timing.to_markdown(index=False, floatfmt=".3g")
    )
    print(text)
    if args.out is not None:
        cmd = f"python bench_scale.py --n-queries {args.n_queries} --out {args.out}"
        args.out.write_text(f"Command: `{cmd}`\n\n" + text + "\n")
        args.out.with_suffix(".rst").write_text(
            table.to_markdown(index=False, floatfmt=".3g", tablefmt="rst")
            + "\n\n"
            + timing.to_markdown(index=False, floatfmt=".3g", tablefmt="rst")
            + "\n"
        )


if __name__ == "__main__":
    main()
