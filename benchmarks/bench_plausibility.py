"""Closeness to the data manifold: the plausibility term, on and off.

For each setting, ``CounterfactualExplainer`` (genetic search, 4
counterfactuals) with ``plausibility_weight`` in 0, 0.5, 1, 2, 4 explains
the same queries; reported side by side: validity, proximity (MAD),
sparsity (features changed), and the plausibility metrics of
``skcfx.metrics``: the distance to the nearest and the mean distance to
the 5 nearest training rows that the model gives the desired class
(``plausibility``, ``knn_distance``), the local outlier factor among those
rows (``local_outlier_factor``, ~1 inside the data) and CARLA's yNN
(``ynn``, higher is better); seconds per query. dice-ml's random search
(the baseline without a plausibility term, DiCE's own default) is scored by
the same metrics when installed (Adult only).

Settings: Adult (DiCE's eight columns, 60 rejected applicants) with the
README's random forest and a logistic Pipeline; breast cancer (30
continuous columns, 40 queries) with a histogram gradient boosting, and
wine (13 columns, three classes, "any other class", 30 queries) with an
MLP behind a StandardScaler, which nobody tuned for. Then GridSearchCV
tunes ``plausibility_weight`` on Adult (logistic) with the fixed ruler
that also charges the distance to the data
(``make_counterfactual_scorer("score", plausibility_weight=1)``) and with
the plain ruler.

    python bench_plausibility.py --out results/plausibility.md
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skcfx import CounterfactualExplainer
from skcfx import metrics as M
from skcfx.datasets import DICE_COLUMNS, load_adult
from skcfx.exceptions import NoCounterfactualWarning
from skcfx.metrics import make_counterfactual_scorer

WEIGHTS = [0.0, 0.5, 1.0, 2.0, 4.0]
NUMERIC = ["age", "hours_per_week"]
CATEGORICAL = [c for c in DICE_COLUMNS if c not in NUMERIC]


def adult(kind):
    X, y = load_adult(subset="dice", return_X_y=True)
    X_tr, X_te, y_tr, _ = train_test_split(X, y, test_size=0.2, random_state=0)
    head = (
        RandomForestClassifier(random_state=0)
        if kind == "forest"
        else LogisticRegression(max_iter=2000)
    )
    scale = [] if kind == "forest" else [(StandardScaler(), NUMERIC)]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            *scale,
            remainder="passthrough",
        ),
        head,
    ).fit(X_tr, y_tr)
    queries = X_te[model.predict(X_te) == 0].sample(60, random_state=0)
    return X_tr, y_tr, model, queries


def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, _ = train_test_split(X, y, test_size=0.3, random_state=0)
    model = HistGradientBoostingClassifier(random_state=0).fit(X_tr, y_tr)
    queries = X_te[model.predict(X_te) == 1].iloc[:40]
    return X_tr, y_tr, model, queries


def wine():
    X, y = load_wine(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, _ = train_test_split(X, y, test_size=0.3, random_state=0)
    model = make_pipeline(
        StandardScaler(), MLPClassifier((64, 32), max_iter=2000, random_state=0)
    ).fit(X_tr, y_tr)
    return X_tr, y_tr, model, X_te.iloc[:30]


def row(setting, name, expl, seconds, n):
    return (
        f"| {setting} | {name} | {M.validity(expl):.3f} | {M.proximity(expl):.3f} "
        f"| {M.sparsity(expl):.2f} | {M.plausibility(expl):.4f} | "
        f"{M.knn_distance(expl):.4f} | {M.local_outlier_factor(expl):.3f} | "
        f"{M.ynn(expl):.3f} | {seconds / n:.4f} |"
    )


def dice(model, X_tr, y_tr, queries):
    try:
        import dice_ml
    except ImportError:
        return None
    train = X_tr.copy()
    train["income"] = np.asarray(y_tr)
    data = dice_ml.Data(
        dataframe=train, continuous_features=NUMERIC, outcome_name="income"
    )
    exp = dice_ml.Dice(
        data, dice_ml.Model(model=model, backend="sklearn"), method="random"
    )
    rows, start = [], time.perf_counter()
    for label in queries.index:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = exp.generate_counterfactuals(
                    queries.loc[[label]],
                    total_CFs=4,
                    desired_class="opposite",
                    verbose=False,
                    random_seed=0,
                )
            cfs = res.cf_examples_list[0].final_cfs_df[DICE_COLUMNS].copy()
            cfs.insert(0, "query", label)
            rows.append(cfs)
        except Exception:  # dice raises when it finds nothing
            pass
    seconds = time.perf_counter() - start
    frame = pd.concat(rows, ignore_index=True)
    for c in NUMERIC:
        frame[c] = frame[c].astype(float).round().astype(int)
    return frame, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    lines = [
        "| setting | explainer | validity | proximity | sparsity | nearest "
        "desired row | 5 nearest | LOF | yNN | s / query |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    settings = {
        "Adult, forest": lambda: adult("forest"),
        "Adult, logistic": lambda: adult("logistic"),
        "breast cancer, HGB (untuned)": cancer,
        "wine, MLP (64, 32) (untuned)": wine,
    }
    for setting, make in settings.items():
        X_tr, y_tr, model, queries = make()
        for w in WEIGHTS:
            cfx = CounterfactualExplainer(
                FrozenEstimator(model), plausibility_weight=w, random_state=0
            ).fit(X_tr)
            cfx.explain(queries.iloc[:2])  # warm-up
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoCounterfactualWarning)
                expl = cfx.explain(queries)
            seconds = time.perf_counter() - start
            lines.append(row(setting, f"skcfx w={w:g}", expl, seconds, len(queries)))
            print(lines[-1], flush=True)
        if setting.startswith("Adult"):
            out = dice(model, X_tr, y_tr, queries)
            if out is not None:
                frame, seconds = out
                cfx = CounterfactualExplainer(FrozenEstimator(model)).fit(X_tr)
                ev = cfx.evaluate(queries, frame)
                lines.append(row(setting, "dice-ml random", ev, seconds, len(queries)))
                print(lines[-1], flush=True)
    # model selection of the weight
    X_tr, y_tr, model, _ = adult("logistic")
    sample = X_tr.sample(400, random_state=1)
    grid = {"plausibility_weight": WEIGHTS}
    lines += [
        "",
        "| GridSearchCV ruler (cv=2, 400 Adult rows) | chosen "
        "plausibility_weight | mean test score per weight |",
        "|---|---|---|",
    ]
    for name, scoring in {
        "score (validity - proximity - sparsity)": None,
        "score, plausibility_weight=1": make_counterfactual_scorer(
            "score", plausibility_weight=1.0
        ),
    }.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoCounterfactualWarning)
            search = GridSearchCV(
                CounterfactualExplainer(FrozenEstimator(model), random_state=0),
                grid,
                scoring=scoring,
                cv=2,
            ).fit(sample)
        scores = ", ".join(
            f"{w:g}: {s:.3f}"
            for w, s in zip(WEIGHTS, search.cv_results_["mean_test_score"])
        )
        lines.append(
            f"| {name} | {search.best_params_['plausibility_weight']:g} | {scores} |"
        )
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(
            "Plausibility term (`python bench_plausibility.py "
            f"--out {args.out}`)\n\n" + text
        )


if __name__ == "__main__":
    main()
