"""How tabular counterfactuals are shown: text, HTML, JSON and a figure."""

import json

import numpy as np
import pandas as pd

from skcfx.counterfactual._base import STATUS

__all__ = ["DisplayMixin", "fmt"]


class DisplayMixin:
    """Display methods of :class:`CounterfactualExplanations`."""

    def _changed_matrix(self, i):
        rows = np.flatnonzero(self.owner == i)
        return rows, self.space.changed(self.query_codes[i][None, :], self.codes[rows])

    def _downstream_matrix(self, i):
        """Cells of query ``i``'s counterfactuals that an SCM changed as a
        consequence (not intervened on)."""
        rows, changed = self._changed_matrix(i)
        acted = self.space.changed(
            self.query_codes[i][None, :], self.action_codes[rows]
        )
        return changed & ~acted

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
        return fmt(value, self.space.decimals[j])

    def _query_table(self, i, columns):
        """(header line, DataFrame of texts, marks, hidden columns) of query
        ``i``; marks: 1 changed (intervened), 2 changed by the SCM."""
        label = self.queries.index[i]
        header = (
            f"Query {fmt(label)}: predicted {fmt(self.query_prediction[i])}, "
            f"desired {fmt(self.desired[i])} -> {self.status[i]}"
            + (f" ({self.reason[i]})" if self.reason[i] else "")
        )
        rows, changed = self._changed_matrix(i)
        down = self._downstream_matrix(i)
        cols = self._shown_columns(i, columns)
        table = {}
        mark = np.zeros((len(rows) + 1, len(cols)), dtype=int)
        for c, j in enumerate(cols):
            col = [self._cell(j, self.queries.iloc[i, j])]
            for rr, row in enumerate(rows):
                if changed[rr, j]:
                    col.append(self._cell(j, self._rows.iloc[row, j]))
                    mark[rr + 1, c] = 2 if down[rr, j] else 1
                else:
                    col.append("-")
            table[self.feature_names[j]] = col
        if len(rows):
            table["prediction"] = [fmt(self.query_prediction[i])] + [
                fmt(p) for p in self.prediction[rows]
            ]
            table["valid"] = [""] + [str(bool(v)) for v in self.valid[rows]]
        index = ["query"] + [f"cf {r}" for r in self.rank[rows]]
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
            Changed cells are marked ``*``, unchanged ones ``-``; with causal
            recourse, cells the SCM changed as a consequence of the
            interventions are marked ``~``; numbers are shown with their
            column's own precision.
        """
        lines = []
        for i in range(self.n_queries):
            header, frame, mark, hidden = self._query_table(i, columns)
            lines.append(header)
            shown = frame.copy()
            for c in range(mark.shape[1]):
                col = shown.iloc[:, c].to_numpy(dtype=object)
                for level, sign in ((1, "*"), (2, "~")):
                    hit = mark[:, c] == level
                    col[hit] = [f"{v} {sign}" for v in col[hit]]
                shown.isetitem(c, col)
            lines.append(shown.to_string(line_width=line_width))
            if hidden:
                lines.append(f"({hidden} unchanged columns not shown)")
            lines.append("")
        if self.causal:
            lines.append(
                "(* intervention, ~ changed by the SCM as a consequence, - unchanged)"
            )
        else:
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
                    level = mark[r, c] if c < mark.shape[1] else 0
                    style = {
                        0: "",
                        1: " style='background:#ffe08a;font-weight:bold'",
                        2: " style='background:#cfe3ff;font-style:italic'",
                    }[int(level)]
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
            f"{found} with counterfactuals, {int(self.valid.sum())} valid "
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
                    "counterfactuals": records(self.to_frame()[self.owner == i]),
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
        (long category names wrapped, never cut); with causal recourse a
        cell the SCM changed as a consequence of the interventions is
        annotated ``(SCM)``.

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
        down = self._downstream_matrix(query)
        cols = self._shown_columns(query, columns)
        texts = [[self._cell(j, self.queries.iloc[query, j]) for j in cols]]
        for rr, row in enumerate(rows):
            texts.append(
                [
                    (
                        self._cell(j, self._rows.iloc[row, j])
                        + (" (SCM)" if down[rr, j] else "")
                    )
                    if changed[rr, j]
                    else "-"
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
            raw = (self.codes[rows] - self.query_codes[query]) / self.space.mad
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
            range(len(rows) + 1), ["query"] + [f"cf {r}" for r in self.rank[rows]]
        )
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label("change (MADs; categories: 1 = changed)", fontsize=7)
        ax.set_title(
            f"Query {fmt(self.queries.index[query])}: "
            f"{fmt(self.query_prediction[query])} -> "
            f"{fmt(self.desired[query])} ({self.status[query]})",
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


def fmt(v, decimals=None):
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
        return "(" + ", ".join(fmt(x) for x in v) + ")"
    return str(v)
