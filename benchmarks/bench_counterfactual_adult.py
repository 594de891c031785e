"""skcfx vs dice-ml 0.12 on DiCE's Adult question, in one run.

Setup (issue #2): the DiCE tutorial's eight Adult columns, a RandomForest and
an MLP Pipeline (ColumnTransformer: scaling + one-hot), 30 rejected
applicants, 4 counterfactuals each, methods random / genetic / kdtree, with
and without the constraints ``features_to_vary=[age, education, occupation,
hours_per_week]`` and ``permitted_range={"age": (20, 60)}``.

Seconds per query are the wall time of one call explaining the whole batch
divided by the number of queries; dice-ml is given the same batch in one
``generate_counterfactuals`` call and timed per query as well (it loops over
queries internally). Quality is measured on both libraries' outputs by the
same code (``CounterfactualExplainer.evaluate``): validity re-predicted by the
model on the returned rows, constraint violations counted cell by cell.

Usage::

    python bench_counterfactual_adult.py --out results/counterfactual_adult.md
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skcfx import CounterfactualExplainer
from skcfx.datasets import DICE_COLUMNS, load_adult
from skcfx.exceptions import NoCounterfactualWarning

COLUMNS = DICE_COLUMNS
NUMERIC = ["age", "hours_per_week"]
CATEGORICAL = [c for c in COLUMNS if c not in NUMERIC]
CONSTRAINTS = dict(
    features_to_vary=["age", "education", "occupation", "hours_per_week"],
    permitted_range={"age": (20, 60)},
)
METHODS = {"random": "random", "genetic": "genetic", "kdtree": "kdtree"}
REPEATS = 5


def make_data():
    X, y = load_adult(return_X_y=True)
    X = X[COLUMNS].copy()
    # dice-ml handles plain string columns; the model sees the same values
    X["education"] = X["education"].astype(str).astype(object)
    return train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)


def make_model(kind):
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    if kind == "RandomForest":
        clf = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)
    else:
        clf = MLPClassifier(hidden_layer_sizes=(20,), max_iter=300, random_state=0)
    return Pipeline([("prep", pre), ("clf", clf)])


def run_skcfx(model, X_train, queries, method, constrained):
    kw = CONSTRAINTS if constrained else {}
    cfx = CounterfactualExplainer(
        FrozenEstimator(model),
        method=method,
        n_counterfactuals=4,
        random_state=0,
        n_jobs=1,
        **kw,
    ).fit(X_train)
    with warnings.catch_warnings():  # warm-up run on the batch (discarded)
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        cfx.explain(queries)
    walls = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        for _ in range(REPEATS):  # same seed: identical results each time
            start = time.perf_counter()
            expl = cfx.explain(queries)
            walls.append(time.perf_counter() - start)
    # one batch call explains every query: its wall time / n_queries is each
    # query's cost; the median over repeats damps machine noise
    per_query = np.full(len(queries), np.median(walls) / len(queries))
    return cfx, expl, per_query


def run_dice(model, X_train, y_train, queries, method, constrained):
    import dice_ml

    train = X_train.copy()
    train["income"] = y_train
    data = dice_ml.Data(
        dataframe=train, continuous_features=NUMERIC, outcome_name="income"
    )
    m = dice_ml.Model(model=model, backend="sklearn")
    exp = dice_ml.Dice(data, m, method=METHODS[method])
    kw = {}
    if constrained:
        kw = dict(
            features_to_vary=CONSTRAINTS["features_to_vary"],
            permitted_range={"age": [20, 60]},
        )
    rows, times = [], []
    for label in queries.index:
        q = queries.loc[[label]]
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = exp.generate_counterfactuals(
                    q, total_CFs=4, desired_class="opposite", verbose=False, **kw
                )
            cfs = res.cf_examples_list[0].final_cfs_df
        except Exception as exc:  # dice raises when it finds nothing
            cfs = None
            print(f"  dice {method}: query {label}: {type(exc).__name__}: {exc}"[:160])
        times.append(time.perf_counter() - start)
        if cfs is not None and len(cfs):
            cfs = cfs[COLUMNS].copy()
            cfs.insert(0, "query", label)
            rows.append(cfs)
    frame = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["query"] + COLUMNS)
    )
    for c in NUMERIC:
        frame[c] = pd.to_numeric(frame[c])
    return frame, np.asarray(times)


def evaluate(cfx, queries, frame):
    # DiCE may return numeric columns as float: compare values, not dtypes
    for c in NUMERIC:
        frame[c] = frame[c].astype(float)
    q = queries.copy()
    for c in NUMERIC:
        q[c] = q[c].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cfx.evaluate(
            queries,
            frame.astype({c: queries[c].dtype for c in NUMERIC}, errors="ignore"),
        )


def summarise(name, expl, times):
    s = expl.summary
    return {
        "library": name,
        "s/query median": float(np.median(times)),
        "s/query p90": float(np.percentile(times, 90)),
        "validity": s["validity"],
        "coverage": s["coverage"],
        "violations": s["constraint_violations"],
        "proximity": s["proximity"],
        "sparsity": s["sparsity"],
        "diversity": s["diversity"],
        "plausibility": s["plausibility"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-queries", type=int, default=30)
    ap.add_argument("--models", default="RandomForest,MLP")
    ap.add_argument("--methods", default="random,genetic,kdtree")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    X_train, X_test, y_train, y_test = make_data()
    results = []
    for kind in args.models.split(","):
        model = make_model(kind).fit(X_train, y_train)
        acc = model.score(X_test, y_test)
        queries = X_test[model.predict(X_test) == 0].iloc[: args.n_queries]
        print(f"{kind}: test accuracy {acc:.3f}, {len(queries)} rejected applicants")
        for constrained in (False, True):
            for method in args.methods.split(","):
                cfx, expl, t_sk = run_skcfx(
                    model, X_train, queries, method, constrained
                )
                dice_frame, t_dice = run_dice(
                    model, X_train, y_train, queries, method, constrained
                )
                ev = cfx.evaluate(queries, dice_frame)
                # quality on the queries both libraries answered (dice-ml's
                # kdtree misses the harder ones under constraints)
                both = queries.index[
                    (ev.metrics["n_valid"] > 0).to_numpy()
                    & (expl.metrics["n_valid"] > 0).to_numpy()
                ]
                ours = expl.to_frame()
                ours = ours[ours["query"].isin(both) & ours["valid"]]
                theirs = dice_frame[dice_frame["query"].isin(both)]
                common = {}
                if len(both):
                    for lib, fr in (("skcfx", ours), ("dice-ml 0.12", theirs)):
                        e = cfx.evaluate(queries.loc[both], fr[["query"] + COLUMNS])
                        common[lib] = (e.summary["proximity"], e.summary["sparsity"])
                for lib, e, t in (("skcfx", expl, t_sk), ("dice-ml 0.12", ev, t_dice)):
                    row = {
                        "model": kind,
                        "constraints": constrained,
                        "method": method,
                        **summarise(lib, e, t),
                    }
                    row["n common"] = len(both)
                    row["proximity (common)"] = common.get(lib, (np.nan, np.nan))[0]
                    row["sparsity (common)"] = common.get(lib, (np.nan, np.nan))[1]
                    results.append(row)
                    print(
                        "  "
                        + ", ".join(
                            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in row.items()
                        )
                    )
                sk = results[-2]["s/query median"]
                dc = results[-1]["s/query median"]
                print(f"  -> speed-up (median s/query): {dc / sk:.1f}x")
    df = pd.DataFrame(results)
    text = (
        f"Run on {platform.node()} ({os.cpu_count()} cores), Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}.\n\n"
        + df.to_markdown(index=False, floatfmt=".3g")
    )
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
        stem = os.path.splitext(args.out)[0]
        df.to_csv(stem + ".csv", index=False)
        with open(stem + ".rst", "w") as fh:  # included by doc/benchmarks.rst
            fh.write(df.to_markdown(index=False, floatfmt=".3g", tablefmt="rst"))
            fh.write("\n")


if __name__ == "__main__":
    main()
