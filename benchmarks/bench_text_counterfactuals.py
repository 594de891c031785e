"""Word-level text counterfactuals: coverage, edits, speed and memory.

Three classifiers of raw strings on the bundled sentiment sentences (amazon,
imdb, yelp; 70/30 split): CountVectorizer + LogisticRegression, TF-IDF +
LogisticRegression, CountVectorizer + MultinomialNB. For the first
``--n-sentences`` held-out sentences, ``TextCounterfactualExplainer`` (the
trained model frozen, fitted once on the training sentences: vocabulary and
single-word predictions) with all edits and with each kind of edit alone
(CheckList's questions: does deleting a word, negating, or swapping a
sentiment word flip the model?). Reported:
share of sentences with a counterfactual, mean edits of the best one, time
per sentence of ``explain`` (one call for all sentences, untraced), the
one-off ``fit`` time, the peak traced memory of ``explain`` (a second,
traced run), and the fluency of the best counterfactuals: the mean log
perplexity ratio to their sentences and the median perplexities under the
explainer's trigram model of the training sentences; "all edits, perplexity
<= 2x" keeps only counterfactuals at most twice as perplexing as their
sentence (``max_perplexity_ratio=2``).

Polyjuice, the natural competitor, generates edits with a GPT-2 model that
must be downloaded; nothing can be downloaded here, so there is no
side-by-side run (see doc/benchmarks.rst).

    python bench_text_counterfactuals.py --out results/text_counterfactuals.md
"""

import argparse
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from skcfx import TextCounterfactualExplainer
from skcfx.datasets import load_sentiment


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sentences", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    texts, labels = load_sentiment(return_X_y=True)
    train, test, y_train, y_test = train_test_split(
        texts.to_numpy(dtype=object), labels.to_numpy(), test_size=0.3, random_state=0
    )
    queries = list(test[: args.n_sentences])
    models = {
        "count + logistic": make_pipeline(
            CountVectorizer(binary=True, min_df=2),
            LogisticRegression(C=2.0, max_iter=1000),
        ),
        "tf-idf + logistic": make_pipeline(
            TfidfVectorizer(min_df=2), LogisticRegression(C=10.0, max_iter=1000)
        ),
        "count + naive Bayes": make_pipeline(
            CountVectorizer(min_df=2), MultinomialNB()
        ),
    }
    settings = {
        "all edits": ("delete", "replace", "negate"),
        "all edits, perplexity <= 2x": ("delete", "replace", "negate"),
        "replace only": ("replace",),
        "negate only": ("negate",),
        "delete only": ("delete",),
    }
    rows = []
    for name, model in models.items():
        model.fit(train, y_train)
        accuracy = model.score(test, y_test)
        for setting, ops in settings.items():
            start = time.perf_counter()
            explainer = TextCounterfactualExplainer(
                FrozenEstimator(model),
                operations=ops,
                max_edits=3,
                max_perplexity_ratio=2.0 if "perplexity" in setting else None,
            ).fit(train)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            expl = explainer.explain(queries)
            elapsed = time.perf_counter() - start
            tracemalloc.start()  # a second run, traced (tracing slows it down)
            explainer.explain(queries)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            cf = expl.to_frame()
            best = cf[cf["rank"] == 0]
            needing = expl.needing()
            rows.append(
                dict(
                    model=name,
                    accuracy=accuracy,
                    edits=setting,
                    found=(expl.status == "found")[needing].mean(),
                    valid=cf["valid"].mean() if len(cf) else float("nan"),
                    mean_edits_best=best["n_edits"].mean(),
                    # fluency: log perplexity ratio of the best counterfactual
                    # to its sentence under the trigram model of the training
                    # sentences (0 = as fluent, -0.69 = twice the perplexity)
                    fluency_best=best["fluency"].mean(),
                    ppl_sentence=float(
                        np.median(explainer.language_model_.perplexity(queries))
                    ),
                    ppl_best=float(
                        np.median(
                            explainer.language_model_.perplexity(best["text"].tolist())
                        )
                    ),
                    ms_per_sentence=1000 * elapsed / len(queries),
                    fit_s=fit_s,
                    peak_mb=peak / 1e6,
                )
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    text = table.to_markdown(index=False, floatfmt=".3g")
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            "Command: `python bench_text_counterfactuals.py "
            + " ".join(__import__("sys").argv[1:])
            + "`\n\n"
            + text
            + "\n"
        )
        args.out.with_suffix(".rst").write_text(
            table.to_markdown(index=False, floatfmt=".3g", tablefmt="rst") + "\n"
        )


if __name__ == "__main__":
    main()
