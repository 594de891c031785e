"""SEAR-style rules: edits that flip a model, aggregated by rule."""

import numpy as np
import pandas as pd

from skcfx.text._tokens import check_texts

__all__ = ["sear_rules"]


def sear_rules(
    model, X, perturber, *, codes=None, intent="keep", min_applied=1, n_examples=1
):
    """Rules of edits that change a model's prediction, with their reach.

    After Ribeiro et al.'s semantically equivalent adversarial rules
    (SEAR): every edit of ``perturber`` (by default those meant to keep
    the meaning, ``intent="keep"``) is applied to every sentence where it
    applies; edits are grouped by their context-free rule (``"is not ->
    isn't"``, ``"+ very"``); a rule's *flip rate* is the share of its
    applications that change the model's prediction and its *coverage*
    the share of sentences it applies to. A meaning-preserving rule with a
    high flip rate is a bug of the model. Two model calls in all.

    Parameters
    ----------
    model : estimator
        Fitted classifier of raw strings (``predict``).
    X : sequence of str
        Sentences to apply the rules to.
    perturber : TextPerturber
        Fitted perturber.
    codes : str or tuple of str, default=None
        Codes to use (default: the perturber's).
    intent : str or tuple of str, default="keep"
        Edits of these intents (SEAR's rules are meant to keep the meaning).
    min_applied : int, default=1
        Keep rules applied at least this many times.
    n_examples : int, default=1
        Example flips per rule.

    Returns
    -------
    rules : DataFrame
        One row per rule: ``code``, ``rule``, ``intent``, ``applied``,
        ``coverage``, ``flips``, ``flip_rate`` and ``examples`` (``original
        => edited`` of flipped sentences), most flips first.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcfx.text import TextPerturber, sear_rules
    >>> texts = ["it is good", "it is bad", "it's good", "very bad"] * 5
    >>> model = make_pipeline(CountVectorizer(), LogisticRegression())
    >>> model = model.fit(texts, [1, 0, 1, 0] * 5)
    >>> p = TextPerturber(codes="restructure").fit(texts)
    >>> sear_rules(model, texts, p)[["rule", "applied", "flip_rate"]].head(2)
                rule  applied  flip_rate
    0  it is -> it's       10        0.0
    1  it's -> it is        5        0.0
    """
    texts, _ = check_texts(X)
    edits = perturber.perturb(texts, codes=codes, intent=intent)
    cols = ["code", "rule", "intent", "applied", "coverage", "flips", "flip_rate"]
    if edits.empty:
        return pd.DataFrame(columns=cols + ["examples"])
    before = np.asarray(model.predict(texts))
    after = np.asarray(model.predict(edits["text"].tolist()))
    edits["flipped"] = after != before[edits["sample"].to_numpy()]
    rows = []
    for (code, rule, why), g in edits.groupby(["code", "rule", "intent"], sort=False):
        if len(g) < min_applied:
            continue
        flips = g[g["flipped"]]
        rows.append(
            {
                "code": code,
                "rule": rule,
                "intent": why,
                "applied": len(g),
                "coverage": g["sample"].nunique() / len(texts),
                "flips": len(flips),
                "flip_rate": len(flips) / len(g),
                "examples": [
                    f"{o} => {t}"
                    for o, t in zip(flips["original"][:n_examples], flips["text"])
                ],
            }
        )
    out = pd.DataFrame(rows, columns=cols + ["examples"])
    out = out.sort_values(["flips", "applied"], ascending=False, kind="stable")
    return out.reset_index(drop=True)
