"""L2XSelector on 200,000 x 50 rows: wall time of ``fit`` with default
settings, and the median rank of the true features.

The L2X paper's switch data set (:func:`skcfx.datasets.make_l2x_synthetic`)
widened to 50 features (the 40 extra ones pure noise), labels sampled from
the class probabilities; the explained model is an ``MLPClassifier((100,
100))`` fitted on 20,000 other rows, frozen. ``L2XSelector`` with its
defaults (30 epochs, batches of 100) and ``k=5`` learns on 200,000 rows;
its median rank is measured on 1,000 held-out rows, against the same
selector trained on 20,000 rows.

    python bench_l2x_scale.py --out results/l2x_scale.md
"""

import argparse
import time
from pathlib import Path

import pandas as pd
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.neural_network import MLPClassifier

from skcfx import L2XSelector
from skcfx.datasets import make_l2x_synthetic
from skcfx.metrics import median_rank


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-rows", type=int, nargs="*", default=[20_000, 200_000])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    n_max = max(args.n_rows)
    X, y, relevant = make_l2x_synthetic(
        "switch", n_max + 21_000, n_features=50, random_state=0
    )
    model_rows = slice(n_max, n_max + 20_000)
    test = slice(n_max + 20_000, None)
    start = time.perf_counter()
    mlp = MLPClassifier((100, 100), early_stopping=True, random_state=0)
    mlp.fit(X[model_rows], y[model_rows])
    model_s = time.perf_counter() - start
    rows = []
    for n in args.n_rows:
        selector = L2XSelector(estimator=FrozenEstimator(mlp), k=5, random_state=0)
        start = time.perf_counter()
        selector.fit(X[:n], y[:n])
        seconds = time.perf_counter() - start
        expl = selector.explain(X[test])
        rows.append(
            dict(
                rows=n,
                features=X.shape[1],
                epochs=selector.max_epochs,
                fit_s=seconds,
                s_per_epoch=seconds / selector.max_epochs,
                best_epoch=selector.best_epoch_,
                median_rank=median_rank(relevant[test], expl.scores, random_state=0),
                torch_threads=torch.get_num_threads(),
            )
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    text = table.to_markdown(index=False, floatfmt=".3g")
    text += f"\n\n(the explained MLP itself: {model_s:.1f} s to fit on 20,000 rows)"
    print(text)
    if args.out is not None:
        args.out.write_text(
            "Command: `python bench_l2x_scale.py --out results/l2x_scale.md`\n\n"
            + text
            + "\n"
        )
        args.out.with_suffix(".rst").write_text(
            table.to_markdown(index=False, floatfmt=".3g", tablefmt="rst") + "\n"
        )


if __name__ == "__main__":
    main()
