"""A chunk of queries searched together, and the cost of a candidate.

:class:`Problem` holds the queries' codes, admissible boxes, targets, the
oracle, the cost weights and one random generator per query. Each generator
is seeded from the explainer's seed and the query's own values
(:func:`query_seed`), so a query's result does not depend on which other
queries share the batch, nor on ``n_jobs``. :meth:`Problem.cost` is the one
cost function of every search.
"""

import hashlib

import numpy as np

__all__ = ["Problem", "cost", "query_seed"]


def query_seed(base_seed, z):
    """Seed of one query: explainer seed plus a hash of the query's codes."""
    digest = hashlib.blake2b(
        np.ascontiguousarray(z, dtype=np.float64).tobytes(), digest_size=8
    ).digest()
    return np.random.SeedSequence([int(base_seed), int.from_bytes(digest, "little")])


class Problem:
    """A chunk of queries searched together.

    Attributes
    ----------
    Zq : ndarray (n, d)
        Coded queries.
    bounds : QueryBounds
    target, orig : ndarray of int
        Desired class index (-1: any class but ``orig``) and the query's
        predicted class index (classification).
    low, high : ndarray of float
        Desired range (regression).
    groups : list of list of int
        Training-row groups (predicted class indices; 1 = in the desired
        range) that reach each query's desired outcome.
    rngs : list of numpy Generators, one per query.
    """

    def __init__(
        self,
        Zq,
        bounds,
        space,
        oracle,
        *,
        target=None,
        orig=None,
        low=None,
        high=None,
        groups=None,
        base_seed=0,
        k=4,
        proximity_weight=1.0,
        sparsity_weight=1.0,
        diversity_weight=0.25,
        patience=3,
        min_separation=0.0,
        manifold=None,
        plausibility_weight=0.0,
        plausibility_neighbors=5,
    ):
        self.Zq = Zq
        self.bounds = bounds
        self.space = space
        self.oracle = oracle
        n = Zq.shape[0]
        self.target = target if target is not None else np.zeros(n, dtype=int)
        self.orig = orig if orig is not None else np.zeros(n, dtype=int)
        self.low = low if low is not None else np.zeros(n)
        self.high = high if high is not None else np.zeros(n)
        # admissible outcome groups per query (several for "any other class")
        self.groups = groups if groups is not None else [[int(t)] for t in self.target]
        self.rngs = [np.random.default_rng(query_seed(base_seed, z)) for z in Zq]
        self.k = k
        self.patience = patience
        self.best_loss = np.full(n, np.inf)
        self.any_valid = np.zeros(n, dtype=bool)
        self.unreachable = np.zeros(n, dtype=bool)
        # proved to have no counterfactual by the model's own program (a
        # heuristic search's seeds; the exact search has its certificates)
        self.proved_infeasible = np.zeros(n, dtype=bool)
        self.rounds = np.zeros(n, dtype=int)
        self.query_loss = None
        self.certificates = {}  # exact search: query index -> certificate
        self.proximity_weight = proximity_weight
        self.sparsity_weight = sparsity_weight
        self.diversity_weight = diversity_weight
        # in units of space.distance (the mixed distance divided by d)
        self.min_separation = min_separation
        self.manifold = manifold
        self.plausibility_weight = plausibility_weight
        self.plausibility_neighbors = plausibility_neighbors
        self._reference = None  # each query's nearest desired-outcome rows

    _STATE = ("best_loss", "any_valid", "unreachable", "proved_infeasible", "rounds")

    def __setstate__(self, state):
        # a problem shipped to a worker may arrive with read-only arrays (a
        # joblib memmap, ray's object store): the search's own state is
        # written to, so it gets fresh copies
        self.__dict__.update(state)
        for name in self._STATE:
            setattr(self, name, np.array(getattr(self, name)))

    @property
    def n(self):
        return self.Zq.shape[0]

    def note_progress(self, qidx, loss, valid, patience=None):
        """Track each query's best loss; say which look unreachable.

        Parameters
        ----------
        qidx : ndarray of int (q,)
        loss, valid : ndarray (q, m)
            This round's candidates of those queries.
        patience : int, default=None
            Rounds without any progress before giving up (``self.patience``
            by default; a method with few, large rounds passes fewer).

        Returns
        -------
        stop : ndarray of bool (q,)
            Queries with no valid candidate so far for which, after
            ``patience`` rounds, no candidate has moved the model's output
            any closer to the desired outcome than the query itself is (a
            model that does not respond to any admissible change, such as a
            constant one, or one that depends only on frozen features): they
            are marked in ``self.unreachable`` and should not be searched
            further, so a batch of hopeless queries costs about one round.
            A query whose candidates do move the model keeps its full budget,
            however slowly it progresses.
        """
        best = np.where(valid, -np.inf, loss).min(axis=1)
        self.any_valid[qidx] |= valid.any(axis=1)
        self.best_loss[qidx] = np.minimum(self.best_loss[qidx], best)
        self.rounds[qidx] += 1
        patience = self.patience if patience is None else patience
        stop = ~self.any_valid[qidx] & (self.rounds[qidx] > patience)
        if stop.any():
            if self.query_loss is None:  # one model call, only when needed
                _, self.query_loss = self.evaluate(self.Zq, np.arange(self.n))
            own = self.query_loss[qidx]
            tol = 1e-9 * np.maximum(1.0, np.abs(own))
            stop &= self.best_loss[qidx] >= own - tol  # never moved the model
        self.unreachable[qidx[stop]] = True
        return stop

    def evaluate(self, Z, owner):
        return self.oracle(Z, owner, self)

    def cost(self, Z, owner):
        """Cost of candidates with this problem's weights (see
        :func:`cost`), plus ``plausibility_weight`` times the mean distance
        of the row they amount to (the candidate, or with an SCM the
        consequence of its interventions) to the nearest desired-outcome
        training rows; lower is better."""
        Zq = self.Zq[owner]
        c = cost(self.space, Zq, Z, self.proximity_weight, self.sparsity_weight)
        if self.plausibility_weight > 0 and self.manifold is not None and len(Z):
            rows = self.oracle.consequence(Zq, Z)
            c = c + self.plausibility_weight * self.plausibility(rows, owner)
        return c

    def plausibility(self, rows, owner):
        """Mean distance of ``rows`` to the ``plausibility_neighbors``
        nearest desired-outcome training rows among their query's local
        reference rows (see :class:`~skcfx.counterfactual._engine.manifold.
        Manifold`)."""
        if self._reference is None:
            self._reference = self.manifold.local(self.Zq, self.groups)
        return self.manifold.local_distance(
            self._reference, rows, owner, self.plausibility_neighbors
        )


def cost(space, Zq, Z, proximity_weight=1.0, sparsity_weight=1.0):
    """The cost of counterfactuals ``Z`` of queries ``Zq``, the one formula
    of every search and of the results' fixed ruler (unit weights):
    ``proximity_weight * distance(query, c) + sparsity_weight * n_changed /
    n_features``."""
    dist = space.distance(Zq, Z)
    nchg = space.changed(Zq, Z).sum(axis=-1)
    return proximity_weight * dist + sparsity_weight * nchg / space.n_features
