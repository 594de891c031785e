"""Small English word lists shipped with skcfx (written for skcfx).

The rule-based edit operators need a few closed word classes that no corpus
of a few thousand sentences teaches reliably: negations and their
contractions, quantifiers, intensifiers, common first names, and pairs of
opposite evaluative words. Everything else (related words, which words
carry a label) is learned from the user's corpus in ``fit``.
"""

__all__ = [
    "ANTONYMS",
    "CONTRACTIONS",
    "FIRST_NAMES",
    "INTENSIFIERS",
    "NEGATABLE",
    "NEGATIVE_QUANTIFIERS",
    "OPENERS",
    "QUANTIFIER_SWAPS",
]

# auxiliary -> its negated contraction ("is" -> "isn't"); "not" goes after
# the auxiliary when spelled out
NEGATABLE = {
    "is": "isn't",
    "was": "wasn't",
    "are": "aren't",
    "were": "weren't",
    "do": "don't",
    "does": "doesn't",
    "did": "didn't",
    "can": "can't",
    "could": "couldn't",
    "will": "won't",
    "would": "wouldn't",
    "should": "shouldn't",
    "has": "hasn't",
    "have": "haven't",
    "had": "hadn't",
    "must": "mustn't",
}

# spelled-out pair <-> contraction, for the meaning-preserving restructure
CONTRACTIONS = {
    ("it", "is"): "it's",
    ("that", "is"): "that's",
    ("i", "am"): "i'm",
    ("i", "have"): "i've",
    ("i", "would"): "i'd",
    ("i", "will"): "i'll",
    ("you", "are"): "you're",
    ("they", "are"): "they're",
    ("we", "are"): "we're",
    ("there", "is"): "there's",
    ("he", "is"): "he's",
    ("she", "is"): "she's",
    ("what", "is"): "what's",
    ("let", "us"): "let's",
}

# quantifier -> its replacements; a swap that crosses between a negative
# quantifier (NEGATIVE_QUANTIFIERS) and a positive one reverses the claim
QUANTIFIER_SWAPS = {
    "all": ("some", "no"),
    "every": ("some", "no"),
    "some": ("all", "no"),
    "many": ("few", "no"),
    "few": ("many",),
    "most": ("few", "some"),
    "always": ("sometimes", "never"),
    "sometimes": ("always", "never"),
    "often": ("rarely", "never"),
    "never": ("always", "often"),
    "rarely": ("often", "always"),
    "no": ("some", "every"),
    "none": ("all", "some"),
    "nothing": ("everything", "something"),
    "everything": ("nothing", "something"),
    "something": ("nothing", "everything"),
    "nobody": ("everybody", "somebody"),
    "everyone": ("no one", "someone"),
    "everybody": ("nobody", "somebody"),
    "anything": ("nothing",),
    "more": ("less",),
    "less": ("more",),
}
# ("few" / "less" are not: "a few days ago" -> "a many days ago" reverses
# nothing)
NEGATIVE_QUANTIFIERS = frozenset(
    {"no", "none", "nothing", "nobody", "no one", "never", "rarely"}
)

INTENSIFIERS = (
    "very",
    "really",
    "so",
    "quite",
    "extremely",
    "pretty",
    "truly",
    "totally",
    "absolutely",
    "incredibly",
    "highly",
    "super",
)

OPENERS = ("Honestly,", "Overall,", "I think", "In short,", "To be fair,", "Well,")

FIRST_NAMES = (
    "john",
    "mary",
    "james",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "david",
    "maria",
    "daniel",
    "sarah",
    "kevin",
    "aisha",
    "mohammed",
    "wei",
    "yuki",
    "carlos",
    "priya",
    "olga",
    "ahmed",
    "fatima",
    "juan",
    "li",
    "emma",
    "noah",
    "sofia",
    "lucas",
)

# opposite evaluative words, both directions added when loaded (no word
# that is often not evaluative: "like" is a preposition, "cheap" praises a
# price and damns a film, "negative" describes numbers)
_PAIRS = """
good bad; great terrible; excellent awful; best worst; better worse;
love hate; loved hated; loves hates; liked disliked;
happy unhappy; pleased disappointed; satisfied dissatisfied;
recommend avoid; recommended avoided; nice nasty; wonderful horrible;
amazing awful; awesome lousy; fantastic dreadful; perfect flawed;
beautiful ugly; delicious disgusting; tasty bland; fresh stale; hot cold;
clean dirty; friendly rude; polite rude; helpful unhelpful; fast slow;
quick slow; easy difficult;
comfortable uncomfortable; reliable unreliable; sturdy flimsy;
strong weak; funny boring; interesting boring; entertaining dull;
enjoyable unpleasant; enjoyed endured; right wrong;
works fails; worked failed; working broken; success failure;
impressive unimpressive; impressed unimpressed; fun boring;
brilliant stupid; smart dumb; superb poor; outstanding mediocre;
fine bad; decent poor; worth worthless; well badly; pleasant unpleasant;
glad sorry; masterpiece disaster;
gorgeous hideous; clever silly; warm cold; fair unfair; safe dangerous;
affordable overpriced; generous stingy; attentive inattentive;
correct incorrect; sharp blurry; clear unclear;
solid shaky; awesome terrible; wonderful terrible;
excellent poor; good poor; great awful; great bad; love dislike
"""
ANTONYMS = {}
for _pair in _PAIRS.replace("\n", " ").split(";"):
    _a, _b = _pair.split()
    ANTONYMS.setdefault(_a, []).append(_b)
    ANTONYMS.setdefault(_b, []).append(_a)
ANTONYMS = {w: tuple(dict.fromkeys(v)) for w, v in ANTONYMS.items()}
