"""Result object of :meth:`TextCounterfactualExplainer.explain`."""

import numpy as np
import pandas as pd

from skcfx.counterfactual._base import STATUS, BaseCounterfactualExplanations
from skcfx.counterfactual._text.edits import TOKEN

__all__ = ["TextCounterfactualExplanations"]

# the explainer's edit operations by their Polyjuice control codes
_CODE = {"replace": "lexical", "negate": "negation", "delete": "delete"}


class TextCounterfactualExplanations(BaseCounterfactualExplanations):
    """Edited sentences that change a text classifier's prediction.

    Returned by :meth:`TextCounterfactualExplainer.explain`; not built by
    hand. Shares the API of every skcfx result (``status``, ``owner``,
    ``rank``, ``valid``, :meth:`best_index`, :meth:`validity`,
    :meth:`coverage`, :meth:`score`, ``to_frame()``, ``metrics``,
    ``plot()``).

    Attributes
    ----------
    queries : list of str
        The sentences as given.
    texts : list of str
        The edited sentence of each counterfactual.
    edits : list of str
        Readable edits of each counterfactual (``"'good' -> 'poor'"``).
    edit_list : list of list of tuple
        Edits as ``(token position, operation, new word)`` on the query's
        tokens.
    n_edits : ndarray of int
        Edits per counterfactual.
    codes : list of str
        Control codes of each counterfactual's edits (``"lexical"`` for a
        replaced word, ``"negation"`` for an inserted "not", ``"delete"``),
        comma-separated.
    fluency : ndarray of float
        Log perplexity ratio of each counterfactual against its query under
        the explainer's corpus language model
        (:meth:`skcfx.text.NGramLanguageModel.fluency`): 0 as fluent as the
        original sentence, negative less fluent, ``-log(2)`` twice its
        perplexity.

    Notes
    -----
    The fixed-ruler cost of :meth:`score` is the fraction of the query's
    words that the counterfactual edits.
    """

    def __init__(
        self, *, queries, texts, edits, edit_list, n_words, fluency=None, **common
    ):
        self.queries = list(queries)
        self.texts = list(texts)
        self.edits = list(edits)
        self.edit_list = [list(e) for e in edit_list]
        self.n_edits = np.array([len(e) for e in self.edit_list], dtype=int)
        self.codes = [
            ", ".join(sorted({_CODE[op] for _, op, _ in e})) for e in self.edit_list
        ]
        self.fluency = (
            np.full(len(self.texts), np.nan)
            if fluency is None
            else np.asarray(fluency, dtype=float)
        )
        self._n_words = np.asarray(n_words, dtype=float)
        self._init_common(**common)

    def _row_keys(self):
        return self.texts

    def _cost(self):
        return self.n_edits / np.maximum(self._n_words[self.owner], 1.0)

    def best(self):
        """Best counterfactual sentence of each query.

        Returns
        -------
        texts : Series of str, indexed like the queries
            The valid counterfactual of lowest rank; the query itself where
            it already has the desired class; None where none was found.
        """
        best = self.best_index()
        out = np.array(
            [
                self.texts[b] if b >= 0 else (q if s == STATUS["already"] else None)
                for b, q, s in zip(best, self.queries, self.status)
            ],
            dtype=object,
        )
        return pd.Series(out, index=self.index, name="counterfactual")

    def to_frame(self):
        """One row per counterfactual sentence.

        Returns
        -------
        frame : DataFrame
            ``query`` (the query's index label), ``rank``, ``text``,
            ``edits`` (readable), ``edit_list``, ``n_edits``, ``codes``,
            ``fluency``, ``prediction`` and ``probability`` (re-predicted
            by the model) and ``valid``.
        """
        return pd.DataFrame(
            {
                "query": self.index[self.owner].to_numpy(),
                "rank": self.rank,
                "text": pd.Series(self.texts, dtype=object),
                "edits": pd.Series(self.edits, dtype=object),
                "edit_list": pd.Series(self.edit_list, dtype=object),
                "n_edits": self.n_edits,
                "codes": pd.Series(self.codes, dtype=object),
                "fluency": self.fluency,
                "prediction": self.prediction,
                "probability": self.probability,
                "valid": self.valid,
            }
        )

    @property
    def metrics(self):
        """Per-query metrics indexed like the queries: ``status``,
        ``n_valid``, ``validity`` (valid / requested), ``n_edits``,
        ``edited_fraction`` and ``fluency`` of the best counterfactual (NaN
        where none)."""
        n = self.n_queries
        best = self.best_index()
        counts = np.bincount(self.owner[self.valid], minlength=n)
        n_edits = np.full(n, np.nan)
        frac = np.full(n, np.nan)
        fluency = np.full(n, np.nan)
        has = best >= 0
        n_edits[has] = self.n_edits[best[has]]
        frac[has] = self._cost()[best[has]]
        fluency[has] = self.fluency[best[has]]
        return pd.DataFrame(
            {
                "status": self.status,
                "n_valid": counts,
                "validity": counts / max(self.n_requested, 1),
                "n_edits": n_edits,
                "edited_fraction": frac,
                "fluency": fluency,
            },
            index=self.index,
        )

    @property
    def summary(self):
        """Aggregate metrics: validity, coverage, mean edits of the valid
        counterfactuals and of each query's best one, and the mean fluency
        of the best ones."""
        m = self.metrics
        return {
            "n_queries": self.n_queries,
            "validity": self.validity(),
            "coverage": self.coverage(),
            "n_edits": float(self.n_edits[self.valid].mean())
            if self.valid.any()
            else float("nan"),
            "n_edits_best": float(m["n_edits"].mean())
            if m["n_edits"].notna().any()
            else float("nan"),
            "fluency_best": float(m["fluency"].mean())
            if m["fluency"].notna().any()
            else float("nan"),
        }

    def plot(self, query=0, ax=None, *, color="gold", fontsize=10):
        """The query and its counterfactuals, one per line, with the edited
        words highlighted (the touched words in the query, the new words in
        each counterfactual).

        Parameters
        ----------
        query : int, default=0
            Position of the query.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        color : str, default="gold"
            Highlight colour.
        fontsize : float, default=10
            Font size.

        Returns
        -------
        ax : matplotlib Axes
        """
        from skcfx.counterfactual._text.edits import tokens
        from skcfx.feature_selection import plot_text_selection

        rows = np.flatnonzero(self.owner == query)
        rows = rows[np.argsort(self.rank[rows], kind="stable")]
        toks = tokens(self.queries[query])
        lines = [self.queries[query]] + [self.texts[r] for r in rows]
        marked = [{toks[p].lower() for r in rows for p, _, _ in self.edit_list[r]}]
        for r in rows:
            marked.append(
                {w.lower() for _, op, w in self.edit_list[r] if op != "delete"}
            )
        vocab = sorted(set().union(*marked)) or [""]
        mask = np.array([[w in m for w in vocab] for m in marked], dtype=bool)
        labels = ["query"] + [f"cf {self.rank[r]} ({self.prediction[r]})" for r in rows]
        ax = plot_text_selection(
            [f"{lab}: {line}" for lab, line in zip(labels, lines)],
            mask,
            vocab,
            ax=ax,
            token_pattern=TOKEN.pattern,
            color=color,
            fontsize=fontsize,
        )
        ax.set_title(
            f"Query {self.index[query]}: {self.query_prediction[query]} -> "
            f"{self.desired[query]} ({self.status[query]})",
            fontsize=fontsize,
        )
        return ax

    def __repr__(self):
        found, n_valid = self._status_counts()
        return (
            f"<TextCounterfactualExplanations: {self.n_queries} queries, "
            f"{found} with counterfactuals, {n_valid} valid>"
        )
