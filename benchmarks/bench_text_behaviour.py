"""Text classifiers evaluated and improved by counterfactual edits.

On the bundled sentiment sentences (amazon, imdb, yelp; 70/30 splits), for
three classifiers of raw strings (CountVectorizer + LogisticRegression,
TF-IDF + LogisticRegression, CountVectorizer + MultinomialNB) and one
untuned for this benchmark (TF-IDF of words and word pairs + logistic
regression):

1. Behavioural tests (``skcfx.testing.make_behavioural_tests``, a
   ``TextPerturber`` fitted on the training split, cases from the held-out
   split, at most 200 per test type and code): failure rate per test type
   and code for each classifier, side by side, and example failures.
2. SEAR-style rules (``skcfx.text.sear_rules``): the meaning-preserving
   rules that flip each classifier most often.
3. Counterfactual data augmentation (``CounterfactualAugmenter``, default
   settings: one "flip" edit of code negation, lexical or quantifier per
   training sentence that has one, with the flipped label), over 5 seeds
   (split, perturber sampling): held-out accuracy and accuracy on a
   held-out contrast set (``TextPerturber.contrast_set`` of the held-out
   split: one flip edit per sentence and code, labels from the edit's
   intent), without and with augmentation.
4. The hand check of the contrast set: ``data/contrast_handcheck.csv``
   holds 60 examples of the seed-0 contrast set read by a person, each
   marked whether the intended label is right; reported by code.

    python bench_text_behaviour.py --out results/text_behaviour.md
"""

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from skcfx.datasets import load_sentiment
from skcfx.testing import make_behavioural_tests
from skcfx.text import CounterfactualAugmenter, TextPerturber, sear_rules

HERE = Path(__file__).parent
CONTRAST_CODES = ("negation", "lexical", "quantifier")


def classifiers():
    return {
        "count + logistic": lambda: make_pipeline(
            CountVectorizer(binary=True, min_df=2),
            LogisticRegression(C=2.0, max_iter=2000),
        ),
        "tf-idf + logistic": lambda: make_pipeline(
            TfidfVectorizer(min_df=2), LogisticRegression(C=10.0, max_iter=2000)
        ),
        "count + naive Bayes": lambda: make_pipeline(
            CountVectorizer(min_df=2), MultinomialNB()
        ),
        "tf-idf 1-2 grams + logistic (untuned)": lambda: make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LogisticRegression(C=10.0, max_iter=2000),
        ),
    }


def split(seed):
    X, y = load_sentiment(return_X_y=True)
    return train_test_split(
        X.to_numpy(dtype=object), y.to_numpy(), test_size=0.3, random_state=seed
    )


def behaviour(out):
    Xtr, Xte, ytr, yte = split(0)
    start = time.perf_counter()
    perturber = TextPerturber(random_state=0).fit(Xtr, ytr)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    suite = make_behavioural_tests(Xte, yte, perturber=perturber, max_cases=200)
    build_s = time.perf_counter() - start
    columns, examples, rules = {}, [], []
    for name, make in list(classifiers().items())[:3]:
        model = make().fit(Xtr, ytr)
        start = time.perf_counter()
        report = suite.run(model)
        run_s = time.perf_counter() - start
        s = report.summary()
        columns[name] = [
            f"{r.failure_rate:.1%} ({r.failures}/{r.cases})" for r in s.itertuples()
        ]
        index = s.index
        for test in ("MFT", "INV", "DIR"):
            f = report.failures(test, n=1).head(2)
            for _, case in f.iterrows():
                examples.append(
                    {
                        "model": name,
                        "test": test,
                        "code": case["code"],
                        "case": (
                            f"{case['original']} => {case['text']}"
                            if case["original"]
                            else case["text"]
                        ),
                        "prediction": case["prediction"],
                        "expected": case["expected"]
                        if test != "INV"
                        else f"same as {case['original_prediction']}",
                    }
                )
        r = sear_rules(model, Xte, perturber)
        for row in r.head(5).itertuples():
            rules.append(
                {
                    "model": name,
                    "rule": row.rule,
                    "code": row.code,
                    "applied": row.applied,
                    "coverage": row.coverage,
                    "flips": row.flips,
                    "flip_rate": row.flip_rate,
                }
            )
        print(f"{name}: run {run_s:.2f} s", flush=True)
    table = pd.DataFrame(columns, index=index).reset_index()
    out.append("## Behavioural tests (held-out split, seed 0)\n")
    out.append(
        f"TextPerturber fit {fit_s:.2f} s; suite of {len(suite)} cases built in "
        f"{build_s:.2f} s.\n"
    )
    out.append(table.to_markdown(index=False))
    out.append("\nExample failures:\n")
    out.append(pd.DataFrame(examples).to_markdown(index=False))
    out.append("\n## SEAR-style rules: meaning-preserving edits that flip the model\n")
    out.append(pd.DataFrame(rules).to_markdown(index=False, floatfmt=".3g"))
    return table


def augmentation(out, seeds):
    rows, per_code = [], []
    for seed in range(seeds):
        Xtr, Xte, ytr, yte = split(seed)
        start = time.perf_counter()
        aug = CounterfactualAugmenter(random_state=seed)
        Xa, ya = aug.fit_resample(Xtr, ytr)
        aug_s = time.perf_counter() - start
        # the contrast set comes from a perturber of the same training split
        cs = aug.perturber_.contrast_set(
            Xte, yte, codes=CONTRAST_CODES, random_state=seed
        )
        for name, make in classifiers().items():
            base = make().fit(Xtr, ytr)
            augm = make().fit(Xa, ya)
            row = {
                "model": name,
                "seed": seed,
                "added": aug.n_added_,
                "contrast_size": len(cs),
                "heldout_base": base.score(Xte, yte),
                "heldout_aug": augm.score(Xte, yte),
                "contrast_base": base.score(cs["text"], cs["label"]),
                "contrast_aug": augm.score(cs["text"], cs["label"]),
                "augment_s": aug_s,
            }
            rows.append(row)
            for code, g in cs.groupby("code"):
                per_code.append(
                    {
                        "model": name,
                        "code": code,
                        "seed": seed,
                        "base": base.score(g["text"], g["label"]),
                        "aug": augm.score(g["text"], g["label"]),
                    }
                )
            print(row, flush=True)
    t = pd.DataFrame(rows)
    t["heldout_change"] = t["heldout_aug"] - t["heldout_base"]
    t["contrast_change"] = t["contrast_aug"] - t["contrast_base"]
    agg = t.groupby("model", sort=False).agg(
        added=("added", "mean"),
        contrast_size=("contrast_size", "mean"),
        heldout_base=("heldout_base", "mean"),
        heldout_aug=("heldout_aug", "mean"),
        heldout_change=("heldout_change", "mean"),
        heldout_change_min=("heldout_change", "min"),
        contrast_base=("contrast_base", "mean"),
        contrast_aug=("contrast_aug", "mean"),
        contrast_change=("contrast_change", "mean"),
        contrast_change_min=("contrast_change", "min"),
    )
    agg["within_1_point_and_plus_5"] = (agg["heldout_change"] >= -0.01) & (
        agg["contrast_change"] >= 0.05
    )
    out.append(f"\n## Counterfactual augmentation ({seeds} seeds, means)\n")
    out.append(agg.reset_index().to_markdown(index=False, floatfmt=".3f"))
    pc = pd.DataFrame(per_code).groupby(["model", "code"], sort=False).mean()
    pc = pc.drop(columns="seed")
    pc["change"] = pc["aug"] - pc["base"]
    out.append("\nContrast-set accuracy by code (mean over seeds):\n")
    out.append(pc.reset_index().to_markdown(index=False, floatfmt=".3f"))
    out.append("\nEvery run:\n")
    out.append(t.to_markdown(index=False, floatfmt=".3f"))
    return agg


def hand_check(out):
    checked = pd.read_csv(HERE / "data" / "contrast_handcheck.csv")
    Xtr, Xte, ytr, yte = split(0)
    perturber = TextPerturber(random_state=0).fit(Xtr, ytr)
    cs = perturber.contrast_set(Xte, yte, codes=CONTRAST_CODES, random_state=0)
    present = checked.merge(cs[["original", "text"]], on=["original", "text"])
    by_code = checked.groupby("code")["label_correct"].agg(["mean", "size"])
    by_code.loc["all"] = [checked["label_correct"].mean(), len(checked)]
    out.append("\n## Hand check of the contrast set (seed 0)\n")
    out.append(
        f"{len(checked)} examples read by a person; {len(present)} of them are "
        "still produced by the current operators.\n"
    )
    out.append(
        by_code.rename(columns={"mean": "label_right", "size": "n"}).to_markdown(
            floatfmt=".2f"
        )
    )
    wrong = checked[~checked["label_correct"]]
    out.append("\nWhere the intended label is wrong:\n")
    out.append(wrong[["code", "original", "text", "note"]].to_markdown(index=False))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = [f"Command: `python bench_text_behaviour.py {' '.join(sys.argv[1:])}`\n"]
    table = behaviour(out)
    agg = augmentation(out, args.seeds)
    hand_check(out)
    text = "\n".join(out) + "\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        args.out.with_suffix(".rst").write_text(
            table.to_markdown(index=False, tablefmt="rst")
            + "\n\n"
            + agg.reset_index().to_markdown(index=False, floatfmt=".3f", tablefmt="rst")
            + "\n"
        )


if __name__ == "__main__":
    main()
