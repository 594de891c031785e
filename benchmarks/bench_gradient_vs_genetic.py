"""Gradient against genetic search on the networks users fit, and the
automatic choice between them.

Two setups nobody tuned the gradient method on:

- Adult (DiCE's eight columns): StandardScaler on the numeric columns,
  one-hot encoding of the categorical ones, ``MLPClassifier((64, 32))``;
- breast cancer (30 numeric columns): StandardScaler,
  ``MLPClassifier((100,))`` and ``MLPClassifier((64, 32))``.

For ``--n-queries`` rejected (class 0) held-out rows, 4 counterfactuals each,
``CounterfactualExplainer`` with ``method="gradient"``, ``"genetic"`` and
``"auto"`` (a probe in ``fit`` times both searches on a few training rows
and keeps the gradient search only if it is at least as fast at an equal or
better score). Reported: time per query of ``explain`` (one call), the
one-off ``fit`` time, validity, coverage, mean proximity and sparsity of the
valid counterfactuals, the fixed-ruler ``score`` (validity minus cost;
higher is better) and, for ``auto``, the method it chose.

    python bench_gradient_vs_genetic.py --out results/gradient_vs_genetic.md
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skcfx import CounterfactualExplainer
from skcfx.datasets import load_adult

METHODS = ("gradient", "genetic", "auto")


def adult():
    X, y = load_adult(subset="dice", return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
    cat = [c for c in X.columns if X[c].dtype.name in ("category", "object")]
    num = [c for c in X.columns if c not in cat]
    model = make_pipeline(
        make_column_transformer(
            (StandardScaler(), num), (OneHotEncoder(handle_unknown="ignore"), cat)
        ),
        MLPClassifier((64, 32), max_iter=300, early_stopping=True, random_state=0),
    ).fit(Xtr, ytr)
    return "Adult, MLP (64, 32)", model, Xtr, Xte


def cancer(hidden):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    model = make_pipeline(
        StandardScaler(), MLPClassifier(hidden, max_iter=1000, random_state=0)
    ).fit(Xtr, ytr)
    return f"breast cancer (30 columns), MLP {hidden}", model, Xtr, Xte


def run(name, model, Xtr, Xte, n, rows):
    queries = Xte[model.predict(Xte) == 0].head(n)
    for method in METHODS:
        start = time.perf_counter()
        cfx = CounterfactualExplainer(
            FrozenEstimator(model), method=method, random_state=0
        ).fit(Xtr)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expl = cfx.explain(queries)
        seconds = time.perf_counter() - start
        summary = expl.summary
        rows.append(
            {
                "setup": name,
                "method": method,
                "chosen": getattr(cfx, "method_", method),
                "queries": len(queries),
                "s_per_query": seconds / len(queries),
                "fit_s": fit_s,
                "validity": expl.validity(),
                "coverage": expl.coverage(),
                "proximity": summary["proximity"],
                "sparsity": summary["sparsity"],
                "score": expl.score(),
            }
        )
        print(rows[-1], flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-queries", type=int, default=60)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for setup in (adult(), cancer((100,)), cancer((64, 32))):
        run(*setup, args.n_queries, rows)
    table = pd.DataFrame(rows)
    text = table.to_markdown(index=False, floatfmt=".4g")
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            f"Command: `python bench_gradient_vs_genetic.py {' '.join(sys.argv[1:])}`"
            "\n\n" + text + "\n"
        )
        args.out.with_suffix(".rst").write_text(
            table.to_markdown(index=False, floatfmt=".4g", tablefmt="rst") + "\n"
        )


if __name__ == "__main__":
    main()
