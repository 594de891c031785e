"""L2XSelector on the L2X paper's synthetic data, side by side with SHAP and LIME.

For each label regime (``sampled``: labels drawn from the data's class
probabilities, as in the paper; ``argmax``: the most likely class) and each
data set (XOR, orange skin, nonlinear additive, switch) one scikit-learn MLP
is fitted; then, on the same model and the same held-out rows:

- L2XSelector (paper's k) is trained with 5 seeds: median rank of the true
  features (every run), post-hoc accuracy, training time, explanation
  throughput on a batch of 10,000 rows, per-row Jaccard overlap across seeds;
- KernelSHAP (shap.KernelExplainer) and LIME (lime.lime_tabular) explain the
  first ``--n-shap`` of those rows: median rank and seconds per row;
- references: the true features' post-hoc accuracy (the ceiling) and the
  median rank of one fixed, global top-k.

shap and lime live in the benchmark's own environment (see README.md)::

    python bench_l2x_synthetic.py --out results/l2x_synthetic.md

Post-hoc accuracy is :func:`skcfx.metrics.posthoc_accuracy` of the masks
(the selector's ``score`` subtracts ``k_penalty * k``, a model-selection
ruler, and is not reported).
"""

import argparse
import itertools
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.neural_network import MLPClassifier

from skcfx import L2XSelector
from skcfx.datasets import L2X_SYNTHETIC_K, make_l2x_synthetic
from skcfx.metrics import median_rank, posthoc_accuracy

DATASETS = ["xor", "orange_skin", "nonlinear_additive", "switch"]
REGIMES = ["sampled", "argmax"]


def jaccard_across_seeds(masks):
    """Mean over rows of the mean pairwise Jaccard overlap of selections."""
    values = []
    for a, b in itertools.combinations(masks, 2):
        inter = (a & b).sum(axis=1)
        union = (a | b).sum(axis=1)
        values.append(inter / union)
    return float(np.mean(values))


def shap_scores(model, X_background, X_explain, nsamples):
    import shap

    explainer = shap.KernelExplainer(
        model.predict_proba, shap.kmeans(X_background, 10), silent=True
    )
    start = time.perf_counter()
    values = explainer.shap_values(X_explain, nsamples=nsamples, silent=True)
    seconds = time.perf_counter() - start
    values = np.asarray(values)
    # shap >= 0.45 returns (n, d, n_classes); older versions a list per class
    if values.ndim == 3 and values.shape[0] == len(X_explain):
        values = values[:, :, 1]
    elif values.ndim == 3:
        values = values[1]
    return np.abs(values), seconds / len(X_explain)


def lime_scores(model, X_train, X_explain, seed):
    from lime.lime_tabular import LimeTabularExplainer

    d = X_train.shape[1]
    explainer = LimeTabularExplainer(
        X_train, discretize_continuous=False, random_state=seed, mode="classification"
    )
    scores = np.zeros((len(X_explain), d))
    start = time.perf_counter()
    for i, row in enumerate(X_explain):
        exp = explainer.explain_instance(row, model.predict_proba, num_features=d)
        for j, w in exp.as_map()[1]:
            scores[i, j] = abs(w)
    return scores, (time.perf_counter() - start) / len(X_explain)


def run_dataset(name, args, rows, regime):
    k = L2X_SYNTHETIC_K[name]
    n_total = args.n_model + args.n_l2x + args.n_test
    X, y, relevant = make_l2x_synthetic(
        name, n_total, noise=regime == "sampled", random_state=args.data_seed
    )
    X_model, y_model = X[: args.n_model], y[: args.n_model]
    X_l2x = X[args.n_model : args.n_model + args.n_l2x]
    X_test, rel_test = X[-args.n_test :], relevant[-args.n_test :]
    model = MLPClassifier(
        (100, 100), early_stopping=True, max_iter=300, random_state=0
    ).fit(X_model, y_model)
    ceiling = posthoc_accuracy(model, X_test, rel_test)
    # one fixed global top-k: the features the true masks use most often
    freq = rel_test.mean(axis=0)
    global_scores = np.tile(freq + 1e-9 * np.arange(freq.size)[::-1], (len(X_test), 1))
    X_big = np.tile(X_test, (int(np.ceil(10_000 / len(X_test))), 1))[:10_000]
    masks = []
    for seed in range(args.n_seeds):
        start = time.perf_counter()
        selector = L2XSelector(
            FrozenEstimator(model),
            k=k,
            baseline="zero",  # the paper's choice (these data are centred)
            max_epochs=args.max_epochs,
            tau=args.tau,
            random_state=seed,
        ).fit(X_l2x, model.predict(X_l2x))
        fit_s = time.perf_counter() - start
        selector.explain(X_big[:100])  # warm-up
        start = time.perf_counter()
        selector.explain(X_big)
        explain_s = time.perf_counter() - start
        expl = selector.explain(X_test)
        masks.append(expl.mask)
        rows.append(
            dict(
                regime=regime,
                dataset=name,
                method="L2X",
                seed=seed,
                median_rank=median_rank(rel_test, expl.scores, random_state=0),
                posthoc_accuracy=posthoc_accuracy(model, X_test, expl.mask),
                ceiling=ceiling,
                fit_s=fit_s,
                rows_per_s=10_000 / explain_s,
                best_epoch=selector.best_epoch_,
            )
        )
        print(rows[-1], flush=True)
    stability = jaccard_across_seeds(masks)
    for r in rows:
        if r["dataset"] == name and r["method"] == "L2X" and r["regime"] == regime:
            r["jaccard_5_seeds"] = stability
    rows.append(
        dict(
            regime=regime,
            dataset=name,
            method="global top-k",
            median_rank=median_rank(rel_test, global_scores, random_state=0),
            ceiling=ceiling,
        )
    )
    if args.skip_shap:
        return
    if args.shap_full_batch:
        # KernelSHAP on the very 10,000 rows L2X explained, timed end to end.
        _, per_row = _quiet(shap_scores, model, X_model, X_big, args.shap_nsamples)
        rows.append(
            dict(
                regime=regime,
                dataset=name,
                method="KernelSHAP on 10,000 rows",
                kernelshap_10k_measured_s=per_row * len(X_big),
            )
        )
        print(rows[-1], flush=True)
    X_small, rel_small = X_test[: args.n_shap], rel_test[: args.n_shap]
    competitors = {
        "KernelSHAP": lambda: shap_scores(model, X_model, X_small, args.shap_nsamples),
        "LIME": lambda: lime_scores(model, X_model, X_small, 0),
    }
    for method, explain in competitors.items():
        scores, per_row = _quiet(explain)
        rows.append(
            dict(
                regime=regime,
                dataset=name,
                method=method,
                median_rank=median_rank(rel_small, scores, random_state=0),
                s_per_row=per_row,
                ceiling=ceiling,
            )
        )
        print(rows[-1], flush=True)


def _quiet(func, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args)


def summarize(table):
    """One row per label regime and data set: every L2X run, the medians,
    the competitors on the same model."""
    if "regime" not in table:
        table = table.assign(regime="sampled")
    keys = ["regime", "dataset"]
    l2x = table[table.method == "L2X"]
    summary = (
        l2x.groupby(keys, sort=False)
        .agg(
            median_rank_runs=(
                "median_rank",
                lambda s: " / ".join(f"{v:.2f}" for v in s),
            ),
            median_rank_median=("median_rank", "median"),
            worst_run=("median_rank", "max"),
            posthoc_accuracy_runs=(
                "posthoc_accuracy",
                lambda s: " / ".join(f"{v:.3f}" for v in s),
            ),
            ceiling=("ceiling", "first"),
            jaccard_5_seeds=("jaccard_5_seeds", "first"),
            fit_s=("fit_s", "median"),
            rows_per_s=("rows_per_s", "median"),
        )
        .reset_index()
    )
    measured = None
    if "kernelshap_10k_measured_s" in table:
        measured = table.dropna(subset=["kernelshap_10k_measured_s"])
        table = table[table.method != "KernelSHAP on 10,000 rows"]
    others = table[table.method != "L2X"].pivot_table(
        index=keys, columns="method", values="median_rank", sort=False
    )
    summary = summary.merge(
        others.add_prefix("median_rank_").reset_index(), on=keys, how="left"
    )
    if {"median_rank_KernelSHAP", "median_rank_LIME"} <= set(summary):
        best_other = summary[["median_rank_KernelSHAP", "median_rank_LIME"]].min(axis=1)
        summary["every_run_below_shap_and_lime"] = summary["worst_run"] < best_other
    if "s_per_row" in table:
        shap_time = table[table.method == "KernelSHAP"].set_index(keys)["s_per_row"]
        summary["kernelshap_s_per_row"] = [
            shap_time.get(tuple(r)) for r in summary[keys].to_numpy()
        ]
        summary["kernelshap_10k_rows_s"] = summary["kernelshap_s_per_row"] * 10_000
        summary["l2x_fit_plus_10k_s"] = (
            summary["fit_s"] + 10_000 / summary["rows_per_s"]
        )
    if measured is not None and len(measured):
        m = measured.set_index(keys)["kernelshap_10k_measured_s"]
        summary["kernelshap_10k_measured_s"] = [
            m.get(tuple(r)) for r in summary[keys].to_numpy()
        ]
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--n-model", type=int, default=10_000)
    parser.add_argument("--n-l2x", type=int, default=20_000)
    parser.add_argument("--n-test", type=int, default=1_000)
    parser.add_argument("--n-seeds", type=int, default=5)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--tau", type=float, default=0.3)
    parser.add_argument("--n-shap", type=int, default=100)
    parser.add_argument("--shap-nsamples", type=int, default=2048)
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument(
        "--regimes", nargs="+", default=["sampled", "argmax"], choices=REGIMES
    )
    parser.add_argument("--skip-shap", action="store_true")
    parser.add_argument(
        "--shap-full-batch",
        action="store_true",
        help="also time KernelSHAP on the full 10,000-row batch",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--summarize", type=Path, default=None, help="re-summarize a saved CSV"
    )
    args = parser.parse_args()
    if args.summarize is not None:
        print(summarize(pd.read_csv(args.summarize)).to_markdown(index=False))
        return
    rows = []
    for regime in args.regimes:
        for name in args.datasets:
            run_dataset(name, args, rows, regime)
    table = pd.DataFrame(rows)
    summary = summarize(table)
    text = summary.to_markdown(index=False, floatfmt=".3g")
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        header = (
            "Command: `python bench_l2x_synthetic.py "
            + " ".join(f"{a}" for a in __import__("sys").argv[1:])
            + "`\n\n"
        )
        args.out.write_text(header + text + "\n")
        args.out.with_suffix(".rst").write_text(
            summary.to_markdown(index=False, floatfmt=".3g", tablefmt="rst") + "\n"
        )
        table.to_csv(args.out.with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
