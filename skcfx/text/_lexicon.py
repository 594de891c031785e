"""Lexical resources learned from the user's corpus: related words (PPMI
co-occurrence embeddings) and which words carry which label (log-odds with
an informative Dirichlet prior)."""

from collections import Counter

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from skcfx.text._resources import ANTONYMS, INTENSIFIERS
from skcfx.text._tokens import tokens

__all__ = ["CorpusLexicon"]

_DETERMINERS = frozenset(
    {"the", "a", "an", "this", "that", "my", "your", "our", "their", "his", "her"}
)


class CorpusLexicon:
    """Word relations of a corpus.

    Related words are nearest neighbours (cosine) in a truncated SVD of the
    positive pointwise mutual information of word co-occurrences within
    ``window`` tokens (Levy and Goldberg's count-based embeddings). With
    labels, each word's association with each class is the z-score of its
    log-odds ratio against the other classes under an informative Dirichlet
    prior (Monroe, Colaresi and Quinn, 2008); a word is *polar* toward a
    class when that z-score reaches ``z_polar``.

    Parameters
    ----------
    window : int
        Co-occurrence window.
    n_components : int
        Embedding dimension (at most the vocabulary size minus one).
    min_count : int
        Words seen fewer times get no embedding and no association.
    z_polar : float
        Association z-score that makes a word polar.
    random_state : int or None
        Seed of the SVD.
    """

    def __init__(
        self, window=2, n_components=50, min_count=2, z_polar=1.96, random_state=0
    ):
        self.window = window
        self.n_components = n_components
        self.min_count = min_count
        self.z_polar = z_polar
        self.random_state = random_state

    def fit(self, texts, y=None):
        docs = [[t.lower() for t in tokens(x) if t[0].isalnum()] for x in texts]
        counts = Counter(w for d in docs for w in d)
        self.counts = counts
        words = sorted(w for w, c in counts.items() if c >= self.min_count)
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}
        self._embed(docs)
        # words seen right after an intensifier: where inserting one is English
        self.after_the = {
            d[i + 1] for d in docs for i in range(len(d) - 1) if d[i] == "the"
        }
        # noun-like words: seen right after a determiner or possessive
        self.nominal = {
            d[i + 1] for d in docs for i in range(len(d) - 1) if d[i] in _DETERMINERS
        }
        self.modifiable = {
            d[i + 1] for d in docs for i in range(len(d) - 1) if d[i] in INTENSIFIERS
        }
        self.classes = None
        self.association = None
        if y is not None:
            self._associate(docs, np.asarray(y))
        return self

    def _embed(self, docs):
        V = len(self.words)
        if V < 3:
            self.vectors = np.zeros((V, 1))
            return
        rows, cols = [], []
        for d in docs:
            ids = [self.index.get(w, -1) for w in d]
            for i, a in enumerate(ids):
                if a < 0:
                    continue
                for j in range(
                    max(0, i - self.window), min(len(ids), i + self.window + 1)
                ):
                    if j != i and ids[j] >= 0:
                        rows.append(a)
                        cols.append(ids[j])
        C = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(V, V), dtype=float
        )
        C.sum_duplicates()
        total = C.sum()
        if total == 0:
            self.vectors = np.zeros((V, 1))
            return
        rs = np.asarray(C.sum(axis=1)).ravel()
        cs = np.asarray(C.sum(axis=0)).ravel() ** 0.75  # context smoothing
        C = C.tocoo()
        pmi = np.log(C.data * total / (rs[C.row] * cs[C.col] * total / cs.sum()))
        keep = pmi > 0
        M = sparse.csr_matrix((pmi[keep], (C.row[keep], C.col[keep])), shape=(V, V))
        k = int(min(self.n_components, V - 1))
        emb = TruncatedSVD(k, random_state=self.random_state).fit_transform(M)
        norm = np.linalg.norm(emb, axis=1, keepdims=True)
        self.vectors = emb / np.maximum(norm, 1e-12)

    def _associate(self, docs, y):
        classes, yi = np.unique(y, return_inverse=True)
        V = len(self.words)
        F = np.zeros((V, len(classes)))
        for d, c in zip(docs, yi):
            for w in d:
                i = self.index.get(w)
                if i is not None:
                    F[i, c] += 1
        prior = F.sum(axis=1) + 0.01  # informative prior: the word's total
        a0 = prior.sum()
        z = np.zeros_like(F)
        for c in range(len(classes)):
            fi, fj = F[:, c], F.sum(axis=1) - F[:, c]
            ni, nj = fi.sum(), fj.sum()
            li = np.log((fi + prior) / (ni + a0 - fi - prior))
            lj = np.log((fj + prior) / (nj + a0 - fj - prior))
            var = 1.0 / (fi + prior) + 1.0 / (fj + prior)
            z[:, c] = (li - lj) / np.sqrt(var)
        self.classes = classes
        self.association = z

    def polarity(self, word):
        """Index of the class ``word`` leans to (z >= z_polar), else -1."""
        if self.association is None:
            return -1
        i = self.index.get(word.lower())
        if i is None:
            return -1
        c = int(np.argmax(self.association[i]))
        return c if self.association[i, c] >= self.z_polar else -1

    def related(self, word, n, min_similarity):
        """Up to ``n`` words nearest ``word`` by cosine (at least
        ``min_similarity``), closest first."""
        i = self.index.get(word.lower())
        if i is None or self.vectors.shape[1] < 2:
            return []
        sim = self.vectors @ self.vectors[i]
        sim[i] = -np.inf
        order = np.argsort(-sim, kind="stable")[: 4 * n]
        out = [
            self.words[j]
            for j in order
            if sim[j] >= min_similarity
            and self.words[j].isalpha()
            and self.words[j] not in ENGLISH_STOP_WORDS
        ]
        return out[:n]

    def antonyms(self, word, n, min_similarity):
        """Opposite words: the bundled pairs, then (with labels) corpus
        words related to ``word`` and polar toward another class than
        ``word``."""
        w = word.lower()
        out = list(ANTONYMS.get(w, ()))
        own = self.polarity(w)
        if own >= 0:
            for r in self.related(w, n, min_similarity):
                if self.polarity(r) not in (-1, own) and r not in out:
                    out.append(r)
        return out

    def synonyms(self, word, n, min_similarity):
        """Related words that lean the same way as ``word`` (both toward
        the same class, or both toward none and both noun-like) and are not
        its bundled opposites."""
        w = word.lower()
        own = self.polarity(w)
        if own < 0 and (self.is_polar(w) or w not in self.nominal):
            # evaluative but the corpus does not say which way, or neither
            # evaluative nor noun-like (verbs, adverbs: "lacking" -> "grill")
            return []
        opposite = set(ANTONYMS.get(w, ()))
        return [
            r
            for r in self.related(w, n, min_similarity)
            if r not in opposite
            and (
                self.polarity(r) == own
                if own >= 0
                else not self.is_polar(r) and r in self.nominal
            )
        ]

    def is_content(self, word):
        """A word the corpus knows that is not a stop word."""
        w = word.lower()
        return w.isalpha() and w in self.index and w not in ENGLISH_STOP_WORDS

    def is_polar(self, word):
        w = word.lower()
        return w in ANTONYMS or self.polarity(w) >= 0
