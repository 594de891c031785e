"""Word-level counterfactuals for text classifiers (CheckList-style edits).

The classifier takes raw strings (a scikit-learn Pipeline with a
``CountVectorizer`` / ``TfidfVectorizer``, or any model with
``predict_proba`` on a list of strings). A counterfactual is the sentence
with a few word-level edits, in the spirit of CheckList's perturbations
(Ribeiro et al., 2020) and Polyjuice's control codes (Wu et al., 2021):

- ``"delete"``: remove a word;
- ``"replace"``: put another word in the place of a *polar* word (one that,
  alone, pushes the model toward the sentence's current class), taken from
  the model's own vocabulary (the words that, alone, push the model most
  toward the desired class): antonym-like swaps such as "good" -> "poor";
- ``"negate"``: insert ``not`` before a polar word.

Polarity is the model's own: every vocabulary word and every word of the
sentences is scored alone, with one ``predict_proba`` call, against the
empty sentence; a word is polar when it moves the probability of the
sentence's class up by at least ``min_effect`` (in a sentence without such a
word, its three words with the largest positive effect). ``edit_scope="all"``
lifts the restriction (any word may be replaced or negated).

Edits are positions of the original sentence, at most one per word, so a
counterfactual is a set of edits that can be applied, compared and reduced.
A beam search adds one edit per round to the ``beam_width`` most promising
edit sets of every sentence (closest to the desired class), scoring every
candidate of every sentence with one ``predict_proba`` call; valid sets stop
growing. Each valid set is then made minimal (any edit whose removal keeps
the new prediction is dropped, all sets at once per round) and up to
``n_counterfactuals`` distinct ones per sentence are kept, fewest edits first
and, among equals, edits at different words.
"""

import re

import numpy as np
import pandas as pd

__all__ = ["text_counterfactuals"]

_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
_OPS = ("delete", "replace", "negate")


def _tokens(text):
    return _TOKEN.findall(str(text))


_SPACE_BEFORE_PUNCT = re.compile(r" ([^\w\s(\"'])")


def _join(tokens):
    """Tokens back to a sentence: spaces between words, none before
    punctuation (except opening brackets and quotes) or after "("."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(tokens)).replace("( ", "(")


def _apply(tokens, edits):
    """The sentence with ``edits`` (tuples (position, op, word))."""
    by_pos = {p: (op, w) for p, op, w in edits}
    out = []
    for i, t in enumerate(tokens):
        if i not in by_pos:
            out.append(t)
            continue
        op, w = by_pos[i]
        if op == "replace":
            out.append(w)
        elif op == "negate":
            out.extend(["not", t])
        # delete: nothing
    return _join(out)


def _describe(tokens, edits):
    parts = []
    for p, op, w in sorted(edits):
        if op == "delete":
            parts.append(f"delete {tokens[p]!r}")
        elif op == "replace":
            parts.append(f"{tokens[p]!r} -> {w!r}")
        else:
            parts.append(f"not before {tokens[p]!r}")
    return "; ".join(parts)


def _vocabulary(model, vocabulary, texts=()):
    if vocabulary is not None:
        words = [str(w) for w in vocabulary]
    else:
        steps = getattr(model, "steps", None) or []
        inner = getattr(model, "estimator", None)  # FrozenEstimator
        if inner is not None and hasattr(inner, "steps"):
            steps = inner.steps
        vec = steps[0][1] if steps else None
        if vec is None or not hasattr(vec, "get_feature_names_out"):
            raise ValueError(
                "vocabulary=None needs a Pipeline whose first step is a fitted "
                "vectorizer with get_feature_names_out (CountVectorizer, "
                "TfidfVectorizer); pass vocabulary= a list of words otherwise."
            )
        analyzer = getattr(vec, "analyzer", "word")
        if analyzer == "word":
            words = [str(w) for w in vec.get_feature_names_out()]
        else:
            # character n-grams (or a custom analyzer) are not words: the
            # replacement candidates are the whole words of the sentences
            words = sorted({t.lower() for text in texts for t in _tokens(text)})
    # edits are whole words: no n-gram with a space, no fragment, no symbol
    words = [w for w in words if _TOKEN.fullmatch(w) and w[0].isalnum()]
    if not words:
        raise ValueError("vocabulary holds no word tokens.")
    return words


def text_counterfactuals(
    model,
    texts,
    *,
    desired_class="opposite",
    n_counterfactuals=3,
    max_edits=3,
    beam_width=10,
    n_substitutes=30,
    operations=_OPS,
    vocabulary=None,
    protected=(),
    edit_scope="polar",
    min_effect=0.05,
):
    """Few-word edits of each sentence that change a text classifier's mind.

    Parameters
    ----------
    model : fitted classifier on raw strings
        With ``predict_proba`` and ``classes_`` (a Pipeline of a vectorizer
        and a classifier, for instance).
    texts : sequence of str
        The sentences to explain. Not modified.
    desired_class : label or "opposite", default="opposite"
        The class to reach; "opposite" is the other class of a binary model,
        or any other class for a multi-class one.
    n_counterfactuals : int, default=3
        At most this many per sentence.
    max_edits : int, default=3
        Edits per counterfactual at most (beam-search depth).
    beam_width : int, default=10
        Edit sets kept per sentence and round.
    n_substitutes : int, default=30
        Replacement words tried: the vocabulary words that, alone, give the
        desired class the highest probability.
    operations : sequence of {"delete", "replace", "negate"}
        Allowed edits.
    vocabulary : sequence of str, default=None
        Replacement candidates (whole words only); by default the vocabulary
        of the Pipeline's first step (a fitted CountVectorizer or
        TfidfVectorizer with a word analyzer) or, for a character analyzer
        (``"char"``, ``"char_wb"``) or a custom one, the words of ``texts``.
    protected : sequence of str, default=()
        Words (case-insensitive) never edited.
    edit_scope : {"polar", "all"}, default="polar"
        Which words "replace" and "negate" may touch: those that alone push
        the model toward the sentence's class by at least ``min_effect``
        (sentiment-bearing words, for a sentiment model), or any word.
    min_effect : float, default=0.05
        Polarity threshold, in probability.

    Returns
    -------
    counterfactuals : DataFrame
        One row per counterfactual: ``query`` (position in ``texts``),
        ``rank``, ``text``, ``edits`` (readable), ``edit_list`` (tuples
        ``(token position, operation, new word)`` on the sentence's tokens),
        ``n_edits``,
        ``prediction`` and ``probability`` (of the prediction), re-predicted
        by the model, and ``valid``. A sentence without one within
        ``max_edits`` has no row: ``DataFrame.attrs["found"]`` holds one
        boolean per sentence and ``attrs["status"]`` one of "found", "not
        found" or "already desired" (the model already gives the desired
        class: nothing to change, no row).

    References
    ----------
    .. [1] M. T. Ribeiro, T. Wu, C. Guestrin and S. Singh, "Beyond Accuracy:
       Behavioral Testing of NLP Models with CheckList", ACL 2020.
    .. [2] T. Wu, M. T. Ribeiro, J. Heer and D. Weld, "Polyjuice: Generating
       Counterfactuals for Explaining, Evaluating, and Improving Models",
       ACL 2021.
    """
    if isinstance(texts, (str, bytes)):
        raise ValueError(
            "texts must be a sequence of strings, one per sentence; got a "
            f"single string {str(texts)[:40]!r}. Wrap it in a list: [text]."
        )
    texts = [str(t) for t in texts]
    ops = tuple(operations)
    bad = [o for o in ops if o not in _OPS]
    if bad or not ops:
        raise ValueError(f"operations must be a non-empty subset of {_OPS}; got {ops}.")
    for name, value in (
        ("n_counterfactuals", n_counterfactuals),
        ("max_edits", max_edits),
        ("beam_width", beam_width),
        ("n_substitutes", n_substitutes),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    if edit_scope not in ("polar", "all"):
        raise ValueError(f"edit_scope must be 'polar' or 'all'; got {edit_scope!r}.")
    classes = np.asarray(model.classes_)
    n = len(texts)
    tokens = [_tokens(t) for t in texts]
    keep = {w.lower() for w in protected}
    editable = [
        [i for i, t in enumerate(tok) if t[0].isalnum() and t.lower() not in keep]
        for tok in tokens
    ]
    words = _vocabulary(model, vocabulary, texts) if "replace" in ops else []
    distinct = []
    if edit_scope == "polar":
        distinct = sorted({tokens[i][p] for i in range(n) for p in editable[i]})
    # one model call before the search: the sentences, the replacement
    # words alone, the empty sentence and each sentence word alone
    scored = [_join(t) for t in tokens] + words + [""] + distinct
    P_all = np.asarray(model.predict_proba(scored))
    proba, P_words = P_all[:n], P_all[n : n + len(words)]
    P_empty, P_distinct = P_all[n + len(words)], P_all[n + len(words) + 1 :]
    orig = proba.argmax(axis=1)
    if isinstance(desired_class, str) and desired_class == "opposite":
        if len(classes) == 2:
            target = 1 - orig
        else:
            target = np.full(n, -1)
    else:
        hit = np.flatnonzero(classes == desired_class)
        if not len(hit):
            raise ValueError(
                f"desired_class={desired_class!r} is not a class of the model "
                f"({np.asarray(classes).tolist()})."
            )
        target = np.full(n, int(hit[0]))

    def goal(P, owner):
        """Probability mass toward the desired class (higher is closer)."""
        t = target[owner]
        rows = np.arange(len(owner))
        toward = np.where(t >= 0, P[rows, np.maximum(t, 0)], 1.0 - P[rows, orig[owner]])
        pred = P.argmax(axis=1)
        valid = np.where(t >= 0, pred == t, pred != orig[owner])
        return toward, valid

    # replacement words per goal: toward class t, or away from class o when
    # any other class will do (key -1 - o)
    goal_key = np.where(target >= 0, target, -1 - orig)
    substitutes = {}
    if "replace" in ops:
        for key in np.unique(goal_key):
            score = P_words[:, key] if key >= 0 else 1.0 - P_words[:, -1 - key]
            top = np.argsort(-score, kind="stable")[:n_substitutes]
            substitutes[int(key)] = [words[i] for i in top]
    polar = [set(e) for e in editable]
    if edit_scope == "polar":
        if distinct:
            effect = {w: P_distinct[a] - P_empty for a, w in enumerate(distinct)}
            polar = []
            for i in range(n):
                push = {p: effect[tokens[i][p]][orig[i]] for p in editable[i]}
                strong = {p for p, e in push.items() if e >= min_effect}
                if not strong:  # the sentence's three most polar words
                    ranked = sorted((e, p) for p, e in push.items() if e > 0)
                    strong = {p for _, p in ranked[-3:]}
                polar.append(strong)

    def moves(i, edits):
        """Edit sets with one more edit than ``edits`` for sentence ``i``."""
        used = {p for p, _, _ in edits}
        out = []
        for p in editable[i]:
            if p in used:
                continue
            word = tokens[i][p]
            if "delete" in ops and len(tokens[i]) > 1:
                out.append(edits | {(p, "delete", "")})
            if p not in polar[i]:
                continue
            if "negate" in ops and word.lower() != "not":
                out.append(edits | {(p, "negate", "not")})
            if "replace" in ops:
                for w in substitutes[int(goal_key[i])]:
                    if w.lower() != word.lower():
                        out.append(edits | {(p, "replace", w)})
        return out

    # a sentence the model already gives the desired class needs no edit
    _, already = goal(proba, np.arange(n))
    beams = [[] if already[i] else [frozenset()] for i in range(n)]
    found = [dict() for _ in range(n)]  # edit set -> probability toward goal
    seen = [set() for _ in range(n)]
    for _ in range(int(max_edits)):
        cand, owner = [], []
        for i in range(n):
            if len(found[i]) >= n_counterfactuals:
                continue
            for edits in beams[i]:
                for new in moves(i, edits):
                    if new not in seen[i]:
                        seen[i].add(new)
                        cand.append(new)
                        owner.append(i)
        if not cand:
            break
        owner = np.asarray(owner)
        P = np.asarray(
            model.predict_proba([_apply(tokens[i], e) for i, e in zip(owner, cand)])
        )
        toward, valid = goal(P, owner)
        beams = [[] for _ in range(n)]
        for i in np.unique(owner):
            mine = np.flatnonzero(owner == i)
            for r in mine[valid[mine]]:
                found[i][cand[r]] = toward[r]
            rest = mine[~valid[mine]]
            best = rest[np.argsort(-toward[rest], kind="stable")[:beam_width]]
            beams[i] = [cand[r] for r in best]
    # the candidates for selection: the best few per sentence, made minimal
    found = [_best(f, 4 * n_counterfactuals) for f in found]
    found = _minimal(model, tokens, found, goal)
    rows = []
    for i in range(n):
        chosen = _select(found[i], n_counterfactuals)
        for rank, edits in enumerate(chosen):
            rows.append((i, rank, _apply(tokens[i], edits), edits))
    out = pd.DataFrame(
        {
            "query": [r[0] for r in rows],
            "rank": [r[1] for r in rows],
            "text": [r[2] for r in rows],
            "edits": [_describe(tokens[r[0]], r[3]) for r in rows],
            "edit_list": [sorted(r[3]) for r in rows],
            "n_edits": [len(r[3]) for r in rows],
        }
    )
    if len(out):
        P = np.asarray(model.predict_proba(list(out["text"])))
        pred = P.argmax(axis=1)
        _, valid = goal(P, out["query"].to_numpy())
        out["prediction"] = classes[pred]
        out["probability"] = P[np.arange(len(P)), pred]
        out["valid"] = valid
    else:
        out["prediction"] = pd.Series(dtype=classes.dtype)
        out["probability"] = pd.Series(dtype=float)
        out["valid"] = pd.Series(dtype=bool)
    out.attrs["found"] = np.array([bool(f) for f in found])
    out.attrs["status"] = np.array(
        [
            "already desired" if a else ("found" if f else "not found")
            for a, f in zip(already, found)
        ]
    )
    return out


def _best(found, m):
    """The ``m`` edit sets with the fewest edits, then the most convincing."""
    order = sorted(found, key=lambda e: (len(e), -found[e], sorted(e)))
    return {e: found[e] for e in order[:m]}


def _minimal(model, tokens, found, goal):
    """Drop every edit whose removal keeps the new prediction (rounds of one
    model call for all sentences, until no set shrinks)."""
    found = [dict(f) for f in found]
    while True:
        cand, owner, parent = [], [], []
        for i, f in enumerate(found):
            for edits in f:
                if len(edits) < 2:
                    continue
                for e in edits:
                    cand.append(edits - {e})
                    owner.append(i)
                    parent.append(edits)
        if not cand:
            return found
        owner = np.asarray(owner)
        P = np.asarray(
            model.predict_proba([_apply(tokens[i], e) for i, e in zip(owner, cand)])
        )
        toward, valid = goal(P, owner)
        changed = False
        for r in np.flatnonzero(valid):
            i = owner[r]
            if parent[r] in found[i]:
                del found[i][parent[r]]
                changed = True
            found[i][cand[r]] = max(found[i].get(cand[r], -np.inf), toward[r])
        if not changed:
            return found


def _select(found, k):
    """Fewest edits first, then the most convincing; each next one edits at
    least one word the ones already picked do not."""
    order = list(_best(found, len(found)))
    picked, words = [], set()
    for e in order:
        pos = {p for p, _, _ in e}
        if picked and pos <= words:
            continue
        picked.append(e)
        words |= pos
        if len(picked) == k:
            break
    for e in order:  # fill up with the rest when too few differ
        if len(picked) == k:
            break
        if e not in picked:
            picked.append(e)
    return picked
