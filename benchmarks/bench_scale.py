"""Parallel explain: ``n_jobs=1`` against ``n_jobs=2`` and a dask cluster;
explain time against the model's own time.

The README's model (DiCE's eight Adult columns, OneHotEncoder + a default
RandomForestClassifier, trained on all rows) and its constraints; the first
``--n-queries`` rows the model rejects, explained with the default genetic
search.

Parallel settings, each run in a fresh process (the model and the fitted
explainer are fitted once, pickled, and loaded by each run before the
clock, so that a run costs its explain and more repeats fit in the time;
the machine's speed drifts by tens of percent between minutes, so ratios
are read from runs interleaved in time): ``n_jobs=1``; ``n_jobs=2``
under joblib's default back end (workers forked from the caller, sharing
its memory); ``n_jobs=2`` inside ``parallel_config(backend="loky")``
(joblib's fresh worker interpreters, which receive pickled copies); and,
when ``distributed`` is installed, ``n_jobs=2`` inside
``parallel_config(backend="dask")`` on a ``LocalCluster`` of two
single-threaded worker processes (on loopback, created before the clock
starts), warm (its workers have run an earlier job, a small explain of
another model, as on a long-lived cluster) and cold (they import
scikit-learn, pandas and skcfx while unpickling the model, inside
explain), and warm with the user guide's settings (tuned: no worker
profiler, no ``MALLOC_TRIM_THRESHOLD_`` in the workers' environment).
Reported: wall time of ``explain`` from runs with nothing else running
(no memory sampler: a sampler competes for the cores with the parallel
settings' workers only, as ``n_jobs=1`` leaves it a core of its own; one
sample over three processes of ~1 GB took ~38 ms of a core while both
were busy, so sampling every 250 ms took ~15 % of a core from them);
memory from one more run of each setting, sampled every 100 ms: before
explain (the caller and an idle cluster), and the peak while explain
runs of the summed proportional set size (PSS) of the process and every
process under it (a page shared by k processes counts 1/k in each, so
memory shared copy-on-write counts once; the summed resident set size,
which counts it in every process, is shown too); and whether the
counterfactuals of every run equal those of ``n_jobs=1``. Settings run
in turn ``--repeats`` times, then the memory runs; the fastest timed run
of each is kept and the median shown with all runs, and the paired
speedup: the median over repeats of the ``n_jobs=1`` run's time over the
setting's run of the same repeat (runs minutes apart, so the drift of
the machine's speed between repeats cancels).

Model time (``--model-time``): explain with ``n_jobs=1`` while recording
every batch the search sends to the model, then the model alone on exactly
those batches (the same calls) and on all their rows in bulk calls of up to
100,000 rows, alternating ``--repeats`` times (once at 10,000 queries and
more), fastest of each kept. And the model's own cost per row at 100 to
100,000 rows per call (:func:`call_cost`).

    python bench_scale.py --n-queries 2000 --repeats 4 --out results/scale.md
"""

import argparse
import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = r"""
import json, pickle, sys, threading, time, warnings
import psutil
sys.path.insert(0, {here!r})
# timed runs: the model and the fitted explainer, fitted once by the
# parent and pickled (fitting takes ~30 s, loading ~1 s, so a run costs its
# explain); memory runs fit them here, as a user who fits and then explains
# (a process that loaded them from a pickle holds ~90 MB more before
# explain, and its forked workers copy more of it)
if {sampled!r}:
    from bench_scale import setting
    setup = setting({n})
else:
    with open({pickled!r}, "rb") as f:
        setup = pickle.load(f)
explainer, queries = setup["explainer"], setup["queries"]
# the explainer's KD-trees are not pickled: built here, before the clock,
# for every setting alike (as fit leaves them)
from skcfx.counterfactual._tabular.queries import SearchSetup
SearchSetup(explainer).build()
backend = {backend!r}
if backend.startswith("dask"):
    import dask
    from dask.distributed import Client, LocalCluster
    from joblib import parallel_config
    if backend == "dask-tuned":
        # the user guide's settings for explain on a dask cluster: no
        # worker profiler, and glibc's malloc left to adapt its thresholds
        # (a nanny's default MALLOC_TRIM_THRESHOLD_ fixes them, and every
        # array over 128 KiB becomes a fresh mapping)
        environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        dask.config.set({{"distributed.worker.profile.enabled": False,
                          "distributed.nanny.pre-spawn-environ": environ}})
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    ctx = parallel_config(backend="dask")
    if backend in ("dask-warm", "dask-tuned"):
        # workers that have run an earlier job, as on a long-lived cluster
        # (a fresh worker imports scikit-learn, pandas and skcfx while it
        # unpickles the first explain's model): a small explain of another
        # model (a two-tree forest on 500 rows), before the clock
        from sklearn.base import clone
        from skcfx import CounterfactualExplainer
        small = clone(setup["model"]).set_params(randomforestclassifier__n_estimators=2)
        X500, y500 = setup["X"].head(500), setup["model"].predict(setup["X"].head(500))
        warm = CounterfactualExplainer(small, random_state=0, n_jobs=2).fit(X500, y500)
        with warnings.catch_warnings():  # parallel_config applies at once
            warnings.simplefilter("ignore")
            warm.explain(X500.head(4))
elif backend == "loky":
    from joblib import parallel_config
    ctx = parallel_config(backend="loky")
else:
    import contextlib
    ctx = contextlib.nullcontext()
explainer.set_params(n_jobs={n_jobs})

# memory runs only (``sampled``): memory of this process and every process
# under it (workers, a dask cluster's workers), sampled every 100 ms while
# explain runs (a sample over three processes of ~1 GB costs the kernel
# tens of milliseconds of page-table walks, taken from the workers when
# every core is busy, so timed runs sample nothing): the peak of the sum
# of proportional set sizes (a page shared by k processes counts 1/k in
# each, so shared memory is counted once) and of the sum of resident set
# sizes (shared pages counted in every process)
peak = dict(pss=0, rss=0)
running = True
def measure():
    me = psutil.Process()
    pss = rss = 0
    for p in [me] + me.children(recursive=True):
        try:
            info = p.memory_full_info()
        except (psutil.Error, OSError):
            continue
        pss += info.pss
        rss += info.rss
    return pss, rss
def sample():
    while running:
        pss, rss = measure()
        peak["pss"] = max(peak["pss"], pss)
        peak["rss"] = max(peak["rss"], rss)
        time.sleep(0.1)
# before explain: this process (and an idle cluster's processes)
idle_pss = measure()[0]
sampler = threading.Thread(target=sample, daemon=True)
with ctx, warnings.catch_warnings():
    warnings.simplefilter("ignore")
    if {sampled!r}:
        sampler.start()
    time.sleep(0.2)
    start = time.perf_counter()
    expl = explainer.explain(queries)
    seconds = time.perf_counter() - start
    time.sleep(0.2)
    running = False
    if {sampled!r}:
        sampler.join()
frame = expl.to_frame()
frame.to_pickle({out!r} + ".pkl")
if backend.startswith("dask"):
    client.close(); cluster.close()
json.dump(dict(seconds=seconds, pss=peak["pss"], rss=peak["rss"], idle_pss=idle_pss,
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


def run_child(pickled, n, n_jobs, backend, out, sample=False):
    code = CHILD.format(
        here=str(Path(__file__).parent),
        pickled=pickled,
        n=n,
        n_jobs=n_jobs,
        backend=backend,
        out=out,
        sampled=sample,
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with open(out + ".json") as f:
        return json.load(f), pd.read_pickle(out + ".pkl")


def model_time(n, repeats=3):
    """Explain ``n`` queries with ``n_jobs=1``, recording every batch the
    search sends to the model; then the model alone on exactly those
    batches (the same calls) and on all their rows in bulk calls of up to
    100,000 rows. Explain and the two replays alternate ``repeats`` times
    (the fastest of each is kept: this machine's speed drifts by tens of
    percent between minutes)."""
    setup = setting(n)
    model, explainer, queries = setup["model"], setup["explainer"], setup["queries"]
    inner = model.predict_proba
    batches = []

    def recording(X):
        batches.append(X)
        return inner(X)

    explain_s, replay_s, bulk_s = [], [], []
    for _ in range(repeats):
        batches.clear()
        model.predict_proba = recording
        start = time.perf_counter()
        explainer.explain(queries)
        explain_s.append(time.perf_counter() - start)
        model.predict_proba = inner
        start = time.perf_counter()
        for X in batches:
            inner(X)
        replay_s.append(time.perf_counter() - start)
        bulk = pd.concat(batches, ignore_index=True)
        start = time.perf_counter()
        for part in range(0, len(bulk), 100_000):
            inner(bulk.iloc[part : part + 100_000])
        bulk_s.append(time.perf_counter() - start)
        del bulk
    rows = sum(len(X) for X in batches)
    e, m, b = min(explain_s), min(replay_s), min(bulk_s)
    return dict(
        queries=n,
        explain_s=e,
        model_calls=len(batches),
        rows_per_query=rows / n,
        model_same_calls_s=m,
        ratio_same_calls=e / m,
        model_bulk_s=b,
        ratio_bulk=e / b,
    )


def call_cost(sizes=(100, 1_000, 10_000, 100_000), repeats=3):
    """The model's cost per row by rows per call: 100,000 training rows
    (drawn with replacement) in calls of each size (10,000 rows at 100 per
    call), fastest of ``repeats``. A forest's cost per call is far from
    proportional to its rows: each call walks every tree again."""
    setup = setting(10)
    model, X = setup["model"], setup["X"]
    rows = X.sample(100_000, replace=True, random_state=0).reset_index(drop=True)
    out = []
    for size in sizes:
        total = 10_000 if size < 1_000 else len(rows)
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(0, total, size):
                model.predict_proba(rows.iloc[i : i + size])
            best = min(best, time.perf_counter() - start)
        out.append(dict(rows_per_call=size, us_per_row=best / total * 1e6))
    frame = pd.DataFrame(out)
    frame["vs_100000_per_call"] = frame.us_per_row / frame.us_per_row.iloc[-1]
    return frame


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-queries", type=int, default=2000)
    parser.add_argument("--model-time", type=int, nargs="*", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--settings",
        nargs="*",
        default=None,
        help="run only the parallel settings whose name contains one of these "
        "words (n_jobs=1 always runs: it is the reference)",
    )
    args = parser.parse_args()
    tmp = "/tmp/skcfx_bench_scale"
    rows, frames = [], {}
    settings = [
        ("n_jobs=1", 1, "default"),
        ("n_jobs=2 (forked workers)", 2, "default"),
        ("n_jobs=2, parallel_config(backend='loky')", 2, "loky"),
    ]
    try:
        import distributed  # noqa: F401

        settings.append(("n_jobs=2, dask LocalCluster(2), warm", 2, "dask-warm"))
        settings.append(("n_jobs=2, dask LocalCluster(2), cold", 2, "dask"))
        settings.append(
            ("n_jobs=2, dask LocalCluster(2), warm, tuned", 2, "dask-tuned")
        )
    except ImportError:
        print("distributed not installed: no dask setting")
    if args.settings:
        settings = [
            s
            for s in settings
            if s[0] == "n_jobs=1" or any(w in s[0] for w in args.settings)
        ]
    pickled = f"{tmp}_setting.pkl"
    with open(pickled, "wb") as f:
        pickle.dump(setting(args.n_queries), f, protocol=5)
    # the settings run in turn, ``--repeats`` times (each in a fresh
    # process, nothing sampling it); the fastest run of each setting is
    # kept: the machine's speed drifts between minutes, so ratios come from
    # runs interleaved in time. Then one sampled run per setting for memory.
    runs, memory = {}, {}
    for repeat in range(args.repeats + 1):
        sample = repeat == args.repeats
        for i, (name, n_jobs, backend) in enumerate(settings):
            stats, frame = run_child(
                pickled, args.n_queries, n_jobs, backend, f"{tmp}_{i}", sample=sample
            )
            frames.setdefault(name, frame)
            stats["same"] = frame.equals(frames["n_jobs=1"])
            (memory if sample else runs).setdefault(name, []).append(stats)
            print(name, "memory run" if sample else "timed run", stats, flush=True)
    base = None
    for name, _, _ in settings:
        mine = np.array([r["seconds"] for r in runs[name]])
        times = sorted(mine)
        seconds, median = times[0], float(np.median(times))
        mem = memory[name][0]
        pss = mem["pss"] / 2**20
        base = base or dict(seconds=seconds, median=median, pss=pss, runs=mine)
        rows.append(
            dict(
                setting=name,
                queries=args.n_queries,
                seconds=seconds,
                all_runs_s=" / ".join(f"{r['seconds']:.1f}" for r in runs[name]),
                speedup=base["seconds"] / seconds,
                median_s=median,
                speedup_median=base["median"] / median,
                # each repeat's n_jobs=1 run over this setting's run of the
                # same repeat (minutes apart, so the machine's drift cancels)
                speedup_paired=float(np.median(np.divide(base["runs"], mine))),
                idle_pss_mb=mem["idle_pss"] / 2**20,
                peak_pss_mb=pss,
                memory_ratio=pss / base["pss"],
                peak_rss_sum_mb=mem["rss"] / 2**20,
                found=runs[name][0]["n_found"],
                identical_to_n_jobs_1=all(r["same"] for r in runs[name] + memory[name]),
            )
        )
    table = pd.DataFrame(rows)
    timing = pd.DataFrame(
        [model_time(n, args.repeats if n < 10_000 else 1) for n in args.model_time]
    )
    per_call = call_cost()
    text = (
        table.to_markdown(index=False, floatfmt=".3g")
        + "\n\n"
        + timing.to_markdown(index=False, floatfmt=".3g")
        + "\n\n"
        + per_call.to_markdown(index=False, floatfmt=".3g")
    )
    print(text)
    if args.out is not None:
        cmd = (
            f"python bench_scale.py --n-queries {args.n_queries} "
            f"--repeats {args.repeats} --out {args.out}"
        )
        if args.settings:
            cmd += " --settings " + " ".join(args.settings)
        if args.model_time != [100, 1000, 10000]:
            cmd += " ".join(["", "--model-time", *map(str, args.model_time)])
        args.out.write_text(f"Command: `{cmd}`\n\n" + text + "\n")
        args.out.with_suffix(".rst").write_text(
            table.to_markdown(index=False, floatfmt=".3g", tablefmt="rst")
            + "\n\n"
            + timing.to_markdown(index=False, floatfmt=".3g", tablefmt="rst")
            + "\n\n"
            + per_call.to_markdown(index=False, floatfmt=".3g", tablefmt="rst")
            + "\n"
        )


if __name__ == "__main__":
    main()
