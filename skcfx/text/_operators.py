"""Edit operators named after Polyjuice's control codes.

Every operator maps a tokenized sentence to its edited versions, each with a
context-free *rule* (``"is -> isn't"``, ``"+ very"``: the unit that SEAR
aggregates) and the edit's *intent* for a polarity label such as sentiment:

- ``"flip"``: the edit reverses what the sentence says (negation, an
  antonym, "always" -> "never"), so the label should change;
- ``"keep"``: the edit should not matter (a name, a synonym, an
  intensifier, a contraction, clause order);
- ``"unknown"``: the edit may matter or not ("all" -> "some", a number).

Operators, by code: ``negation`` (insert or remove a negation after an
auxiliary, spelled out or contracted), ``quantifier`` (swap quantifiers and
numbers), ``lexical`` (antonyms: flip; related words that lean the same
way: keep), ``insert`` (an intensifier before a polar word, an opening
phrase), ``delete`` (an intensifier), ``restructure`` (contractions, the
final punctuation), ``shuffle`` (the two sides of "and"), ``entity``
(first names).
"""

from skcfx.text._resources import (
    CONTRACTIONS,
    FIRST_NAMES,
    INTENSIFIERS,
    NEGATABLE,
    NEGATIVE_QUANTIFIERS,
    OPENERS,
    QUANTIFIER_SWAPS,
)

__all__ = ["CODES", "OPERATORS"]

_NEGATED = {v: k for k, v in NEGATABLE.items()}
_EXPANDED = {v: k for k, v in CONTRACTIONS.items()}
_NAMES = frozenset(FIRST_NAMES)
# "has" / "have" / "had" are also main verbs ("I had this phone"): negation
# is inserted after the unambiguous auxiliaries only
_INSERTABLE = frozenset(NEGATABLE) - {"has", "have", "had"}
_STARTERS = frozenset(
    "the a an this that these those my your our their his her its "
    "i you we they he she it".split()
)
_NEGATORS = frozenset({"not", "no", "never", "nothing", "none", "nobody", *_NEGATED})


def _case(like, word):
    """``word`` with the capitalisation of ``like``."""
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _replace(toks, i, words):
    return toks[:i] + list(words) + toks[i + 1 :]


def _polar_positions(toks, lex):
    return [i for i, t in enumerate(toks) if t[0].isalpha() and lex.is_polar(t)]


def _governs(toks, i, polar, span=5):
    """Whether the only polar word follows position ``i`` closely, with no
    punctuation between (the edited verb group is the one that carries the
    sentence's evaluation: "the food [was] [very] good")."""
    if len(polar) != 1 or not i < polar[0] <= i + span:
        return False
    return all(t[0].isalnum() for t in toks[i + 1 : polar[0]])


def negation(toks, lex, opts):
    out = []
    low = [t.lower() for t in toks]
    # the claim reverses when the sentence has one verb group, at most the
    # one negation being removed, and one polar word, which that verb group
    # governs; otherwise the label may not follow ("unknown")
    auxes = [t for t in low if t in NEGATABLE or t in _NEGATED]
    negs = [t for t in low if t in _NEGATORS]
    polar = _polar_positions(toks, lex)
    simple = len(auxes) == 1 and len(negs) <= 1
    for i, t in enumerate(low):
        why = "flip" if simple and _governs(low, i, polar) else "unknown"
        after = low[i + 1 : i + 3]
        if t in _INSERTABLE and not any(a in _NEGATORS for a in after):
            out.append((_replace(toks, i, [toks[i], "not"]), f"{t} -> {t} not", why))
            neg = _case(toks[i], NEGATABLE[t])
            out.append((_replace(toks, i, [neg]), f"{t} -> {NEGATABLE[t]}", why))
        elif t in _NEGATED:
            base = _case(toks[i], _NEGATED[t])
            out.append((_replace(toks, i, [base]), f"{t} -> {_NEGATED[t]}", why))
        elif t == "not" and i > 0 and low[i - 1] in NEGATABLE:
            why = "flip" if simple and _governs(low, i, polar) else "unknown"
            rule = f"{low[i - 1]} not -> {low[i - 1]}"
            out.append((_replace(toks, i, []), rule, why))
    return out


def quantifier(toks, lex, opts):
    out = []
    low = [t.lower() for t in toks]
    n_words = sum(t[0].isalnum() for t in toks)
    # a crossing swap reverses a short sentence with one evaluation at most
    # and no other negation
    simple = (
        n_words <= 15
        and len(_polar_positions(toks, lex)) <= 1
        and sum(t in _NEGATORS for t in low) <= 1
    )
    for i, tok in enumerate(toks):
        t = tok.lower()
        if t in QUANTIFIER_SWAPS and not (t == "all" and i and toks[i - 1] == "at"):
            for new in QUANTIFIER_SWAPS[t]:
                crosses = (t in NEGATIVE_QUANTIFIERS) != (new in NEGATIVE_QUANTIFIERS)
                out.append(
                    (
                        _replace(toks, i, [_case(tok, new)]),
                        f"{t} -> {new}",
                        "flip" if crosses and simple else "unknown",
                    )
                )
        elif t.isdigit() and len(t) <= 4:
            new = str(int(t) + 1) if int(t) < 9 else str(int(t) * 2)
            out.append((_replace(toks, i, [new]), "number -> number", "unknown"))
    return out


def lexical(toks, lex, opts):
    out = []
    n, sim = opts["n_related"], opts["min_similarity"]
    n_polar = sum(t[0].isalpha() and lex.is_polar(t) for t in toks)
    for i, tok in enumerate(toks):
        t = tok.lower()
        opposite = lex.antonyms(t, n, sim)[:n]
        # an antonym reverses the sentence when it is its only polar word
        why = "flip" if n_polar == 1 else "unknown"
        for new in opposite:
            out.append((_replace(toks, i, [_case(tok, new)]), f"{t} -> {new}", why))
        if not lex.is_content(t):
            continue
        for new in lex.synonyms(t, n, sim):
            out.append((_replace(toks, i, [_case(tok, new)]), f"{t} -> {new}", "keep"))
    return out


def insert(toks, lex, opts):
    out = []
    low = [t.lower() for t in toks]
    for i, t in enumerate(low):
        prev = low[i - 1] if i else ""
        modifiable = t in lex.modifiable and lex.is_content(t) and lex.is_polar(t)
        if modifiable and prev not in INTENSIFIERS:
            for w in INTENSIFIERS[: opts["n_related"]]:
                new = toks[:i] + [_case(toks[i], w), toks[i].lower()] + toks[i + 1 :]
                if i and toks[i][:1].isupper() and t not in _NAMES:
                    new[i + 1] = toks[i]
                out.append((new, f"+ {w}", "keep"))
    if toks and toks[0][:1].isalpha():
        first = low[0] if toks[0] == toks[0].capitalize() else toks[0]
        if toks[0] == "I" or low[0] in _NAMES:
            first = toks[0]
        for phrase in OPENERS[: opts["n_related"]]:
            words = phrase.replace(",", " ,").split()
            out.append((words + [first] + toks[1:], f"+ {phrase}", "keep"))
    return out


def delete(toks, lex, opts):
    out = []
    low = [t.lower() for t in toks]
    for i, t in enumerate(low):
        if t in INTENSIFIERS and i + 1 < len(low) and low[i + 1][0].isalpha():
            rest = toks[i + 1 :]
            if i == 0:
                rest = [_case(toks[0], rest[0])] + rest[1:]
            out.append((toks[:i] + rest, f"- {t}", "keep"))
    return out


def restructure(toks, lex, opts):
    out = []
    low = [t.lower() for t in toks]
    for i in range(len(low) - 1):
        pair = (low[i], low[i + 1])
        if pair in CONTRACTIONS:
            new = _case(toks[i], CONTRACTIONS[pair])
            out.append(
                (
                    toks[:i] + [new] + toks[i + 2 :],
                    f"{' '.join(pair)} -> {CONTRACTIONS[pair]}",
                    "keep",
                )
            )
    for i, t in enumerate(low):
        if t in _EXPANDED:
            a, b = _EXPANDED[t]
            words = [_case(toks[i], a), b]
            out.append((toks[:i] + words + toks[i + 1 :], f"{t} -> {a} {b}", "keep"))
        elif t in _NEGATED and i > 0:  # "isn't" -> "is not", "can't" -> "cannot"
            words = [_case(toks[i], _NEGATED[t]), "not"]
            if t == "can't":
                words = [_case(toks[i], "cannot")]
            out.append(
                (
                    toks[:i] + words + toks[i + 1 :],
                    f"{t} -> {' '.join(words).lower()}",
                    "keep",
                )
            )
    if toks and toks[-1] in (".", "!"):
        new = "!" if toks[-1] == "." else "."
        out.append((toks[:-1] + [new], f"'{toks[-1]}' -> '{new}'", "keep"))
    return out


def shuffle(toks, lex, opts):
    low = [t.lower() for t in toks]
    if low.count("and") != 1:
        return []
    i = low.index("and")
    end = len(toks) - 1 if toks and not toks[-1][0].isalnum() else len(toks)
    left, right = toks[:i], toks[i + 1 : end]
    if not left or not right or any(not t[0].isalnum() for t in left + right):
        return []
    # two single words ("fast and friendly") or two phrases that start like
    # clauses or noun phrases ("the food ... and the service ...")
    single = len(left) == 1 and len(right) == 1
    starts = _STARTERS | _NAMES
    if not single and not (left[0].lower() in starts and right[0].lower() in starts):
        return []
    first = right[0] if right[0] == "I" or right[0].lower() in _NAMES else right[0]
    first = _case(left[0], first.lower() if first != "I" else first)
    second = left[0] if left[0] == "I" or left[0].lower() in _NAMES else left[0].lower()
    new = [first] + right[1:] + ["and", second] + left[1:] + toks[end:]
    return [(new, "swap the sides of 'and'", "keep")]


def entity(toks, lex, opts):
    out = []
    for i, tok in enumerate(toks):
        t = tok.lower()
        if t in _NAMES and tok[:1].isupper():
            others = [n for n in FIRST_NAMES if n != t][: opts["n_related"]]
            for new in others:
                out.append(
                    (_replace(toks, i, [new.capitalize()]), "name -> name", "keep")
                )
    return out


OPERATORS = {
    "negation": negation,
    "quantifier": quantifier,
    "lexical": lexical,
    "insert": insert,
    "delete": delete,
    "restructure": restructure,
    "shuffle": shuffle,
    "entity": entity,
}
CODES = tuple(OPERATORS)
