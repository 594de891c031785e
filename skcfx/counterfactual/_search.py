"""Machinery shared by every counterfactual search.

* :class:`Oracle` scores a batch of coded candidates with **one** call to the
  model (``predict_proba``, ``decision_function`` or ``predict``) plus the
  user predicates, and says which candidates reach the desired outcome.
* :class:`Problem` holds a chunk of queries: their codes, admissible boxes,
  targets and one random generator per query. Each generator is seeded from
  the explainer's seed and the query's own values, so a query's result does
  not depend on which other queries share the batch, nor on ``n_jobs``.
* :func:`sample`, :func:`project` draw and repair candidates inside the
  admissible boxes, so box constraints hold by construction.
* :func:`sparsify` is the post-hoc sparsity step and :func:`select_diverse`
  the diversity criterion, applied by every method to its pool of valid
  candidates.
"""

import hashlib

import numpy as np
from sklearn.utils import _safe_indexing

__all__ = [
    "Oracle",
    "Problem",
    "draw",
    "finalize",
    "project",
    "sample",
    "select_diverse",
    "sparsify",
]

_INVALID_PENALTY = 10.0
_FAILED_LOSS = 1e6  # loss of a candidate the model raised on


class Oracle:
    """Batch evaluation of candidates against the desired outcome.

    Parameters
    ----------
    model : fitted estimator
    space : FeatureSpace
    constraints : Constraints
    to_model : callable
        Turns a decoded DataFrame into what the model was fitted on.
    task : {"classification", "regression"}
    classes : ndarray or None
    use_predict : bool
        Decide validity from ``predict`` instead of the arg-max of the
        scores (for models whose ``predict`` is not that arg-max, such as a
        tuned decision threshold).
    """

    def __init__(
        self,
        model,
        space,
        constraints,
        to_model,
        task,
        classes=None,
        use_predict=False,
        y_scale=1.0,
    ):
        self.model = model
        self.space = space
        self.constraints = constraints
        self.to_model = to_model
        self.task = task
        self.classes = classes
        self.use_predict = use_predict
        self.y_scale = y_scale
        self.n_calls = 0

    def safe(self, method, X, min_size=1):
        """Call ``method(X)``; if it raises, split the batch to isolate the
        rows the model fails on.

        Splitting costs about two model calls per failing part, so a batch
        with many failing rows would cost a call per failing row; a failing
        part of at most ``min_size`` rows is therefore taken as failed as a
        whole. Candidate batches pass ``len(X) // 256`` (rows are sorted, so
        failing rows tend to sit together and few good ones are lost); the
        queries and the final rows are isolated exactly (``min_size=1``).

        Returns
        -------
        out : ndarray or None
            Outputs of the rows that succeeded (rows that failed hold zeros);
            None when every row failed.
        failed : ndarray of bool, shape (n_rows,)
        message : str
            The model's error message for the first failing row ("" if none).
        """
        n = X.shape[0]
        try:
            return np.asarray(method(X)), np.zeros(n, dtype=bool), ""
        except Exception as exc:  # any model error: isolate the bad rows
            if n <= max(min_size, 1):
                return None, np.ones(n, dtype=bool), f"{type(exc).__name__}: {exc}"
        half = n // 2
        parts = [_safe_indexing(X, slice(0, half)), _safe_indexing(X, slice(half, n))]
        outs, fails, msgs = zip(*(self.safe(method, part, min_size) for part in parts))
        failed = np.concatenate(fails)
        message = next((m for m in msgs if m), "")
        good = [o for o in outs if o is not None]
        if not good:
            return None, failed, message
        shape = (n,) + good[0].shape[1:]
        out = np.zeros(shape, dtype=good[0].dtype)
        start = 0
        for o, f in zip(outs, fails):
            if o is not None:
                out[start : start + len(f)] = o
            start += len(f)
        return out, failed, message

    def predict(self, X, min_size=1):
        """``predict`` with failing rows isolated: (labels, failed, message)."""
        return self.safe(self.model.predict, X, min_size)

    def scores(self, X, return_failed=False, min_size=1):
        """Class scores of the model: probabilities where available.

        With ``return_failed``, rows on which the model raises are isolated
        (see :meth:`safe`) and ``(scores, failed, message)`` is returned;
        failed rows hold NaN scores.
        """
        if return_failed:
            out, failed, msg = self.safe(self._scores, X, min_size)
            if out is None:
                out = np.full((X.shape[0], len(self.classes)), np.nan)
            out = np.asarray(out, dtype=float)
            out[failed] = np.nan
            return out, failed, msg
        return self._scores(X)

    def _scores(self, X):
        model = self.model
        if hasattr(model, "predict_proba"):
            return np.asarray(model.predict_proba(X), dtype=float)
        if hasattr(model, "decision_function"):
            s = np.asarray(model.decision_function(X), dtype=float)
            if s.ndim == 1:
                s = np.column_stack([-s, s])
            return s
        pred = np.asarray(model.predict(X))
        return (pred[:, None] == self.classes[None, :]).astype(float)

    def __call__(self, Z, owner, problem):
        """Evaluate coded candidates.

        Parameters
        ----------
        Z : ndarray of shape (m, n_features)
        owner : ndarray of int, shape (m,)
            Index (within ``problem``) of each candidate's query.
        problem : Problem

        Returns
        -------
        valid : ndarray of bool, shape (m,)
        loss : ndarray of float, shape (m,)
            0 for valid candidates, else how far the model output is from
            the desired outcome (hinge on the score margin, or distance to
            the desired range in units of the target's MAD), plus 1 when a
            predicate fails.
        """
        out = self.outcome(Z, owner, problem)
        if out is None:
            return np.zeros(0, dtype=bool), np.zeros(0)
        valid, loss = out["valid"], out["loss"]
        if out["predicates_ok"] is not None:
            loss = loss + (~out["predicates_ok"])
            valid = valid & out["predicates_ok"]
        return valid, loss

    def outcome(self, Z, owner, problem):
        """Model outcome of coded candidates, before combining.

        Returns None for no candidates, else a dict: ``valid`` (desired
        outcome reached), ``loss`` (0 where valid, else the distance to it,
        see :meth:`__call__`), ``margin`` (classification: signed margin
        toward the desired outcome, positive where reached; regression:
        minus the scaled distance to the desired range), ``pred``
        (classification: predicted class index, -1 where the model failed;
        regression: the prediction, NaN where it failed) and
        ``predicates_ok`` (None without predicates). Candidates on which the
        model raises are isolated by splitting the batch and are never
        valid.
        """
        self.n_calls += 1
        m = Z.shape[0]
        if m == 0:
            return None
        # the model sees each distinct row once (candidates of different
        # queries, or of different moves, often coincide)
        uniq, inv = np.unique(Z, axis=0, return_inverse=True)
        inv = inv.ravel()
        X = self.to_model(self.space.decode(uniq))
        coarse = len(uniq) // 256  # see safe(): bounded cost of isolation
        if self.task == "regression":
            y, failed, _ = self.predict(X, coarse)
            if y is None:
                y = np.zeros(len(uniq))
            y = np.asarray(y, dtype=float).ravel()
            y[failed] = np.nan
            failed = failed[inv]
            y = y[inv]
            low = problem.low[owner]
            high = problem.high[owner]
            valid = (y >= low) & (y <= high)
            dist = np.maximum(np.maximum(low - y, y - high), 0.0) / self.y_scale
            margin, pred, loss = -dist, y, dist
        else:
            S, failed, _ = self.scores(X, return_failed=True, min_size=coarse)
            S = S[inv]
            failed = failed[inv]
            rows = np.arange(m)
            target = problem.target[owner]
            orig = problem.orig[owner]
            specific = target >= 0
            t = np.where(specific, target, 0)
            masked = S.copy()
            masked[rows, t] = -np.inf
            other_t = masked.max(axis=1)
            masked = S.copy()
            masked[rows, orig] = -np.inf
            best_not_orig = masked.max(axis=1)
            margin = np.where(
                specific, S[rows, t] - other_t, best_not_orig - S[rows, orig]
            )
            if self.use_predict:
                labels, bad, _ = self.predict(X, coarse)
                pred = np.full(len(uniq), -1)
                if labels is not None:
                    pred = np.where(bad, -1, np.searchsorted(self.classes, labels))
                pred = pred[inv]
                failed = failed | bad[inv]
            else:
                pred = np.where(failed, -1, np.nan_to_num(S).argmax(axis=1))
            valid = np.where(specific, pred == t, pred != orig)
            loss = np.where(valid, 0.0, np.maximum(-margin, 0.0) + 1e-3)
        if failed.any():
            # candidates the model fails on are inadmissible (never valid),
            # and their loss says nothing about the way to the outcome
            valid = valid & ~failed
            loss = np.where(failed, _FAILED_LOSS, loss)
            margin = np.where(failed, -np.inf, margin)
        ok = None
        if self.constraints.predicates:
            queries = self.space.decode(problem.Zq[owner])
            ok = self.constraints.predicate_mask(self.space.decode(Z), queries)
        return dict(valid=valid, loss=loss, margin=margin, pred=pred, predicates_ok=ok)


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
        base_seed=0,
        k=4,
        proximity_weight=1.0,
        sparsity_weight=1.0,
        diversity_weight=0.25,
        patience=3,
        min_separation=0.0,
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
        self.rngs = [np.random.default_rng(query_seed(base_seed, z)) for z in Zq]
        self.k = k
        self.patience = patience
        self.best_loss = np.full(n, np.inf)
        self.any_valid = np.zeros(n, dtype=bool)
        self.unreachable = np.zeros(n, dtype=bool)
        self.rounds = np.zeros(n, dtype=int)
        self.query_loss = None
        self.proximity_weight = proximity_weight
        self.sparsity_weight = sparsity_weight
        self.diversity_weight = diversity_weight
        # in units of space.distance (the mixed distance divided by d)
        self.min_separation = min_separation

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
        """Cost of candidates: proximity and sparsity terms (lower is better).

        ``proximity_weight * distance(query, c) + sparsity_weight *
        n_changed / n_features``.
        """
        Zq = self.Zq[owner]
        dist = self.space.distance(Zq, Z)
        nchg = self.space.changed(Zq, Z).sum(axis=-1)
        return (
            self.proximity_weight * dist
            + self.sparsity_weight * nchg / self.space.n_features
        )


def draw(rngs, idx, shape, kind="uniform"):
    """Stack per-query random draws: one generator call per query."""
    if kind == "normal":
        return np.stack([rngs[i].standard_normal(shape) for i in idx])
    return np.stack([rngs[i].random(shape) for i in idx])


def _categorical_from_uniform(allowed, u):
    """Pick an allowed code per row from uniforms.

    allowed : (q, K) bool; u : (q, m) in [0, 1). Returns (q, m) codes.
    """
    counts = allowed.sum(axis=1, keepdims=True)
    cum = np.cumsum(allowed, axis=1) / np.maximum(counts, 1)
    codes = (u[..., None] >= cum[:, None, :]).sum(axis=-1)
    return np.minimum(codes, allowed.shape[1] - 1).astype(float)


def project(Z, bounds, space, qidx, U):
    """Repair candidates into the admissible region, in place.

    Numeric values are rounded to their grid and clipped into the box;
    categorical codes that are not allowed are replaced by a random allowed
    code (drawn from ``U``). ``Z`` has shape (q, m, d), ``qidx`` the queries'
    indices in ``bounds``, ``U`` uniforms of shape (q, m, d).
    """
    Zq = None if bounds.Zq is None else bounds.Zq[qidx][:, None, :]
    num = space.numeric
    if Zq is not None:
        # a search never makes a value missing (it may fill one): a missing
        # value (from a training row, say) becomes the query's, then is
        # clipped like any other
        lost = np.isnan(Z[..., num]) & ~np.isnan(Zq[..., num])
        if lost.any():
            Z[..., num] = np.where(
                lost, np.broadcast_to(Zq[..., num], lost.shape), Z[..., num]
            )
    space.round(Z, Zq)
    lo = bounds.lo[qidx][:, None, :]
    hi = bounds.hi[qidx][:, None, :]
    Z[..., num] = np.clip(Z[..., num], lo[..., num], hi[..., num])
    for j in space.categorical:
        allowed = bounds.allowed[j][qidx]  # (q, K)
        codes = Z[..., j].astype(np.intp)
        ok = np.take_along_axis(allowed, codes, axis=1)
        if not ok.all():
            repl = _categorical_from_uniform(allowed, U[..., j])
            Z[..., j] = np.where(ok, Z[..., j], repl)
    return Z


def sample(problem, qidx, m, U_val, U_key, U_num, max_change=None, base=None, power=2):
    """Random candidates around each query: a few features resampled.

    Each candidate changes ``1 + floor(u**power * n_vary)`` of the query's varying
    features (at most ``max_change``), chosen uniformly, to values drawn
    uniformly from the admissible box (numeric) or set (categorical).

    ``base`` (q, m, d), when given, replaces the query as the row that is
    perturbed (used to explore around valid candidates).

    Returns an array of shape (q, m, d).
    """
    space = problem.space
    bounds = problem.bounds
    Zq = problem.Zq[qidx]
    lo, hi = bounds.lo[qidx], bounds.hi[qidx]
    varying = bounds.varying[qidx]  # (q, d)
    new = lo[:, None, :] + U_val * (hi - lo)[:, None, :]
    for j in space.categorical:
        new[..., j] = _categorical_from_uniform(bounds.allowed[j][qidx], U_val[..., j])
    keys = np.where(varying[:, None, :], U_key, np.inf)
    rank = keys.argsort(axis=-1).argsort(axis=-1)
    nv = varying.sum(axis=1)[:, None]
    if max_change is not None:
        nv = np.minimum(nv, max_change)
    # skewed toward few changes (power > 1): P(n_change <= t) ~ (t/nv)**(1/power)
    n_change = 1 + np.floor(U_num**power * nv).astype(int)
    change = rank < n_change[..., None]
    if base is None:
        base = np.broadcast_to(Zq[:, None, :], new.shape)
    Z = np.where(change, new, base)
    return project(Z, bounds, space, qidx, U_val)


def single_changes(problem, qidx, n_grid=10):
    """Every one-feature change of each query, on a grid.

    For each varying feature: ``n_grid`` evenly spaced admissible values
    (numeric, on the column's grid) or every allowed category
    (categorical), all other features at the query's value. These are the
    sparsest possible counterfactuals; every method scores them in its
    first batch.

    Returns
    -------
    Z : ndarray of shape (q, M, d)
        Padded with copies of the query (never valid, so harmless).
    """
    space = problem.space
    b = problem.bounds
    Zq = problem.Zq[qidx]
    q, d = Zq.shape
    blocks = []
    fr = np.linspace(0.0, 1.0, n_grid)
    for j in range(d):
        var = b.varying[qidx, j]
        if not var.any():
            continue
        if space.is_categorical[j]:
            K = len(space.categories[j])
            vals = np.broadcast_to(np.arange(K, dtype=float), (q, K)).copy()
            allowed = b.allowed[j][qidx]
            vals = np.where(allowed, vals, Zq[:, j : j + 1])
        else:
            lo, hi = b.lo[qidx, j], b.hi[qidx, j]
            vals = lo[:, None] + fr[None, :] * (hi - lo)[:, None]
        vals = np.where(var[:, None], vals, Zq[:, j : j + 1])
        block = np.repeat(Zq[:, None, :], vals.shape[1], axis=1)
        block[..., j] = vals
        blocks.append(block)
    if not blocks:
        return Zq[:, None, :].copy()
    Z = np.concatenate(blocks, axis=1)
    U = np.zeros(Z.shape)
    return project(Z, b, space, qidx, U)


def pair_changes(problem, qidx, singles, loss, top=12, per_feature=1):
    """Two-feature changes built from the most promising one-feature ones.

    For each query, the ``top`` one-feature changes with the lowest loss
    (closest to the desired outcome; at most ``per_feature`` values of each
    feature) are combined pairwise (different features), a beam search one
    level deep: sparse candidates for queries that no single change flips.

    Parameters
    ----------
    singles : ndarray (q, M, d)
        Output of :func:`single_changes` for ``qidx``.
    loss : ndarray (q, M)
        Their loss from :meth:`Oracle.__call__`.
    top : int
        One-feature changes combined per query.
    per_feature : int
        At most this many values of one feature among them.

    Returns
    -------
    Z : ndarray (q, top * (top - 1) / 2, d)
        Padded with copies of the query.
    """
    Zq = problem.Zq[qidx]
    q, M, d = singles.shape
    changed = problem.space.changed(Zq[:, None, :], singles)
    feat = np.where(changed.any(axis=-1), changed.argmax(axis=-1), -1)
    order = np.argsort(np.where(feat >= 0, loss, np.inf), axis=1, kind="stable")
    n_pairs = top * (top - 1) // 2
    out = np.repeat(Zq[:, None, :], max(n_pairs, 1), axis=1)
    for r in range(q):
        picked, used = [], {}
        for idx in order[r]:
            f = feat[r, idx]
            if f < 0 or not np.isfinite(loss[r, idx]) or used.get(f, 0) >= per_feature:
                continue
            used[f] = used.get(f, 0) + 1
            picked.append(idx)
            if len(picked) == top:
                break
        n = 0
        for a in range(len(picked)):
            for b in range(a + 1, len(picked)):
                fb = feat[r, picked[b]]
                if fb == feat[r, picked[a]]:
                    continue
                out[r, n] = singles[r, picked[a]]
                out[r, n, fb] = singles[r, picked[b], fb]
                n += 1
    return out


def expand(problem, pools, target, rounds=3, m=96):
    """Explore around the valid candidates of queries that have too few.

    For each query holding at least one but fewer than ``target`` distinct
    valid candidates, each round perturbs ``m`` randomly chosen valid ones
    (half with one or two varying features redrawn in the admissible region,
    half with their changed numeric features nudged by a quarter of a MAD)
    and keeps the valid results; one model call per round for all such
    queries.
    """
    d = problem.Zq.shape[1]
    pools = [_unique_rows(p) for p in pools]
    for _ in range(rounds):
        qidx = np.array(
            [i for i, p in enumerate(pools) if 0 < len(p) < target], dtype=int
        )
        if len(qidx) == 0:
            break
        U = draw(problem.rngs, qidx, (m, 2 * d + 2))
        base = np.stack(
            [
                pools[i][(U[r, :, -1] * len(pools[i])).astype(int)]
                for r, i in enumerate(qidx)
            ]
        )
        Z = sample(
            problem,
            qidx,
            m,
            U[..., :d],
            U[..., d : 2 * d],
            U[..., 2 * d],
            max_change=2,
            base=base,
        )
        # half of them are small steps instead: every changed numeric
        # feature nudged by a quarter of its MAD, which mostly stays valid
        half = m // 2
        N = draw(problem.rngs, qidx, (half, d), kind="normal")
        space = problem.space
        moved = problem.space.changed(problem.Zq[qidx][:, None, :], base[:, :half])
        num_moved = moved & ~space.is_categorical
        step = np.where(num_moved, N * 0.25 * space.mad, 0.0)
        nudged = project(
            base[:, :half] + step, problem.bounds, space, qidx, U[:, :half, :d]
        )
        # a base without a numeric change keeps its redrawn variant
        Z[:, :half] = np.where(
            num_moved.any(axis=-1, keepdims=True), nudged, Z[:, :half]
        )
        owner = np.repeat(qidx, m)
        valid, _ = problem.evaluate(Z.reshape(-1, d), owner)
        valid = valid.reshape(len(qidx), m)
        for r, i in enumerate(qidx):
            if valid[r].any():
                pools[i] = _unique_rows(np.vstack([pools[i], Z[r][valid[r]]]))
    return pools


def nudges(problem, pools, top=8, steps=(-0.5, -0.25, -0.1, 0.1, 0.25, 0.5)):
    """One-feature neighbours of each query's best valid candidates.

    For the ``top`` cheapest valid candidates of every query: each varying
    numeric feature moved alone by each of ``steps`` (in MADs), rounded to
    the column's grid and clipped into the query's box; and each categorical
    feature the candidate changes set to every other allowed category (as
    sparse as the candidate). All queries are scored in one model call and
    the valid neighbours join the pools: they give the diverse selection
    close alternatives to the best answers (as the genetic method's mutations
    do).
    """
    space = problem.space
    bounds = problem.bounds
    d = problem.Zq.shape[1]
    num = list(space.numeric)
    cat = list(space.categorical)
    qidx = np.array([i for i, p in enumerate(pools) if len(p)], dtype=int)
    if len(qidx) == 0:
        return pools
    steps = np.asarray(steps, dtype=float)
    n_cat = sum(len(space.categories[j]) for j in cat)
    per_base = len(num) * len(steps) + n_cat
    m = top * per_base
    Z = np.empty((len(qidx), top, per_base, d))
    keep = np.ones((len(qidx), top, per_base), dtype=bool)
    for r, i in enumerate(qidx):
        P = pools[i]
        cost = problem.cost(P, np.full(len(P), i))
        order = np.argsort(cost, kind="stable")[:top]
        base = P[order[np.arange(top) % len(order)]]  # pad by repetition
        keep[r, len(order) :] = False
        Z[r] = base[:, None, :]
        c = 0
        for j in num:
            Z[r, :, c : c + len(steps), j] += steps[None, :] * space.mad[j]
            keep[r, :, c : c + len(steps)] &= bounds.varying[i, j]
            c += len(steps)
        for j in cat:
            K = len(space.categories[j])
            Z[r, :, c : c + K, j] = np.arange(K)[None, :]
            moved = np.abs(base[:, j] - problem.Zq[i, j]) > 0.5
            keep[r, :, c : c + K] &= moved[:, None] & bounds.allowed[j][i][None, :]
            keep[r, :, c : c + K] &= np.arange(K)[None, :] != base[:, j : j + 1]
            c += K
    Z = Z.reshape(len(qidx), m, d)
    keep = keep.reshape(len(qidx), m)
    frozen = ~bounds.varying[qidx][:, None, :]
    Z = np.where(frozen, problem.Zq[qidx][:, None, :], Z)
    Z = project(Z, bounds, space, qidx, np.zeros_like(Z))
    rows, cols = np.nonzero(keep)
    valid, _ = problem.evaluate(Z[rows, cols], qidx[rows])
    pools = list(pools)
    for r, i in enumerate(qidx):
        mine = valid & (rows == r)
        if mine.any():
            pools[i] = np.vstack([pools[i], Z[r, cols[mine]]])
    return pools


def _admissible(problem, owner, j, values):
    """True where ``values`` of features ``j`` (one per row) are admissible
    for the rows' queries ``owner``."""
    b = problem.bounds
    ok = (values >= b.lo[owner, j] - 1e-12) & (values <= b.hi[owner, j] + 1e-12)
    # a missing query value may be restored (the box holds the query's other
    # values already)
    q = problem.Zq[owner, j]
    ok |= np.isnan(values) & np.isnan(q)
    for jj in problem.space.categorical:
        sel = j == jj
        if sel.any():
            ok[sel] = b.allowed[jj][owner[sel], values[sel].astype(np.intp)]
    return ok


def sparsify(problem, Z, owner, grid=8, refine=1):
    """Post-hoc sparsity: revert changes the outcome does not need.

    All counterfactuals of all queries are processed together, in ``4 + refine``
    model calls:

    1. One call tries, for every counterfactual, resetting each changed
       feature alone to the query's value.
    2. One call tries resetting all the individually revertible features
       together and, alongside, all of them but one (each choice of the one);
       the valid variant that resets most is kept (failing all, the single
       reset that saves most, known valid from call 1).
    3. One call evaluates, for each remaining numeric change, ``grid`` evenly
       spaced values between the query's value and the current one (on the
       column's grid, inside the admissible box), each alone; per feature the
       valid value nearest to the query is retained. ``refine`` more calls
       each place a finer grid in the gap between that value and the invalid
       one before it.
    4. One call checks those shrunk values together; where the combination
       fails, only the single largest saving is applied.

    Only admissible values are tried, so constraints keep holding.
    """
    space = problem.space
    Z = Z.copy()
    m, d = Z.shape
    if m == 0:
        return Z
    Zq = problem.Zq[owner]
    scale = space.scale
    # ---- 1. single reverts
    changed = space.changed(Zq, Z)
    rr, jj = np.nonzero(changed)
    revertible = np.zeros((m, d), dtype=bool)
    if len(rr):
        qv = Zq[rr, jj]
        ok = _admissible(problem, owner[rr], jj, qv)
        rr, jj, qv = rr[ok], jj[ok], qv[ok]
        trial = Z[rr].copy()
        trial[np.arange(len(rr)), jj] = qv
        valid, _ = problem.evaluate(trial, owner[rr])
        revertible[rr[valid], jj[valid]] = True
    rows = np.flatnonzero(revertible.any(axis=1))
    if len(rows):
        # ---- 2. all revertible together, and all but one
        n_rev = revertible[rows].sum(axis=1)
        variants = [np.where(revertible[rows], Zq[rows], Z[rows])]
        vrow = [rows]
        vsaved = [n_rev.astype(float)]
        multi = rows[n_rev > 1]
        if len(multi):
            mr, mj = np.nonzero(revertible[multi])
            mr = multi[mr]
            keep = revertible[mr].copy()
            keep[np.arange(len(mr)), mj] = False
            variants.append(np.where(keep, Zq[mr], Z[mr]))
            vrow.append(mr)
            vsaved.append(
                keep.sum(axis=1)
                - 1e-3 * (np.abs(Z[mr] - Zq[mr]) * scale)[np.arange(len(mr)), mj]
            )
        trial = np.vstack(variants)
        vrow = np.concatenate(vrow)
        vsaved = np.concatenate(vsaved)
        valid, _ = problem.evaluate(trial, owner[vrow])
        vsaved[~valid] = -np.inf
        best = np.full(m, -1)
        best_saved = np.full(m, -np.inf)
        for t in np.argsort(-vsaved, kind="stable"):
            r = vrow[t]
            if best[r] < 0 and np.isfinite(vsaved[t]):
                best[r], best_saved[r] = t, vsaved[t]
        for r in rows:
            if best[r] >= 0:
                Z[r] = trial[best[r]]
            else:
                single = np.where(revertible[r], np.abs(Z[r] - Zq[r]) * scale, -1.0)
                j = int(np.argmax(single))
                Z[r, j] = Zq[r, j]
    # ---- 3. shrink numeric changes toward the query, each alone
    changed = space.changed(Zq, Z)
    num = changed & ~space.is_categorical & ~np.isnan(Zq)  # fills stay fills
    rr, jj = np.nonzero(num)
    if len(rr):
        hi = Z[rr, jj]
        new = hi.copy()  # nearest valid value to the query found so far
        below = Zq[rr, jj].copy()  # farthest value known (or assumed) invalid
        fr = np.linspace(0.0, 1.0, grid + 1)[:-1]
        for level in range(refine + 1):
            # grid from ``below`` (included on the first level only: the
            # query's value) toward ``new``; later levels refine the last gap
            f = fr if level == 0 else fr[1:]
            cand = below[:, None] + f[None, :] * (new - below)[:, None]
            cand = _to_grid(problem, owner[rr], jj, cand, toward=new)
            g = cand.shape[1]
            trial = np.repeat(Z[rr], g, axis=0)
            trial[np.arange(len(rr) * g), np.repeat(jj, g)] = cand.ravel()
            moving = (np.abs(cand - new[:, None]) > 1e-12).ravel()
            valid = np.zeros(len(trial), dtype=bool)
            if moving.any():
                valid[moving], _ = problem.evaluate(
                    trial[moving], np.repeat(owner[rr], g)[moving]
                )
            valid = valid.reshape(len(rr), g)
            has = valid.any(axis=1)
            first = valid.argmax(axis=1)
            prev = np.maximum(first - 1, 0)
            rows = np.arange(len(rr))
            below = np.where(has & (first > 0), cand[rows, prev], below)
            below = np.where(has | (level > 0), below, cand[rows, -1])
            new = np.where(has, cand[rows, first], new)
        has = np.abs(new - hi) > 1e-12
        saving = np.abs(hi - new) * scale[jj]
        # ---- 4. all shrunk values together
        shrunk = Z.copy()
        shrunk[rr, jj] = new
        touched = np.unique(rr[has])
        if len(touched):
            valid, _ = problem.evaluate(shrunk[touched], owner[touched])
            Z[touched[valid]] = shrunk[touched[valid]]
            for r in touched[~valid]:
                mine = np.flatnonzero(rr == r)
                t = mine[np.argmax(saving[mine])]
                Z[r, jj[t]] = new[t]
    return Z


def _to_grid(problem, owner, j, values, toward):
    """Round candidate values of features ``j`` (one per row) to their
    column's grid (toward ``toward`` so no move overshoots the query) and
    clip them into each query's box."""
    space = problem.space
    out = values.copy()
    for jj in np.unique(j):
        sel = j == jj
        dec = space.decimals[jj]
        if dec is not None:
            f = 10.0**dec
            v = np.round(out[sel] * f, 9)
            up = (toward[sel] > values[sel][:, 0])[:, None]
            out[sel] = np.where(up, np.ceil(v), np.floor(v)) / f
    lo = problem.bounds.lo[owner, j][:, None]
    hi = problem.bounds.hi[owner, j][:, None]
    return np.clip(out, lo, hi)


def select_diverse(Z, cost, k, distance, diversity_weight, min_separation=0.0):
    """Greedy diverse selection of ``k`` rows from a pool of valid candidates.

    The first pick is the cheapest candidate. Each next pick minimises
    ``cost(c) - diversity_weight * min_{s in S} distance(c, s)`` over the
    candidates not yet picked and not identical to a picked one, where ``S``
    is the set picked so far (a maximal-marginal-relevance rule: close to the
    query, far from the others), among the candidates at least
    ``min_separation`` away from every pick (near-duplicates are never
    picked: fewer than ``k`` rows come back when the pool holds no more
    separated ones). Returns indices in pick order (rank).
    """
    p = Z.shape[0]
    if p == 0:
        return np.zeros(0, dtype=int)
    chosen = [int(np.argmin(cost))]
    nearest = distance(Z, Z[chosen[0]][None, :])
    while len(chosen) < min(k, p):
        score = cost - diversity_weight * nearest
        score[nearest <= max(1e-12, min_separation - 1e-12)] = np.inf  # near-duplicates
        score[chosen] = np.inf
        nxt = int(np.argmin(score))
        if not np.isfinite(score[nxt]):
            break
        chosen.append(nxt)
        nearest = np.minimum(nearest, distance(Z, Z[nxt][None, :]))
    return np.asarray(chosen, dtype=int)


def _unique_rows(Z):
    if Z.shape[0] == 0:
        return Z
    _, idx = np.unique(np.round(Z, 9), axis=0, return_index=True)
    return Z[np.sort(idx)]


def finalize(problem, pools, posthoc_sparsity=True, max_pool=200):
    """Pick, sparsify and rank the counterfactuals of every query.

    Parameters
    ----------
    pools : list of ndarray
        Valid candidates found per query.

    Returns
    -------
    results : list of ndarray
        Up to ``k`` counterfactuals per query, best first.
    """
    k = problem.k
    space = problem.space
    pools = expand(problem, pools, target=k + 1)
    pre, owners = [], []
    for i, pool in enumerate(pools):
        pool = _unique_rows(pool)
        if pool.shape[0] == 0:
            pre.append(pool)
            continue
        owner = np.full(pool.shape[0], i)
        cost = problem.cost(pool, owner)
        keep = np.argsort(cost, kind="stable")[:max_pool]
        pool, cost = pool[keep], cost[keep]
        dist = space.distance
        sel = select_diverse(
            pool, cost, 2 * k, dist, problem.diversity_weight, problem.min_separation
        )
        pre.append(pool[sel])
        owners.append(np.full(len(sel), i))
    if posthoc_sparsity and owners:
        Zall = np.vstack([p for p in pre if p.shape[0]])
        owner = np.concatenate(owners)
        Zsp = sparsify(problem, Zall, owner)
        for i in range(problem.n):
            # sparsified rows first; the originals stay as fall-backs so that
            # k distinct counterfactuals remain when several collapse into one
            pre[i] = np.vstack([Zsp[owner == i], Zall[owner == i]])
    results = []
    for i, pool in enumerate(pre):
        pool = _unique_rows(pool)
        if pool.shape[0] == 0:
            results.append(pool.reshape(0, space.n_features))
            continue
        cost = problem.cost(pool, np.full(pool.shape[0], i))
        dist = space.distance
        sel = select_diverse(
            pool, cost, k, dist, problem.diversity_weight, problem.min_separation
        )
        results.append(pool[sel])
    return results
