"""Causal recourse against counterfactuals that ignore the causal model.

A loan world with a known structural causal model
(``skcfx.datasets.make_causal_loan``: gender and age cause education,
education causes income, income causes savings; income and savings decide
the loan), 4,000 training rows, 40 rejected applicants, actionable columns
education, income and savings. Models: a logistic Pipeline (the main
setting), plus a random forest and a histogram gradient boosting nobody
tuned for. For every explainer:

- ``CounterfactualExplainer`` without an SCM (as DiCE, alibi and most
  libraries do), and dice-ml's random search when installed;
- causal recourse with the true SCM (``scm=true``) and with a linear
  additive-noise SCM learned from the data by the helper
  (``StructuralCausalModel(CAUSAL_LOAN_GRAPH)``, fitted in ``fit``).

Reported per explainer: validity and coverage under the model; the
fraction of returned rows that the true world would not produce, i.e.
whose columns downstream of the changes differ from the true SCM's
consequence of the row's own changes by more than one noise standard
deviation ("unreachable"); the fraction of rows whose true consequence the
model still gives the loan ("valid in the true world": what would happen if
the person really made the changes); the cost of the changes the person
makes (proximity in MADs of the interventions and their number); seconds
per query.

    python bench_causal_recourse.py --out results/causal_recourse.md
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skcfx import CounterfactualExplainer
from skcfx import metrics as M
from skcfx.causal import StructuralCausalModel
from skcfx.datasets import CAUSAL_LOAN_GRAPH, make_causal_loan
from skcfx.exceptions import NoCounterfactualWarning

ACTIONABLE = ["education", "income", "savings"]
COLUMNS = ["gender", "age", "education", "income", "savings"]


def models():
    def pipe(est):
        return make_pipeline(
            make_column_transformer(
                (OneHotEncoder(), ["gender"]), remainder="passthrough"
            ),
            est,
        )

    return {
        "logistic": pipe(LogisticRegression(max_iter=2000)),
        "forest (untuned)": pipe(
            RandomForestClassifier(n_estimators=100, min_samples_leaf=5, random_state=0)
        ),
        "hist gradient boosting (untuned)": pipe(
            HistGradientBoostingClassifier(random_state=0)
        ),
    }


def true_world(truth, model, expl):
    """Per counterfactual row: its gap to the true SCM's consequence of its
    own changes (noise sd; ``causal_gap``) and whether the model gives that
    consequence the loan (what would really happen)."""
    gap = expl.causal_gap(truth)
    if expl.causal:
        act, _ = expl.change_kinds()
    else:
        act = expl.space.changed(expl.query_codes[expl.owner], expl.codes)
    factual = expl.queries.iloc[expl.owner].reset_index(drop=True)
    rows = expl.to_frame()[COLUMNS].reset_index(drop=True)
    world = truth.propagate(factual, rows, act)
    still = model.predict(world[COLUMNS]) == 1
    return gap[expl.valid], still[expl.valid]


def line(mname, name, expl, truth, model, seconds, n):
    gap, still = true_world(truth, model, expl)
    return (
        f"| {mname} | {name} | {M.validity(expl):.3f} | {M.coverage(expl):.3f} | "
        f"{np.mean(gap > 1):.3f} | {np.mean(still):.3f} | "
        f"{M.proximity(expl):.3f} | {M.sparsity(expl):.2f} | {seconds / n:.4f} |"
    )


def dice_rows(model, X, y, queries):
    try:
        import dice_ml
    except ImportError:
        return None
    train = X.copy()
    train["loan"] = y
    data = dice_ml.Data(
        dataframe=train,
        continuous_features=["age", "education", "income", "savings"],
        outcome_name="loan",
    )
    exp = dice_ml.Dice(
        data, dice_ml.Model(model=model, backend="sklearn"), method="random"
    )
    rows, start = [], time.perf_counter()
    for i, label in enumerate(queries.index):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = exp.generate_counterfactuals(
                    queries.loc[[label]],
                    total_CFs=4,
                    desired_class="opposite",
                    features_to_vary=ACTIONABLE,
                    verbose=False,
                    random_seed=0,
                )
            cfs = res.cf_examples_list[0].final_cfs_df[COLUMNS].copy()
            cfs["_owner"] = i
            rows.append(cfs)
        except Exception:  # dice raises when it finds nothing
            pass
    seconds = time.perf_counter() - start
    frame = pd.concat(rows, ignore_index=True)
    for c in ["age", "education", "income", "savings"]:
        frame[c] = frame[c].astype(float)
    frame["age"] = frame["age"].round().astype(int)
    return frame, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    X, y, truth = make_causal_loan(5000, random_state=0)
    X_tr, y_tr = X.iloc[:4000], y[:4000]
    X_te = X.iloc[4000:]
    lines = [
        "| model | explainer | validity | coverage | unreachable (> 1 noise sd) "
        "| valid in the true world | proximity of the changes | changes | "
        "s / query |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for mname, model in models().items():
        model.fit(X_tr, y_tr)
        queries = X_te[model.predict(X_te) == 0].iloc[: args.queries]
        configs = {
            "skcfx, no SCM": dict(),
            "skcfx, true SCM": dict(scm=truth),
            "skcfx, learned linear SCM": dict(
                scm=StructuralCausalModel(CAUSAL_LOAN_GRAPH)
            ),
        }
        for name, kw in configs.items():
            cfx = CounterfactualExplainer(
                FrozenEstimator(model),
                features_to_vary=ACTIONABLE,
                random_state=0,
                **kw,
            ).fit(X_tr)
            cfx.explain(queries.iloc[:2])  # warm-up
            begin = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoCounterfactualWarning)
                expl = cfx.explain(queries)
            seconds = time.perf_counter() - begin
            lines.append(line(mname, name, expl, truth, model, seconds, len(queries)))
            print(lines[-1], flush=True)
        dice = dice_rows(model, X_tr, y_tr, queries) if mname == "logistic" else None
        if dice is not None:
            frame, seconds = dice
            owner = frame.pop("_owner").to_numpy()
            cfx = CounterfactualExplainer(
                FrozenEstimator(model), features_to_vary=ACTIONABLE
            ).fit(X_tr)
            ev = cfx.evaluate(queries, frame.assign(query=queries.index[owner]))
            name = "dice-ml random (no SCM)"
            lines.append(line(mname, name, ev, truth, model, seconds, len(queries)))
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(
            "Causal recourse on the loan SCM (`python bench_causal_recourse.py "
            f"--out {args.out}`)\n\n" + text
        )


if __name__ == "__main__":
    main()
