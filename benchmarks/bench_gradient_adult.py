"""Gradient counterfactuals on Adult: skcfx against dice-ml's gradient method.

One scikit-learn Pipeline (MinMaxScaler on age and hours_per_week, one-hot
encoding of DiCE's six categorical columns, an MLPClassifier with 20 hidden
units) is explained by both libraries on the same rejected applicants, 4
counterfactuals each. dice-ml's PyTorch backend receives the very same
network: its one-hot / min-max encoding is mapped onto the Pipeline's
columns by a fixed permutation, then the MLP's weights run in torch, so both
libraries explain the same function. Quality is computed by the same code on
both outputs (``CounterfactualExplainer.evaluate``). dice-ml takes seconds
per query, so it explains the first ``--n-dice`` queries; skcfx explains all
of them in one call (median of 3 after a warm-up), with the gradient method
and, for reference, its own genetic method on the same Pipeline.

``--constraints`` picks the constraints given to both libraries: ``none``,
``vary+range`` (features_to_vary = age, education, occupation,
hours_per_week and age in [20, 60]) or ``range`` (age in [20, 60] only).

dice-ml lives in the benchmark's own environment (see README.md)::

    python bench_gradient_adult.py --out results/gradient_adult.md
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.compose import make_column_transformer
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

from skcfx import CounterfactualExplainer
from skcfx.datasets import load_adult
from skcfx.metrics import (
    constraint_violations,
    coverage,
    diversity,
    proximity,
    sparsity,
    validity,
)
from skcfx.utils._torch_forward import torch_forward

NUMERIC = ["age", "hours_per_week"]
CATEGORICAL = [
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "race",
    "gender",
]


class DiceView(torch.nn.Module):
    """dice-ml's encoded rows -> the Pipeline's columns -> P(class 1)."""

    def __init__(self, permutation, network):
        super().__init__()
        self.register_buffer("P", torch.as_tensor(permutation, dtype=torch.float32))
        self.network = network

    def forward(self, x):
        single = x.dim() == 1  # dice-ml's gradient loop passes single rows
        logits = self.network(x.reshape(-1, self.P.shape[0]) @ self.P)
        out = torch.sigmoid(logits[:, 1:2] - logits[:, 0:1])
        return out[0] if single else out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-queries", type=int, default=150)
    parser.add_argument(
        "--query-offset",
        type=int,
        default=0,
        help="skip this many rejected test rows (a second, held-out query set)",
    )
    parser.add_argument("--n-dice", type=int, default=5)
    parser.add_argument(
        "--constraints",
        choices=["none", "vary+range", "range"],
        default="none",
        help="constraints given to both libraries (see the module docstring)",
    )
    parser.add_argument(
        "--dice-full-ranges",
        action="store_true",
        help="also give dice-ml hours_per_week's training range (a no-op "
        "constraint; without it dice-ml 0.12 raises KeyError('hours_per_week') "
        "whenever permitted_range names only age)",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import dice_ml

    X, y = load_adult(subset="dice", return_X_y=True)
    X = X.assign(education=X["education"].astype(str).astype(object))
    X_tr, X_te, y_tr, _ = train_test_split(X, y, train_size=0.8, random_state=0)
    pipe = make_pipeline(
        make_column_transformer(
            (MinMaxScaler(), NUMERIC),
            (OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL),
        ),
        MLPClassifier((20,), max_iter=300, random_state=0),
    ).fit(X_tr, y_tr)
    first = args.query_offset
    queries = X_te[pipe.predict(X_te) == 0].iloc[first : first + args.n_queries]

    # dice-ml on the same network
    frame = X_tr.assign(income=y_tr.to_numpy())
    data = dice_ml.Data(
        dataframe=frame, continuous_features=NUMERIC, outcome_name="income"
    )
    dice_cols = list(data.get_ohe_min_max_normalized_data(queries.iloc[:1]).columns)
    ct_cols = [c.split("__", 1)[1] for c in pipe[0].get_feature_names_out()]
    P = np.zeros((len(dice_cols), len(ct_cols)))
    for i, c in enumerate(dice_cols):
        P[i, ct_cols.index(c)] = 1.0
    model = dice_ml.Model(
        model=DiceView(P, torch_forward(pipe[-1])).eval(),
        backend="PYT",
        func="ohe-min-max",
    )
    dice = dice_ml.Dice(data, model, method="gradient")
    constraints = {}
    dice_constraints = {}
    if args.constraints != "none":
        constraints = dict(permitted_range={"age": (20, 60)})
        dice_constraints = dict(permitted_range={"age": [20, 60]})
        if args.dice_full_ranges:
            hours = X_tr["hours_per_week"]
            dice_constraints["permitted_range"]["hours_per_week"] = [
                int(hours.min()),
                int(hours.max()),
            ]
    if args.constraints == "vary+range":
        vary = ["age", "education", "occupation", "hours_per_week"]
        constraints["features_to_vary"] = vary
        dice_constraints["features_to_vary"] = vary
    dice_rows, dice_times, dice_failures = [], [], 0
    for label, row in queries.iloc[: args.n_dice].iterrows():
        start = time.perf_counter()
        try:
            res = dice.generate_counterfactuals(
                row.to_frame().T.infer_objects(),
                total_CFs=4,
                desired_class="opposite",
                **dice_constraints,
            )
            cf = res.cf_examples_list[0].final_cfs_df
        except Exception as exc:  # noqa: BLE001 - report dice-ml's failures
            print(f"dice-ml failed on query {label}: {exc!r}")
            dice_failures += 1
            cf = None
        dice_times.append(time.perf_counter() - start)
        if cf is not None and len(cf):
            cf = cf.drop(columns="income", errors="ignore").assign(query=label)
            dice_rows.append(cf)
    dice_frame = (
        pd.concat(dice_rows)
        if dice_rows
        else pd.DataFrame(columns=[*X.columns, "query"])
    )
    for col in NUMERIC:
        dice_frame[col] = pd.to_numeric(dice_frame[col])

    def timed(method):
        cfx = CounterfactualExplainer(
            FrozenEstimator(pipe), method=method, random_state=0, **constraints
        ).fit(X_tr)
        cfx.explain(queries.iloc[:2])
        times = []
        for _ in range(3):
            start = time.perf_counter()
            expl = cfx.explain(queries)
            times.append(time.perf_counter() - start)
        return cfx, expl, float(np.median(times)) / len(queries)

    cfx, ours, s_grad = timed("gradient")
    _, genetic, s_gen = timed("genetic")
    ours_small = cfx.explain(queries.iloc[: args.n_dice])
    theirs = cfx.evaluate(queries.iloc[: args.n_dice], dice_frame)
    rows = []
    nq = len(queries)
    s_dice = float(np.median(dice_times))
    for name, expl, s_per_q in [
        (f"skcfx gradient ({nq} queries)", ours, s_grad),
        (f"skcfx genetic ({nq} queries)", genetic, s_gen),
        (f"skcfx gradient (first {args.n_dice})", ours_small, s_grad),
        (f"dice-ml gradient (first {args.n_dice})", theirs, s_dice),
    ]:
        rows.append(
            dict(
                library=name,
                s_per_query=s_per_q,
                validity=validity(expl),
                coverage=coverage(expl),
                violations=constraint_violations(expl),
                proximity=proximity(expl),
                sparsity=sparsity(expl),
                diversity=diversity(expl),
            )
        )
    table = pd.DataFrame(rows)
    if dice_failures == args.n_dice:
        speedup_text = f"n/a: dice-ml raised an error on all {args.n_dice} queries"
    else:
        speedup = rows[3]["s_per_query"] / rows[0]["s_per_query"]
        speedup_text = f"{speedup:.0f}x ({dice_failures} dice-ml errors)"
    cells = pd.Series(theirs.cell_violations.sum(axis=0), index=theirs.feature_names)
    cells = cells[cells > 0]
    by_column = ", ".join(f"{c}: {int(v)}" for c, v in cells.items()) or "none"
    text = (
        f"constraints: {args.constraints}"
        + (" (dice-ml also given hours' full range)" if args.dice_full_ranges else "")
        + "\n\n"
        + table.to_markdown(index=False, floatfmt=".4g")
        + f"\n\nspeed-up per query: {speedup_text}"
        + f"\n\ndice-ml's violated cells by column: {by_column}"
    )
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            "Command: `python bench_gradient_adult.py "
            + " ".join(__import__("sys").argv[1:])
            + "`\n\n"
            + text
            + "\n"
        )
        args.out.with_suffix(".rst").write_text(
            f"Constraints: {args.constraints}; speed-up per query: {speedup_text}; "
            f"dice-ml's violated cells by column: {by_column}\n\n"
            + table.to_markdown(index=False, floatfmt=".4g", tablefmt="rst")
            + "\n"
        )


if __name__ == "__main__":
    main()
