"""Tokens of a sentence and back: the one tokenizer of every text tool.

A token is a word (with its contraction: ``"isn't"``, ``"it's"``) or a
single punctuation mark; :func:`join` puts tokens back into a sentence
without spaces before punctuation.
"""

import re

import numpy as np
import pandas as pd

__all__ = ["TOKEN", "check_texts", "join", "splice", "tokens"]

TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
_SPACE_BEFORE_PUNCT = re.compile(r" ([^\w\s(\"'])")


def tokens(text):
    """The tokens of a sentence."""
    return TOKEN.findall(str(text))


def splice(text, old, new):
    """``text`` with its tokens ``old`` edited into ``new``, verbatim
    outside the edited stretch.

    Only the tokens between the longest common prefix and suffix of ``old``
    and ``new`` are rewritten (with :func:`join`'s spacing); the rest of the
    sentence keeps its own characters ("peachy-keen", "$11.99").

    Parameters
    ----------
    text : str
        The sentence; ``old`` must be ``tokens(text)``.
    old, new : list of str
        Its tokens and the edited tokens.

    Returns
    -------
    str
    """
    spans = [m.span() for m in TOKEN.finditer(str(text))]
    n, m = len(old), len(new)
    p = 0
    while p < min(n, m) and old[p] == new[p]:
        p += 1
    q = 0
    while q < min(n, m) - p and old[n - 1 - q] == new[m - 1 - q]:
        q += 1
    middle = join(new[p : m - q])
    if p == n - q:  # a pure insertion before old token p
        if p < n:
            a = spans[p][0]
            return text[:a] + middle + " " + text[a:]
        return text.rstrip() + " " + middle
    a, b = spans[p][0], spans[n - q - 1][1]
    if not middle:  # a deletion: drop one space next to it as well
        if b < len(text) and text[b] == " ":
            b += 1
        elif a > 0 and text[a - 1] == " ":
            a -= 1
    return text[:a] + middle + text[b:]


def join(toks):
    """Tokens back to a sentence: spaces between words, none before
    punctuation (except opening brackets and quotes) or after "("."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(toks)).replace("( ", "(")


def check_texts(X, name="X"):
    """Sentences of ``X`` as a list of str, and their index labels.

    Accepts a sequence or 1-D array of strings, a pandas Series (its index
    labels are kept) or a one-column 2-D array / DataFrame.
    """
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"{name} must be a sequence of strings, one per sentence; got a "
            f"single string {str(X)[:40]!r}. Wrap it in a list: [text]."
        )
    index = X.index if isinstance(getattr(X, "index", None), pd.Index) else None
    if hasattr(X, "columns"):
        if X.shape[1] != 1:
            raise ValueError(
                f"{name} must hold one text column; got {X.shape[1]} columns "
                f"{list(X.columns)}."
            )
        X = X.iloc[:, 0]
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a sequence of strings (one per sentence); got an "
            f"array of shape {arr.shape}."
        )
    if len(arr) == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={arr.shape}) while a minimum "
            "of 1 is required."
        )
    bad = [i for i, t in enumerate(arr) if not isinstance(t, str)]
    if bad:
        raise ValueError(
            f"{name} must hold strings; element {bad[0]} is "
            f"{arr[bad[0]]!r} ({type(arr[bad[0]]).__name__})."
        )
    return [str(t) for t in arr], (np.arange(len(arr)) if index is None else index)
