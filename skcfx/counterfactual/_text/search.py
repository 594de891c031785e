"""Beam search over word-level edit sets, then minimal, diverse selection.

Polarity is the model's own: a word is *polar* for a sentence when, alone,
it raises the probability of the sentence's class by at least
``min_effect`` over the empty sentence (in a sentence without such a word,
its three words with the largest positive effect); function words (the
stop words of scikit-learn's English list: "is", "the", "not", ...) are
never polar. "replace" and "negate" touch polar words only
(``edit_scope="polar"``) or any word (``"all"``); replacements are the
vocabulary's content words (no stop word: a word swapped for "not" or
"the" reads as broken English) that, alone, push the model most toward
the desired class. The single-word probabilities are learned once,
in the explainer's ``fit`` (:class:`Lexicon`).

A beam search adds one edit per round to the ``beam_width`` most promising
edit sets of every sentence (closest to the desired class), scoring every
candidate of every sentence with one ``predict_proba`` call; valid sets stop
growing. Each valid set is then made minimal (any edit whose removal keeps
the new prediction is dropped, all sets at once per round) and up to ``k``
distinct ones per sentence are kept, fewest edits first and, among equals,
the highest product of the edited sentence's probability under the corpus
language model (the explainer's) and its probability toward the goal (else
the most convincing), each next one editing a word the earlier ones do not.
"""

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from skcfx.counterfactual._text.edits import apply_edits, goal, join

__all__ = ["Lexicon", "edit_search"]


class Lexicon:
    """Single-word probabilities of a text classifier, learned once.

    Parameters
    ----------
    predict_proba : callable
        The model's ``predict_proba`` on a list of strings.
    words : list of str
        Replacement candidates.
    known : iterable of str
        Tokens whose single-word probability is cached (the training
        sentences' words).
    """

    def __init__(self, predict_proba, words, known=()):
        known = sorted(set(known) - set(words))
        P = np.asarray(predict_proba(list(words) + [""] + known), dtype=float)
        self.words = list(words)
        self.word_proba = P[: len(words)]
        self.empty_proba = P[len(words)]
        self.alone = {w: p for w, p in zip(self.words, self.word_proba)}
        self.alone.update(zip(known, P[len(words) + 1 :]))

    def substitutes(self, key, n):
        """The ``n`` content words that push most toward class ``key`` (or,
        for ``key = -1 - o``, away from class ``o``)."""
        P = self.word_proba
        score = P[:, key] if key >= 0 else 1.0 - P[:, -1 - key]
        order = np.argsort(-score, kind="stable")
        content = (i for i in order if _is_content(self.words[i]))
        return [self.words[i] for _, i in zip(range(n), content)]


def _is_content(word):
    """Not a function word (scikit-learn's English stop words)."""
    return word.lower() not in ENGLISH_STOP_WORDS


def _polar(toks, editable, orig, alone, empty, min_effect):
    """Per sentence, the positions of its polar words (``alone``: token ->
    its single-word probabilities; ``empty``: the empty sentence's)."""
    polar = []
    for i, tok in enumerate(toks):
        push = {
            p: alone[tok[p]][orig[i]] - empty[orig[i]]
            for p in editable[i]
            if _is_content(tok[p])
        }
        strong = {p for p, e in push.items() if e >= min_effect}
        if not strong:  # the sentence's three most polar words
            ranked = sorted((e, p) for p, e in push.items() if e > 0)
            strong = {p for _, p in ranked[-3:]}
        polar.append(strong)
    return polar


def _moves(tok, editable, polar, subs, ops, edits):
    """Edit sets with one more edit than ``edits``."""
    used = {p for p, _, _ in edits}
    out = []
    for p in editable:
        if p in used:
            continue
        word = tok[p]
        if "delete" in ops and len(tok) > 1:
            out.append(edits | {(p, "delete", "")})
        if p not in polar:
            continue
        if "negate" in ops and word.lower() != "not":
            out.append(edits | {(p, "negate", "not")})
        if "replace" in ops:
            for w in subs:
                if w.lower() != word.lower():
                    out.append(edits | {(p, "replace", w)})
    return out


def edit_search(
    predict_proba,
    toks,
    editable,
    orig,
    target,
    lexicon,
    params,
    alone,
    accept=None,
    fluency=None,
):
    """Edit sets of each sentence that reach its target class.

    Parameters
    ----------
    predict_proba : callable on a list of strings
    toks : list of token lists
    editable : list of lists of editable positions
    orig, target : ndarray of int
        Predicted and desired class index per sentence (-1: any other).
    lexicon : Lexicon
    alone : dict
        Token -> single-word probabilities, for every editable token (the
        lexicon's, plus the new tokens of these sentences).
    params : dict
        ``operations``, ``n_counterfactuals``, ``max_edits``, ``beam_width``,
        ``n_substitutes``, ``edit_scope`` and ``min_effect``.
    accept : callable or None
        ``accept(owner, texts)`` -> bool array: which valid edited sentences
        may be kept (the fluency filter); None keeps all.
    fluency : callable or None
        ``fluency(texts)`` -> log-probabilities under a language model: among
        minimal edit sets with as few edits, the highest sum of that and the
        log-probability toward the goal is picked first (one call); None:
        the most convincing.

    Returns
    -------
    chosen : list of lists of frozenset
        Per sentence, up to ``n_counterfactuals`` minimal edit sets, best
        first (empty for a sentence that already has the desired class).
    """
    n = len(toks)
    ops, k = params["operations"], params["n_counterfactuals"]
    key = np.where(target >= 0, target, -1 - orig)
    subs = {}
    if "replace" in ops:
        subs = {
            int(c): lexicon.substitutes(int(c), params["n_substitutes"])
            for c in np.unique(key)
        }
    if params["edit_scope"] == "polar":
        polar = _polar(
            toks, editable, orig, alone, lexicon.empty_proba, params["min_effect"]
        )
    else:
        polar = [set(e) for e in editable]
    beams = [[frozenset()] for _ in range(n)]
    found = [dict() for _ in range(n)]  # edit set -> probability toward goal
    seen = [set() for _ in range(n)]
    for _ in range(int(params["max_edits"])):
        cand, owner = [], []
        for i in range(n):
            if len(found[i]) >= k:
                continue
            for edits in beams[i]:
                moves = _moves(
                    toks[i],
                    editable[i],
                    polar[i],
                    subs.get(int(key[i]), ()),
                    ops,
                    edits,
                )
                for new in moves:
                    if new not in seen[i]:
                        seen[i].add(new)
                        cand.append(new)
                        owner.append(i)
        if not cand:
            break
        owner = np.asarray(owner)
        P = np.asarray(
            predict_proba([apply_edits(toks[i], e) for i, e in zip(owner, cand)])
        )
        toward, valid = goal(P, owner, target, orig)
        valid = _accepted(accept, valid, owner, toks, cand)
        beams = [[] for _ in range(n)]
        for i in np.unique(owner):
            mine = np.flatnonzero(owner == i)
            for r in mine[valid[mine]]:
                found[i][cand[r]] = toward[r]
            rest = mine[~valid[mine]]
            best = rest[
                np.argsort(-toward[rest], kind="stable")[: params["beam_width"]]
            ]
            beams[i] = [cand[r] for r in best]
    # the candidates for selection: the best few per sentence, made minimal
    found = [_best(f, 4 * k) for f in found]
    found = _minimal(predict_proba, toks, found, target, orig, accept)
    if fluency is not None:
        found = _fluent(fluency, toks, found)
    return [_select(f, k) for f in found]


def _fluent(fluency, toks, found):
    """Each minimal edit set's score for selection: its edited sentence's
    log-probability under the language model (one call for all) plus the
    log of its probability toward the goal, so that among sets with as many
    edits the fluent and convincing come first ("manual -> great" reads
    worse than "lacking -> great"; by fluency alone a tiny corpus's
    "the bad was good" beat "the food was bad")."""
    owner = [i for i, f in enumerate(found) for _ in f]
    sets = [e for f in found for e in f]
    if not sets:
        return found
    score = np.asarray(fluency([apply_edits(toks[i], e) for i, e in zip(owner, sets)]))
    out = [dict() for _ in found]
    for i, e, s in zip(owner, sets, score):
        out[i][e] = float(s) + float(np.log(max(found[i][e], 1e-12)))
    return out


def _accepted(accept, valid, owner, toks, cand):
    """``valid`` and, where valid, accepted by the filter (one call)."""
    if accept is None or not valid.any():
        return valid
    rows = np.flatnonzero(valid)
    texts = [apply_edits(toks[owner[r]], cand[r]) for r in rows]
    out = valid.copy()
    out[rows] = np.asarray(accept(owner[rows], texts), dtype=bool)
    return out


def _best(found, m):
    """The ``m`` edit sets with the fewest edits, then the highest score
    (probability toward the goal, or fluency)."""
    order = sorted(found, key=lambda e: (len(e), -found[e], sorted(e)))
    return {e: found[e] for e in order[:m]}


def _minimal(predict_proba, toks, found, target, orig, accept=None):
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
            predict_proba([apply_edits(toks[i], e) for i, e in zip(owner, cand)])
        )
        toward, valid = goal(P, owner, target, orig)
        valid = _accepted(accept, valid, owner, toks, cand)
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
    """Fewest edits first, then the highest score (the most fluent, or the
    most convincing); each next one edits at least one word the ones
    already picked do not."""
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


def sentences(toks):
    """The sentences of token lists, as the model sees them."""
    return [join(t) for t in toks]
