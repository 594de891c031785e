"""Seeds of the genetic search: what a surrogate program's optimum buys.

The default genetic search starts from the nearest desired-outcome
training rows and, where there is one, each query's optimum of a program
the exact search solves (``skcfx/counterfactual/_engine/exact/
seeding.py``). This script explains the same queries with the seeds the
library uses now and with the ones it used before, side by side, on
models nobody tuned the seeding for:

- networks, a kernel machine and neighbours (wine ``MLPClassifier((64,
  32))``; Adult ``(20,)`` behind MinMaxScaler and ``(64, 32)`` behind
  StandardScaler; breast cancer ``SVC``; diabetes ``MLPRegressor`` and
  ``KNeighborsRegressor``): now no program seeds, before a logistic (ridge)
  surrogate's MILP per query (``_LINEAR_SURROGATE``);
- a histogram gradient boosting on the 30 breast cancer columns (wider
  than its own branch and bound takes): now the depth-6 tree surrogate,
  whose leaves seed every query at once; before the logistic surrogate (a
  HistGradientBoosting was not recognised as a tree ensemble there);
- linear models, seeded by their own program (breast cancer logistic, 30
  columns of 3-5 decimals; wine multinomial logistic; Adult logistic
  behind OneHotEncoder; diabetes Ridge): now the program with the gridded
  columns relaxed to intervals, its optimum rounded onto the grid away from
  the query; before the program on the grid (general integers, whose root
  node took HiGHS ~60 ms on breast cancer).

Reported per setting: seconds of ``explain`` (seeds included; ``fit``
excluded), the fixed-ruler ``score`` (higher is better), validity and the
mean proximity, sparsity and diversity of the valid counterfactuals.

    python bench_seeds.py --only surrogates --out results/seeds.md
    python bench_seeds.py --only linear --out results/seeds_linear.md
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.svm import SVC

import skcfx.counterfactual._engine.exact.seeding as seeding
import skcfx.counterfactual._engine.methods.exact as exact_method
from skcfx import CounterfactualExplainer
from skcfx.datasets import load_adult


def settings():
    """(name, model, training frame, queries, explainer keywords)."""
    X, y = load_wine(return_X_y=True, as_frame=True)
    m = make_pipeline(
        StandardScaler(), MLPClassifier((64, 32), max_iter=2000, random_state=0)
    ).fit(X, y)
    yield (
        "wine, MLP (64, 32)",
        m,
        X,
        X[m.predict(X) != 2].head(100),
        {"desired_class": 2},
    )
    X, y = load_adult(subset="dice", return_X_y=True)
    cat = ["workclass", "education", "marital_status", "occupation", "race", "gender"]
    adult = dict(
        features_to_vary=["age", "education", "occupation", "hours_per_week"],
        permitted_range={"age": (20, 60)},
        n_counterfactuals=4,
    )
    for hidden, scaler in (((20,), MinMaxScaler), ((64, 32), StandardScaler)):
        m = make_pipeline(
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore"), cat),
                (scaler(), ["age", "hours_per_week"]),
            ),
            MLPClassifier(hidden, max_iter=300, random_state=0),
        ).fit(X.head(20000), y.head(20000))
        test = X.tail(5000)
        q = test[m.predict(test) == 0].head(100)
        yield f"Adult, MLP {hidden}", m, X.head(20000), q, adult
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    m = make_pipeline(StandardScaler(), SVC(probability=True, random_state=0))
    m.fit(X, y)
    yield "breast cancer, SVC", m, X, X[m.predict(X) == 0].head(100), {}
    m = HistGradientBoostingClassifier(random_state=0).fit(X, y)
    yield "breast cancer, hist boosting", m, X, X[m.predict(X) == 0].head(150), {}
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    for name, reg in (
        (
            "MLPRegressor (64, 32)",
            MLPRegressor(hidden_layer_sizes=(64, 32), max_iter=3000, random_state=0),
        ),
        ("KNeighborsRegressor", KNeighborsRegressor(10)),
    ):
        m = make_pipeline(StandardScaler(), reg).fit(X, y)
        q = X[m.predict(X) < 140].head(100)
        yield f"diabetes, {name}", m, X, q, {"desired_range": (180, 400)}


def linear_settings():
    """Linear models, which seed the search with their own program."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    m.fit(X, y)
    yield "breast cancer, logistic", m, X, X[m.predict(X) == 0].head(100), {}
    X, y = load_wine(return_X_y=True, as_frame=True)
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    m.fit(X, y)
    q = X[m.predict(X) != 2].head(100)
    yield "wine, logistic", m, X, q, {"desired_class": 2}
    X, y = load_adult(subset="dice", return_X_y=True)
    cat = ["workclass", "education", "marital_status", "occupation", "race", "gender"]
    m = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), cat),
            (StandardScaler(), ["age", "hours_per_week"]),
        ),
        LogisticRegression(max_iter=2000),
    ).fit(X, y)
    q = X[m.predict(X) == 0].head(100)
    yield "Adult, logistic", m, X, q, {"n_counterfactuals": 4}
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    m = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    q = X[m.predict(X) < 140].head(100)
    yield "diabetes, Ridge", m, X, q, {"desired_range": (180, 400)}


def run(model, X, queries, kw, before, linear=False):
    """Explain with the library's seeds, or (``before``) with the logistic
    surrogate for every model the exact search does not take, or (``before``
    and ``linear``) a linear model's own program solved on the grid."""
    is_trees = seeding._is_trees
    seeding._LINEAR_SURROGATE = before and not linear
    exact_method._RELAX_SEEDS = not (before and linear)
    if (
        before and not linear
    ):  # a HistGradientBoosting taken for a model of another kind
        seeding._is_trees = lambda head: (
            hasattr(head, "estimators_") or hasattr(head, "tree_")
        )
    try:
        cfx = CounterfactualExplainer(
            FrozenEstimator(model), random_state=0, method="genetic", **kw
        ).fit(X)
        models = cfx._context.seeder.models
        # the seed program's model: the explained model's last step or a
        # surrogate's
        seeds = type(models[0].input_map.head).__name__ if models else "none"
        if linear:
            seeds += ", grid" if before else ", relaxed grid"
        start = time.perf_counter()
        expl = cfx.explain(queries)
        seconds = time.perf_counter() - start
    finally:
        seeding._LINEAR_SURROGATE = False
        exact_method._RELAX_SEEDS = True
        seeding._is_trees = is_trees
    m = expl.metrics[["proximity", "sparsity", "diversity"]].mean()
    return dict(
        seeds=seeds,
        seconds=round(seconds, 2),
        score=round(expl.score(), 4),
        validity=round(expl.validity(), 4),
        proximity=round(m["proximity"], 4),
        sparsity=round(m["sparsity"], 3),
        diversity=round(m["diversity"], 4),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--only",
        choices=["surrogates", "linear"],
        default=None,
        help="run one group of settings",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    groups = []
    if args.only != "linear":
        groups += [(s, False) for s in settings()]
    if args.only != "surrogates":
        groups += [(s, True) for s in linear_settings()]
    rows = []
    for (name, model, X, queries, kw), linear in groups:
        for before in (True, False):
            r = run(model, X, queries, kw, before, linear)
            rows.append(
                dict(
                    setting=name,
                    queries=len(queries),
                    run="before" if before else "now",
                    **r,
                )
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    text = f"Command: `python bench_seeds.py {' '.join(sys.argv[1:])}`\n\n"
    text += table.to_markdown(index=False) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
        args.out.with_suffix(".rst").write_text(
            table.to_markdown(index=False, tablefmt="rst") + "\n"
        )


if __name__ == "__main__":
    main()
