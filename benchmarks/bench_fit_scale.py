"""Fitting the explainer on large training sets: time, peak memory, pickle.

Adult-like data: DiCE's eight Adult columns resampled with replacement to
each size (ages and hours jittered by a few units so that rows are not
mere copies), explained model a logistic Pipeline fitted on the real rows
and frozen (its pickle is a few kB, so the explainer's pickle is the
explainer's own state). Each size is fitted in a fresh process: wall time
of ``fit``, the process's peak resident memory after building the data and
after ``fit``, and the pickled explainer's size, for the default
``max_samples=100_000`` and for ``max_samples=None`` (every row kept, up to
the size where that stays affordable).

    python bench_fit_scale.py --out results/fit_scale.md
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

CHILD = r"""
import json, pickle, resource, sys, time
import numpy as np
sys.path.insert(0, {here!r})
from bench_fit_scale import data
model, X = data({n})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from sklearn.frozen import FrozenEstimator
from skcfx import CounterfactualExplainer
cfx = CounterfactualExplainer(FrozenEstimator(model), random_state=0,
                              max_samples={max_samples})
start = time.perf_counter()
cfx.fit(X)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
size = len(pickle.dumps(cfx))
q = X.iloc[:20]
start = time.perf_counter()
cfx.explain(q[model.predict(q) == 0])
json.dump(dict(fit_s=seconds, data_mb=before / 1024, peak_mb=after / 1024,
               pickle_mb=size / 2**20), open({out!r}, "w"))
"""


def data(n):
    """A logistic Pipeline fitted on Adult, and ``n`` Adult-like rows."""
    import numpy as np
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

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
    rng = np.random.default_rng(0)
    big = X.sample(n, replace=True, random_state=0).reset_index(drop=True)
    for col, lo, hi in (("age", 17, 90), ("hours_per_week", 1, 99)):
        jitter = rng.integers(-2, 3, n)
        big[col] = np.clip(big[col].to_numpy() + jitter, lo, hi).astype(X[col].dtype)
    return model, big


def run(n, max_samples, out):
    code = CHILD.format(
        here=str(Path(__file__).parent), n=n, max_samples=max_samples, out=out
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with open(out) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[30_000, 100_000, 300_000, 1_000_000]
    )
    parser.add_argument("--max-all", type=int, default=300_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        for max_samples in (100_000, None):
            if max_samples is None and n > args.max_all:
                continue
            stats = run(n, max_samples, "/tmp/skcfx_fit_scale.json")
            rows.append(dict(rows=n, max_samples=str(max_samples), **stats))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    text = table.to_markdown(index=False, floatfmt=".3g")
    print(text)
    if args.out is not None:
        args.out.write_text(
            "Command: `python bench_fit_scale.py --out results/fit_scale.md`\n\n"
            + text
            + "\n"
        )
        args.out.with_suffix(".rst").write_text(
            table.to_markdown(index=False, floatfmt=".3g", tablefmt="rst") + "\n"
        )


if __name__ == "__main__":
    main()
