"""Queries that can never flip: what a hopeless batch costs.

A model that never predicts the desired class (a constant model behind the
README's ColumnTransformer on Adult), and one that depends only on columns
the explainer may not change (breast cancer, a logistic regression on 5
frozen columns with 5 others free to vary). For 1,000 queries, each
method's ``explain`` is timed in full and with ``max_rounds=1`` (one search
round: the first batch plus one generation / round / widening stage), both
after a discarded warm-up run. Every query must end as "unreachable within
budget" (the constant model: the search sees that nothing moves) or
"infeasible under constraints" (the logistic regression: its own scores'
bounds prove it before any search); the issue's target is a full run
within 3x of one round.

    python bench_hopeless_queries.py --out results/hopeless_queries.md
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.dummy import DummyClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skcfx import CounterfactualExplainer
from skcfx.datasets import load_adult
from skcfx.exceptions import NoCounterfactualWarning


def settings(n):
    X, y = load_adult(subset="dice", return_X_y=True)
    cat = [c for c in X.columns if c not in ("age", "hours_per_week")]
    constant = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), cat), remainder="passthrough"
        ),
        DummyClassifier(strategy="prior"),
    ).fit(X, y)
    yield "Adult, constant model", constant, X, X.head(n), {}

    data = load_breast_cancer(as_frame=True)
    Xb = data.data.iloc[:, :10]
    frozen = list(Xb.columns[:5])
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        Xb[frozen].assign(**{c: 0.0 for c in Xb.columns[5:]})[Xb.columns],
        data.target,
    )
    # the model was fitted with the free columns constant: it ignores them
    queries = pd.concat([Xb] * (n // len(Xb) + 1)).head(n).reset_index(drop=True)
    kw = {"features_to_vary": list(Xb.columns[5:])}
    yield "breast cancer, frozen features only", model, Xb, queries, kw


def timed(explainer, queries):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        explainer.explain(queries.head(50))  # warm-up
        start = time.perf_counter()
        expl = explainer.explain(queries)
    return time.perf_counter() - start, expl


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-queries", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for name, model, X, queries, kw in settings(args.n_queries):
        for method in ("genetic", "random", "kdtree"):
            cfx = CounterfactualExplainer(
                FrozenEstimator(model), method=method, random_state=0, **kw
            ).fit(X)
            full, expl = timed(cfx, queries)
            one, _ = timed(cfx.set_params(max_rounds=1), queries)
            statuses = pd.Series(expl.status).value_counts().to_dict()
            rows.append(
                {
                    "setting": name,
                    "method": method,
                    "queries": len(queries),
                    "full s": round(full, 2),
                    "one round s": round(one, 2),
                    "ratio": round(full / one, 2),
                    "statuses": ", ".join(f"{k}: {v}" for k, v in statuses.items()),
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if args.out is not None:
        args.out.write_text(table.to_markdown(index=False) + "\n")
        rst = args.out.with_suffix(".rst")
        rst.write_text(_rst(table))


def _rst(table):
    cols = list(table.columns)
    cells = [[str(v) for v in row] for row in table.to_numpy()]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(c.ljust(w) for c, w in zip(cols, widths)), rule]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines + [rule]) + "\n"


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
