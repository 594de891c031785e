"""Result object of :meth:`CounterfactualExplainer.explain`."""

import json

import numpy as np
import pandas as pd

__all__ = ["CounterfactualExplanations", "STATUS"]

STATUS = {
    "found": "found",
    "infeasible": "infeasible under constraints",
    "exhausted": "search budget exhausted",
    "already": "query already has the desired outcome",
    "unreachable": "unreachable within budget",
    "failed": "model failed on the query",
    "evaluated": "evaluated",
}


class CounterfactualExplanations:
    """Counterfactuals of a batch of queries, with their checks and metrics.

    Returned by :meth:`CounterfactualExplainer.explain`; not built by hand.

    Attributes
    ----------
    queries : DataFrame
        The queries as given (a copy), index preserved.
    counterfactuals : list of DataFrame
        One per query, best first, in the caller's columns and dtypes
        (empty when none was found).
    status : ndarray of str, shape (n_queries,)
        ``"found"``, ``"infeasible under constraints"``, ``"search budget
        exhausted"`` or ``"query already has the desired outcome"``.
    query_prediction : ndarray
        The model's prediction for each query.
    desired : ndarray
        Desired class per query (``"opposite"`` resolved; for multi-class
        "opposite" the string ``"not <class>"``), or the desired range.
    n_requested : int
        Counterfactuals requested per query (``n_counterfactuals``).
    metrics : DataFrame
        Per-query metrics (see :mod:`skcfx.metrics`).
    summary : dict
        Aggregate metrics.
    seconds : float
        Wall time of :meth:`CounterfactualExplainer.explain` (NaN for
        :meth:`~CounterfactualExplainer.evaluate`).
    """

    def __init__(
        self,
        *,
        queries,
        space,
        constraints,
        Zq,
        Z,
        owner,
        rank,
        prediction,
        probability,
        valid,
        cell_violations,
        predicate_ok,
        plausibility,
        status,
        reason,
        query_prediction,
        desired,
        n_requested,
        task,
        feature_names,
        seconds=float("nan"),
    ):
        self.queries = queries
        self.space = space
        self.constraints = constraints
        self._Zq = Zq
        self._Z = Z
        self._owner = owner
        self._rank = rank
        self._prediction = prediction
        self._probability = probability
        self._valid = valid
        self._cell_violations = cell_violations
        self._predicate_ok = predicate_ok
        self._plausibility = plausibility
        self.status = status
        self.reason = reason
        self.query_prediction = query_prediction
        self.desired = desired
        self.n_requested = n_requested
        self.task = task
        self.feature_names = list(feature_names)
        self.seconds = seconds  # wall time of the search that made them
        self._frame = (
            space.decode(Z) if len(Z) else space.decode(np.zeros((0, space.n_features)))
        )

    # ----------------------------------------------------------- accessors
    @property
    def n_queries(self):
        return len(self.queries)

    def __len__(self):
        return self.n_queries

    @property
    def counterfactuals(self):
        out = []
        for i in range(self.n_queries):
            rows = np.flatnonzero(self._owner == i)
            cf = self._frame.iloc[rows].reset_index(drop=True)
            out.append(cf)
        return out

    def __getitem__(self, i):
        """Counterfactuals of query ``i`` (position) as a DataFrame."""
        return self.counterfactuals[i]

    def to_frame(self):
        """Long DataFrame of every counterfactual in the raw feature space.

        Returns
        -------
        frame : DataFrame
            The caller's columns with their dtypes, plus ``query`` (the
            query row's index label), ``rank`` (0 = best), ``prediction``,
            ``probability`` (of the predicted class, classification only)
            and ``valid``.
        """
        frame = self._frame.reset_index(drop=True).copy()
        # the query column has the dtype of the queries' index
        frame.insert(0, "query", self.queries.index[self._owner].to_numpy())
        frame.insert(1, "rank", self._rank.astype(int))
        frame["prediction"] = self._prediction
        if self.task == "classification":
            frame["probability"] = self._probability
        frame["valid"] = self._valid.astype(bool)
        return frame

    # ------------------------------------------------------------- metrics
    def _per_query_diversity(self):
        out = np.full(self.n_queries, np.nan)
        for i in range(self.n_queries):
            rows = np.flatnonzero((self._owner == i) & self._valid)
            r = len(rows)
            if r < 2:
                continue
            Z = self._Z[rows]
            d = self.space.distance(Z[:, None, :], Z[None, :, :])
            out[i] = d[np.triu_indices(r, 1)].mean()
        return out

    @property
    def metrics(self):
        """Per-query metrics as a DataFrame indexed like the queries."""
        n = self.n_queries
        space = self.space
        Zq = self._Zq[self._owner]
        dist = space.distance(Zq, self._Z) if len(self._Z) else np.zeros(0)
        nchg = space.changed(Zq, self._Z).sum(axis=1) if len(self._Z) else np.zeros(0)
        viol = self._cell_violations.sum(axis=1) + (~self._predicate_ok)

        def per_query(values, only_valid=True, agg=np.mean):
            out = np.full(n, np.nan)
            for i in range(n):
                sel = self._owner == i
                if only_valid:
                    sel &= self._valid
                if sel.any():
                    out[i] = agg(values[sel])
            return out

        counts = np.bincount(self._owner[self._valid], minlength=n)
        return pd.DataFrame(
            {
                "status": self.status,
                "n_valid": counts,
                "validity": counts / max(self.n_requested, 1),
                "proximity": per_query(dist),
                "sparsity": per_query(nchg.astype(float)),
                "diversity": self._per_query_diversity(),
                "plausibility": per_query(self._plausibility),
                "constraint_violations": np.nan_to_num(
                    per_query(viol.astype(float), only_valid=False, agg=np.sum)
                ).astype(int),
            },
            index=self.queries.index,
        )

    @property
    def summary(self):
        """Aggregate metrics (see :mod:`skcfx.metrics`)."""
        from skcfx import metrics as m

        return {
            "n_queries": self.n_queries,
            "validity": m.validity(self),
            "coverage": m.coverage(self),
            "proximity": m.proximity(self),
            "proximity_continuous": m.proximity_continuous(self),
            "proximity_categorical": m.proximity_categorical(self),
            "sparsity": m.sparsity(self),
            "diversity": m.diversity(self),
            "plausibility": m.plausibility(self),
            "constraint_violations": m.constraint_violations(self),
        }

    def score(self):
        """One number on a fixed ruler, higher is better.

        ``score = validity - mean over valid counterfactuals of
        (dist(x, c) + n_changed(x, c) / d)``, with ``dist`` the MAD-scaled
        mixed distance of :mod:`skcfx.metrics` and unit weights that do
        **not** depend on the explainer's ``proximity_weight`` or
        ``sparsity_weight``: tuning those weights, the method or the search
        budget with :class:`~sklearn.model_selection.GridSearchCV` compares
        every configuration on the same ruler (a score built from the
        explainer's own weights would simply favour the smallest weights).
        ``validity`` counts missing counterfactuals as failures (coverage
        enters through it); queries that already have the desired outcome
        are left out. 0 when no counterfactual is valid.

        Returns
        -------
        score : float
        """
        from skcfx.metrics import validity

        v = self._valid
        if not v.any():
            return 0.0
        Zq = self._Zq[self._owner[v]]
        cost = (
            self.space.distance(Zq, self._Z[v])
            + self.space.changed(Zq, self._Z[v]).sum(axis=1) / self.space.n_features
        )
        value = validity(self)
        return float((0.0 if np.isnan(value) else value) - cost.mean())

    # ------------------------------------------------------------- display
    def _changed_matrix(self, i):
        rows = np.flatnonzero(self._owner == i)
        return rows, self.space.changed(self._Zq[i][None, :], self._Z[rows])

    def _shown_columns(self, i, columns):
        """Column positions to display for query ``i``."""
        if isinstance(columns, str) and columns == "all":
            return list(range(len(self.feature_names)))
        if isinstance(columns, str) and columns == "changed":
            _, changed = self._changed_matrix(i)
            cols = list(np.flatnonzero(changed.any(axis=0)))
            return cols or list(range(len(self.feature_names)))
        if isinstance(columns, str):
            columns = [columns]
        pos = {n: j for j, n in enumerate(self.feature_names)}
        unknown = [c for c in columns if str(c) not in pos]
        if unknown:
            raise ValueError(
                f"columns names unknown columns {unknown}; use 'changed', 'all' "
                f"or names from {self.feature_names}."
            )
        return [pos[str(c)] for c in columns]

    def _cell(self, j, value):
        return _fmt(value, self.space.decimals[j])

    def _query_table(self, i, columns):
        """(header line, DataFrame of texts, changed mask) of query ``i``."""
        label = self.queries.index[i]
        header = (
            f"Query {_fmt(label)}: predicted {_fmt(self.query_prediction[i])}, "
            f"desired {_fmt(self.desired[i])} -> {self.status[i]}"
            + (f" ({self.reason[i]})" if self.reason[i] else "")
        )
        rows, changed = self._changed_matrix(i)
        cols = self._shown_columns(i, columns)
        table = {}
        mark = np.zeros((len(rows) + 1, len(cols)), dtype=bool)
        for c, j in enumerate(cols):
            col = [self._cell(j, self.queries.iloc[i, j])]
            for rr, row in enumerate(rows):
                if changed[rr, j]:
                    col.append(self._cell(j, self._frame.iloc[row, j]))
                    mark[rr + 1, c] = True
                else:
                    col.append("-")
            table[self.feature_names[j]] = col
        if len(rows):
            table["prediction"] = [_fmt(self.query_prediction[i])] + [
                _fmt(p) for p in self._prediction[rows]
            ]
            table["valid"] = [""] + [str(bool(v)) for v in self._valid[rows]]
        index = ["query"] + [f"cf {r}" for r in self._rank[rows]]
        frame = pd.DataFrame(table, index=index)
        hidden = len(self.feature_names) - len(cols)
        return header, frame, mark, hidden

    def to_string(self, columns="changed", line_width=100):
        """Readable text of every query and its counterfactuals.

        Parameters
        ----------
        columns : "changed", "all" or list of str, default="changed"
            Feature columns to show: those that some counterfactual of the
            query changes (all when none does), every column, or the named
            ones.
        line_width : int, default=100
            Tables wider than this are wrapped onto several blocks.

        Returns
        -------
        text : str
            Changed cells are marked ``*``, unchanged ones ``-``; numbers are
            shown with their column's own precision.
        """
        lines = []
        for i in range(self.n_queries):
            header, frame, mark, hidden = self._query_table(i, columns)
            lines.append(header)
            shown = frame.copy()
            for c in range(mark.shape[1]):
                col = shown.iloc[:, c].to_numpy(dtype=object)
                col[mark[:, c]] = [f"{v} *" for v in col[mark[:, c]]]
                shown.isetitem(c, col)
            lines.append(shown.to_string(line_width=line_width))
            if hidden:
                lines.append(f"({hidden} unchanged columns not shown)")
            lines.append("")
        lines.append("(* changed value, - unchanged)")
        s = self.summary
        lines.append(
            "validity {validity:.3f}, coverage {coverage:.3f}, proximity "
            "{proximity:.3f} MAD, sparsity {sparsity:.2f} features,\n"
            "diversity {diversity:.3f}, violations {constraint_violations}".format(**s)
        )
        return "\n".join(lines)

    def __str__(self):
        return self.to_string()

    def _repr_html_(self, columns="changed"):
        """Notebook display: one styled table per query, changed cells
        highlighted."""
        import html as _html

        parts = ["<div class='skcfx-explanations'>"]
        for i in range(self.n_queries):
            header, frame, mark, hidden = self._query_table(i, columns)
            parts.append(f"<p><b>{_html.escape(header)}</b></p>")
            parts.append("<table border='1' style='border-collapse:collapse'>")
            parts.append(
                "<thead><tr><th></th>"
                + "".join(f"<th>{_html.escape(str(c))}</th>" for c in frame.columns)
                + "</tr></thead><tbody>"
            )
            for r, (label, row) in enumerate(frame.iterrows()):
                cells = []
                for c, v in enumerate(row):
                    hit = c < mark.shape[1] and mark[r, c]
                    style = (
                        " style='background:#ffe08a;font-weight:bold'" if hit else ""
                    )
                    cells.append(f"<td{style}>{_html.escape(str(v))}</td>")
                parts.append(
                    f"<tr><th>{_html.escape(str(label))}</th>{''.join(cells)}</tr>"
                )
            parts.append("</tbody></table>")
            if hidden:
                parts.append(f"<p><i>{hidden} unchanged columns not shown</i></p>")
        s = self.summary
        parts.append(
            "<p>validity {validity:.3f}, coverage {coverage:.3f}, proximity "
            "{proximity:.3f} MAD, sparsity {sparsity:.2f} features</p>".format(**s)
        )
        parts.append("</div>")
        return "".join(parts)

    def __repr__(self):
        found = int((self.status == STATUS["found"]).sum())
        return (
            f"<CounterfactualExplanations: {self.n_queries} queries, "
            f"{found} with counterfactuals, {int(self._valid.sum())} valid "
            f"counterfactuals>"
        )

    def to_json(self, path=None, **kwargs):
        """Serialise queries, counterfactuals, statuses and metrics as JSON.

        Parameters
        ----------
        path : str or path-like, default=None
            Write there when given.
        **kwargs
            Passed to :func:`json.dumps` (for example ``indent=2``).

        Returns
        -------
        text : str
        """

        def records(df):
            return json.loads(df.to_json(orient="records", date_format="iso"))

        payload = {
            "feature_names": self.feature_names,
            "n_requested": self.n_requested,
            "queries": [
                {
                    "index": _jsonable(self.queries.index[i]),
                    "values": records(self.queries.iloc[[i]])[0],
                    "prediction": _jsonable(self.query_prediction[i]),
                    "desired": _jsonable(self.desired[i]),
                    "status": str(self.status[i]),
                    "counterfactuals": records(self.to_frame()[self._owner == i]),
                }
                for i in range(self.n_queries)
            ],
            "summary": {k: _jsonable(v) for k, v in self.summary.items()},
        }
        text = json.dumps(payload, **kwargs)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    def plot(self, query=0, ax=None, columns="changed"):
        """Changed cells of one query's counterfactuals as a coloured table.

        Cells are coloured by the signed change in MAD units (numeric) or
        marked when the category changes, and annotated with the new value
        (long category names wrapped, never cut).

        Parameters
        ----------
        query : int, default=0
            Position of the query.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure, sized to the texts, when None.
        columns : "changed", "all" or list of str, default="changed"
            Feature columns to show (see :meth:`to_string`).

        Returns
        -------
        ax : matplotlib Axes
        """
        import textwrap

        import matplotlib.pyplot as plt

        rows, changed = self._changed_matrix(query)
        cols = self._shown_columns(query, columns)
        texts = [[self._cell(j, self.queries.iloc[query, j]) for j in cols]]
        for rr, row in enumerate(rows):
            texts.append(
                [
                    self._cell(j, self._frame.iloc[row, j]) if changed[rr, j] else "-"
                    for j in cols
                ]
            )
        texts = [
            [
                textwrap.fill(t, 14, break_on_hyphens=False, break_long_words=False)
                for t in line
            ]
            for line in texts
        ]
        widest = max(
            (len(part) for line in texts for t in line for part in t.split("\n")),
            default=4,
        )
        n_lines = max((t.count("\n") + 1 for line in texts for t in line), default=1)
        if ax is None:
            _, ax = plt.subplots(
                figsize=(
                    max(0.085 * widest, 0.9) * len(cols) + 1.5,
                    (0.3 + 0.2 * n_lines) * (len(rows) + 1) + 1.4,
                )
            )
        delta = np.zeros((len(rows) + 1, len(cols)))
        if len(rows):
            raw = (self._Z[rows] - self._Zq[query]) / self.space.mad
            raw[:, self.space.categorical] = changed[:, self.space.categorical]
            delta[1:] = (np.clip(raw, -3, 3) * changed)[:, cols]
        image = ax.imshow(delta, cmap="coolwarm", vmin=-3, vmax=3, aspect="auto")
        for r, line in enumerate(texts):
            for c, t in enumerate(line):
                ax.text(c, r, t, ha="center", va="center", fontsize=8)
        ax.set_xticks(
            range(len(cols)),
            [self.feature_names[j] for j in cols],
            rotation=30,
            ha="right",
        )
        ax.set_yticks(
            range(len(rows) + 1), ["query"] + [f"cf {r}" for r in self._rank[rows]]
        )
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label("change (MADs; categories: 1 = changed)", fontsize=7)
        ax.set_title(
            f"Query {_fmt(self.queries.index[query])}: "
            f"{_fmt(self.query_prediction[query])} -> "
            f"{_fmt(self.desired[query])} ({self.status[query]})",
            fontsize=9,
        )
        return ax


def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    return v


def _fmt(v, decimals=None):
    """Short readable text of a cell value, in its column's own precision
    (``decimals``) when known; never scientific notation for ordinary
    magnitudes (``44360``, not ``4.436e+04``)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if np.isnan(v):
            return "NaN"
        if decimals is not None:
            return f"{v:,.{decimals}f}" if abs(v) >= 1e4 else f"{v:.{decimals}f}"
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}" if abs(v) >= 1e4 else str(int(v))
        if 1e-3 <= abs(v) < 1e4:
            return f"{v:.4g}"
        if 1e4 <= abs(v) < 1e15:
            return f"{v:,.0f}"
        return f"{v:.3g}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    return str(v)
