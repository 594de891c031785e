"""Causal recourse in the coded space: a candidate is a set of interventions.

:class:`CodedSCM` wraps a fitted
:class:`~skcfx.causal.StructuralCausalModel` for the searches: a candidate
row ``z`` of query ``q`` intervenes on the cells where it differs from
``q``; :meth:`CodedSCM.apply` returns the row the SCM makes of them (the
descendants recomputed with the query's abducted noise, rounded to their
columns' grids). The oracle judges that resulting row, while the cost
counts only the interventions.
"""

import numpy as np

__all__ = ["CodedSCM"]


class CodedSCM:
    """A fitted SCM acting on coded rows of a feature space.

    Parameters
    ----------
    scm : StructuralCausalModel
        Fitted, over (a subset of) the space's columns.
    space : FeatureSpace
    """

    def __init__(self, scm, space):
        names = list(space.names)
        missing = [c for c in scm._names if c not in names]
        if missing:
            raise ValueError(
                f"scm was fitted on columns {missing} that the explainer does "
                f"not have (its columns: {names})."
            )
        self.scm = scm
        self.space = space
        # columns whose change can move another column
        parents = {p for ps in scm.parents_.values() for p in ps}
        self.causes = np.array([names.index(c) for c in parents], dtype=int)
        self.effects = np.array([names.index(c) for c in scm.parents_], dtype=int)

    def apply(self, Zq, Z):
        """Resulting rows of candidates ``Z`` (interventions) of queries
        ``Zq`` (aligned row by row)."""
        space = self.space
        out = np.array(Z, dtype=float, copy=True)
        if len(Z) == 0 or len(self.causes) == 0:
            return out
        mask = space.changed(Zq, Z)
        need = np.flatnonzero(mask[:, self.causes].any(axis=1))
        if len(need) == 0:
            return out
        # the same intervention on the same query is computed once
        key = np.hstack([Zq[need], Z[need]])
        uniq, first, inv = np.unique(
            key, axis=0, return_index=True, return_inverse=True
        )
        rows = need[first]
        factual = space.decode(Zq[rows])
        values = space.decode(Z[rows])
        result = self.scm.propagate(factual, values, mask[rows])
        coded = space.round(space.encode(result), Zq[rows])
        # intervened cells keep the candidate's exact values
        coded = np.where(mask[rows], Z[rows], coded)
        out[need] = coded[inv.ravel()]
        return out

    def downstream(self, Zq, Z, rows):
        """Cells the SCM changed (changed in ``rows`` but not intervened in
        ``Z``)."""
        space = self.space
        return space.changed(Zq, rows) & ~space.changed(Zq, Z)
