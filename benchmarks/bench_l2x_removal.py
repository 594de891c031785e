"""L2XSelector's two removals on real data and on the paper's synthetic sets.

``removal="conditional"`` (the paper's L2X: the approximator predicts the
model's output on the full row from the kept entries) against
``removal="baseline"`` (it predicts the model's output on the masked row,
the row that post-hoc accuracy hands the model), on models and data the
selector was not tuned on:

- real data: scikit-learn's breast cancer (30 correlated columns) and wine
  (13), each with a HistGradientBoostingClassifier and a scaled
  ``MLPClassifier((64, 32))``, fitted on 75% of the rows; L2X (default
  settings, mean baseline) trained on the same rows and the model's own
  outputs (a FrozenEstimator), k = 1, 2, 4; post-hoc accuracy on the held-out
  25% (the fraction of rows whose model prediction on the masked row equals
  that on the full row), over ``--n-seeds`` seeds; references: the best
  single global feature set (the same k columns kept in every row, the best
  of every 1- and 2-subset, greedy for k = 4) and, for k = 1 and 2, the
  per-row oracle (some k-subset keeps the row's prediction);
- synthetic data (``make_l2x_synthetic``, argmax labels, as in
  ``bench_l2x_synthetic.py`` with fewer rows): median rank of the true
  features and post-hoc accuracy, zero baseline (the paper's).

Fit time is reported for both (``baseline`` makes one more model call per
training batch)::

    python bench_l2x_removal.py --out results/l2x_removal.md

(writes ``results/l2x_removal_real.rst`` and ``l2x_removal_synthetic.rst``
for the docs too).
"""

import argparse
import itertools
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcfx import L2XSelector
from skcfx.datasets import L2X_SYNTHETIC_K, make_l2x_synthetic
from skcfx.metrics import median_rank, posthoc_accuracy

REMOVALS = ["conditional", "baseline"]


def kept(model, X, baseline, columns):
    """Per row: does keeping ``columns`` (others at the baseline) keep the
    model's prediction?"""
    full = model.predict(X)
    masked = np.tile(baseline, (len(X), 1))
    masked[:, columns] = X[:, columns]
    return model.predict(masked) == full


def references(model, X, baseline, k):
    """Best global k-set's post-hoc accuracy, and the per-row oracle's."""
    d = X.shape[1]
    if k <= 2:
        hits = {
            c: kept(model, X, baseline, list(c))
            for c in itertools.combinations(range(d), k)
        }
        best = max(float(h.mean()) for h in hits.values())
        oracle = float(np.any(np.stack(list(hits.values())), axis=0).mean())
        return best, oracle
    chosen = []
    for _ in range(k):  # greedy
        scores = {
            j: kept(model, X, baseline, chosen + [j]).mean()
            for j in range(d)
            if j not in chosen
        }
        chosen.append(max(scores, key=scores.get))
    return float(kept(model, X, baseline, chosen).mean()), None


def real(args):
    rows = []
    for data_name, loader in [
        ("breast_cancer", load_breast_cancer),
        ("wine", load_wine),
    ]:
        X, y = loader(return_X_y=True)
        X_tr, X_te, y_tr, _ = train_test_split(X, y, random_state=0)
        models = {
            "HistGradientBoosting": HistGradientBoostingClassifier(random_state=0),
            "MLP(64, 32)": make_pipeline(
                StandardScaler(), MLPClassifier((64, 32), max_iter=1000, random_state=0)
            ),
        }
        for model_name, model in models.items():
            model.fit(X_tr, y_tr)
            baseline = X_tr.mean(axis=0)
            for k in (1, 2, 4):
                best, oracle = references(model, X_te, baseline, k)
                row = dict(
                    data=data_name,
                    model=model_name,
                    k=k,
                    best_global_set=round(best, 3),
                    per_row_oracle=None if oracle is None else round(oracle, 3),
                )
                for removal in REMOVALS:
                    accs, times = [], []
                    for seed in range(args.n_seeds):
                        start = time.perf_counter()
                        selector = L2XSelector(
                            FrozenEstimator(model),
                            k=k,
                            removal=removal,
                            random_state=seed,
                        ).fit(X_tr)
                        times.append(time.perf_counter() - start)
                        mask = selector.explain(X_te).mask
                        accs.append(
                            posthoc_accuracy(model, X_te, mask, baseline=baseline)
                        )
                    row[f"{removal}_posthoc"] = " / ".join(f"{a:.3f}" for a in accs)
                    row[f"{removal}_median"] = round(float(np.median(accs)), 3)
                    row[f"{removal}_fit_s"] = round(float(np.median(times)), 1)
                rows.append(row)
                print(row, flush=True)
    return pd.DataFrame(rows)


def synthetic(args):
    rows = []
    for name in args.datasets:
        k = L2X_SYNTHETIC_K[name]
        n = args.n_model + args.n_l2x + args.n_test
        X, y, relevant = make_l2x_synthetic(name, n, noise=False, random_state=0)
        X_model, y_model = X[: args.n_model], y[: args.n_model]
        X_l2x = X[args.n_model : args.n_model + args.n_l2x]
        X_te, rel_te = X[-args.n_test :], relevant[-args.n_test :]
        model = MLPClassifier(
            (100, 100), early_stopping=True, max_iter=300, random_state=0
        ).fit(X_model, y_model)
        row = dict(
            dataset=name, k=k, ceiling=round(posthoc_accuracy(model, X_te, rel_te), 3)
        )
        for removal in REMOVALS:
            ranks, accs, times = [], [], []
            for seed in range(args.n_seeds):
                start = time.perf_counter()
                selector = L2XSelector(
                    FrozenEstimator(model),
                    k=k,
                    baseline="zero",
                    removal=removal,
                    random_state=seed,
                ).fit(X_l2x)
                times.append(time.perf_counter() - start)
                expl = selector.explain(X_te)
                ranks.append(median_rank(rel_te, expl.scores, random_state=0))
                accs.append(posthoc_accuracy(model, X_te, expl.mask))
            row[f"{removal}_median_rank"] = " / ".join(f"{r:.2f}" for r in ranks)
            row[f"{removal}_posthoc"] = " / ".join(f"{a:.3f}" for a in accs)
            row[f"{removal}_fit_s"] = round(float(np.median(times)), 1)
        rows.append(row)
        print(row, flush=True)
    return pd.DataFrame(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-seeds", type=int, default=3)
    parser.add_argument("--n-model", type=int, default=10_000)
    parser.add_argument("--n-l2x", type=int, default=10_000)
    parser.add_argument("--n-test", type=int, default=1_000)
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=["xor", "orange_skin", "nonlinear_additive", "switch"],
    )
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)
    tables = [("Real data: held-out post-hoc accuracy", real(args))]
    if not args.skip_synthetic:
        tables.append(
            ("Synthetic data (argmax labels, zero baseline)", synthetic(args))
        )
    text = "Command: `python bench_l2x_removal.py" + (
        f" --out {args.out}`" if args.out else "`"
    )
    for title, table in tables:
        text += f"\n\n{title}\n\n" + table.to_markdown(index=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
        # included by doc/benchmarks.rst
        for suffix, (_, table) in zip(["_real", "_synthetic"], tables):
            args.out.with_name(args.out.stem + suffix + ".rst").write_text(
                table.to_markdown(index=False, tablefmt="rst") + "\n"
            )


if __name__ == "__main__":
    main()
