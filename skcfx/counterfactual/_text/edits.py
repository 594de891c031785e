"""Word-level edits of a sentence: tokens, the edit operations, and words.

A sentence is a list of tokens (words, with their contractions, and single
punctuation marks). An edit is a tuple ``(position, operation, word)`` on the
original tokens, at most one per position, so a counterfactual is a set of
edits that can be applied, compared and reduced:

- ``"delete"``: remove the word;
- ``"replace"``: put ``word`` in its place;
- ``"negate"``: insert ``not`` before it.
"""

import numpy as np

from skcfx.counterfactual._engine.models import unwrap
from skcfx.text._tokens import TOKEN, join, tokens

__all__ = [
    "OPERATIONS",
    "apply_edits",
    "describe_edits",
    "join",
    "model_vocabulary",
    "tokens",
]

OPERATIONS = ("delete", "replace", "negate")


def apply_edits(toks, edits):
    """The sentence with ``edits`` applied."""
    by_pos = {p: (op, w) for p, op, w in edits}
    out = []
    for i, t in enumerate(toks):
        if i not in by_pos:
            out.append(t)
            continue
        op, w = by_pos[i]
        if op == "replace":
            out.append(w)
        elif op == "negate":
            out.extend(["not", t])
        # delete: nothing
    return join(out)


def describe_edits(toks, edits):
    """Readable text of an edit set: ``'good' -> 'poor'; delete 'very'``."""
    parts = []
    for p, op, w in sorted(edits):
        if op == "delete":
            parts.append(f"delete {toks[p]!r}")
        elif op == "replace":
            parts.append(f"{toks[p]!r} -> {w!r}")
        else:
            parts.append(f"not before {toks[p]!r}")
    return "; ".join(parts)


def model_vocabulary(model, vocabulary, texts=()):
    """Replacement candidates: ``vocabulary`` when given, else the word
    vocabulary of the Pipeline's first step (a fitted CountVectorizer or
    TfidfVectorizer), else (character or custom analyzers) the words of
    ``texts``; whole words only."""
    if vocabulary is not None:
        words = [str(w) for w in vocabulary]
    else:
        steps = getattr(unwrap(model), "steps", None) or []
        vec = steps[0][1] if steps else None
        if vec is None or not hasattr(vec, "get_feature_names_out"):
            raise ValueError(
                "vocabulary=None needs a Pipeline whose first step is a fitted "
                "vectorizer with get_feature_names_out (CountVectorizer, "
                "TfidfVectorizer); pass vocabulary= a list of words otherwise."
            )
        if getattr(vec, "analyzer", "word") == "word":
            words = [str(w) for w in vec.get_feature_names_out()]
        else:
            # character n-grams (or a custom analyzer) are not words: the
            # replacement candidates are the whole words of the sentences
            words = sorted({t.lower() for text in texts for t in tokens(text)})
    # edits are whole words: no n-gram with a space, no fragment, no symbol
    words = [w for w in words if TOKEN.fullmatch(w) and w[0].isalnum()]
    if not words:
        raise ValueError("vocabulary holds no word tokens.")
    return list(dict.fromkeys(words))


def editable_positions(toks, protected):
    """Positions of the words that may be edited (not punctuation, not
    protected)."""
    return [
        i for i, t in enumerate(toks) if t[0].isalnum() and t.lower() not in protected
    ]


def goal(P, owner, target, orig):
    """(probability mass toward the desired class, reached) per row of
    ``P``; target -1 means any class but ``orig``."""
    t = target[owner]
    rows = np.arange(len(owner))
    toward = np.where(t >= 0, P[rows, np.maximum(t, 0)], 1.0 - P[rows, orig[owner]])
    pred = P.argmax(axis=1)
    valid = np.where(t >= 0, pred == t, pred != orig[owner])
    return toward, valid
