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

    def scores(self, X):
        """Class scores of the model: probabilities where available."""
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
        self.n_calls += 1
        m = Z.shape[0]
        if m == 0:
            return np.zeros(0, dtype=bool), np.zeros(0)
        frame = self.space.decode(Z)
        X = self.to_model(frame)
        if self.task == "regression":
            y = np.asarray(self.model.predict(X), dtype=float).ravel()
            low = problem.low[owner]
            high = problem.high[owner]
            valid = (y >= low) & (y <= high)
            loss = np.maximum(np.maximum(low - y, y - high), 0.0) / self.y_scale
        else:
            S = self.scores(X)
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
                pred = np.searchsorted(self.classes, np.asarray(self.model.predict(X)))
            else:
                pred = S.argmax(axis=1)
            valid = np.where(specific, pred == t, pred != orig)
            loss = np.where(valid, 0.0, np.maximum(-margin, 0.0) + 1e-3)
        if self.constraints.predicates:
            queries = self.space.decode(problem.Zq[owner])
            ok = self.constraints.predicate_mask(frame, queries)
            loss = loss + (~ok)
            valid &= ok
        return valid, loss


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
        sparsity_weight=0.5,
        diversity_weight=1.0,
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
        self.proximity_weight = proximity_weight
        self.sparsity_weight = sparsity_weight
        self.diversity_weight = diversity_weight

    @property
    def n(self):
        return self.Zq.shape[0]

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
    space.round(Z)
    lo = bounds.lo[qidx][:, None, :]
    hi = bounds.hi[qidx][:, None, :]
    num = space.numeric
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


def expand(problem, pools, target, rounds=6, m=64):
    """Explore around the valid candidates of queries that have too few.

    For each query holding at least one but fewer than ``target`` distinct
    valid candidates, each round perturbs ``m`` randomly chosen valid ones
    (one or two varying features redrawn in the admissible region) and keeps
    the valid results; one model call per round for all such queries.
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
        owner = np.repeat(qidx, m)
        valid, _ = problem.evaluate(Z.reshape(-1, d), owner)
        valid = valid.reshape(len(qidx), m)
        for r, i in enumerate(qidx):
            if valid[r].any():
                pools[i] = _unique_rows(np.vstack([pools[i], Z[r][valid[r]]]))
    return pools


def _admissible(problem, owner, j, values):
    """True where ``values`` of features ``j`` (one per row) are admissible
    for the rows' queries ``owner``."""
    b = problem.bounds
    ok = (values >= b.lo[owner, j] - 1e-12) & (values <= b.hi[owner, j] + 1e-12)
    for jj in problem.space.categorical:
        sel = j == jj
        if sel.any():
            ok[sel] = b.allowed[jj][owner[sel], values[sel].astype(np.intp)]
    return ok


def sparsify(problem, Z, owner, grid=8):
    """Post-hoc sparsity: revert changes the outcome does not need.

    All counterfactuals of all queries are processed together:

    1. *Reverts.* One model call tries, for every counterfactual, resetting
       each changed feature alone to the query's value; a second call resets
       all the individually revertible features together, which is kept
       where it stays valid. Where it does not, the revertible features are
       reset one at a time, smallest scaled change first.
    2. *Shrinking.* Each remaining numeric change is moved toward the query:
       one call evaluates ``grid`` evenly spaced values between the query's
       value and the current one (on the column's grid, inside the
       admissible box) and keeps the valid value nearest to the query; a
       second call refines between it and the next grid point.

    Only admissible values are tried, so constraints keep holding.
    """
    space = problem.space
    Z = Z.copy()
    m, d = Z.shape
    if m == 0:
        return Z
    Zq = problem.Zq[owner]
    # ---- 1. reverts
    changed = space.changed(Zq, Z)
    rr, jj = np.nonzero(changed)
    if len(rr):
        qv = Zq[rr, jj]
        ok = _admissible(problem, owner[rr], jj, qv)
        rr, jj, qv = rr[ok], jj[ok], qv[ok]
        trial = Z[rr].copy()
        trial[np.arange(len(rr)), jj] = qv
        valid, _ = problem.evaluate(trial, owner[rr])
        rr, jj = rr[valid], jj[valid]
        revertible = np.zeros((m, d), dtype=bool)
        revertible[rr, jj] = True
        rows = np.flatnonzero(revertible.any(axis=1))
        if len(rows):
            trial = np.where(revertible[rows], Zq[rows], Z[rows])
            valid, _ = problem.evaluate(trial, owner[rows])
            Z[rows[valid]] = trial[valid]
            # greedy, one feature at a time, for the rest
            rest = rows[~valid]
            scaled = np.abs(Z - Zq) * space.scale
            order = np.argsort(
                np.where(revertible, scaled, np.inf), axis=1, kind="stable"
            )
            n_rev = revertible.sum(axis=1)
            for t in range(int(n_rev[rest].max(initial=0))):
                r = rest[n_rev[rest] > t]
                if len(r) == 0:
                    break
                j = order[r, t]
                trial = Z[r].copy()
                trial[np.arange(len(r)), j] = Zq[r, j]
                valid, _ = problem.evaluate(trial, owner[r])
                Z[r[valid]] = trial[valid]
    # ---- 2. shrink numeric changes toward the query
    changed = space.changed(Zq, Z)
    num_changed = changed & ~space.is_categorical
    order = np.argsort(~num_changed, axis=1, kind="stable")
    n_num = num_changed.sum(axis=1)
    fractions = np.linspace(0.0, 1.0, grid + 1)[:-1]  # 0 = query value
    for t in range(int(n_num.max(initial=0))):
        r = np.flatnonzero(n_num > t)
        if len(r) == 0:
            break
        j = order[r, t]
        lo = Zq[r, j]
        hi = Z[r, j]
        for _refine in range(2):
            cand = lo[:, None] + fractions[None, :] * (hi - lo)[:, None]
            cand = _to_grid(problem, owner[r], j, cand, toward=hi)
            g = cand.shape[1]
            trial = np.repeat(Z[r], g, axis=0)
            trial[np.arange(len(r) * g), np.repeat(j, g)] = cand.ravel()
            moving = np.abs(cand - hi[:, None]).ravel() > 1e-12
            valid = np.zeros(len(trial), dtype=bool)
            if moving.any():
                valid[moving], _ = problem.evaluate(
                    trial[moving], np.repeat(owner[r], g)[moving]
                )
            valid = valid.reshape(len(r), g)
            first = np.where(valid.any(axis=1), valid.argmax(axis=1), g)
            has = first < g
            best = np.where(has, cand[np.arange(len(r)), np.minimum(first, g - 1)], hi)
            # refine between the previous grid point (invalid) and the best
            prev = np.where(
                has & (first > 0), cand[np.arange(len(r)), np.maximum(first - 1, 0)], lo
            )
            new_lo = np.where(has, prev, lo)
            Z[r, j] = best
            lo, hi = new_lo, best
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


def select_diverse(Z, cost, k, distance, diversity_weight):
    """Greedy diverse selection of ``k`` rows from a pool of valid candidates.

    The first pick is the cheapest candidate. Each next pick minimises
    ``cost(c) - diversity_weight * min_{s in S} distance(c, s)`` over the
    candidates not yet picked and not identical to a picked one, where ``S``
    is the set picked so far (a maximal-marginal-relevance rule: close to the
    query, far from the others). Returns indices in pick order (rank).
    """
    p = Z.shape[0]
    if p == 0:
        return np.zeros(0, dtype=int)
    chosen = [int(np.argmin(cost))]
    nearest = distance(Z, Z[chosen[0]][None, :])
    while len(chosen) < min(k, p):
        score = cost - diversity_weight * nearest
        score[nearest <= 1e-12] = np.inf  # duplicates of a pick
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
    pools = expand(problem, pools, target=3 * k)
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
        dist = _pair_distance(space, problem.Zq[i])
        sel = select_diverse(pool, cost, 3 * k, dist, problem.diversity_weight)
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
        dist = _pair_distance(space, problem.Zq[i])
        sel = select_diverse(pool, cost, k, dist, problem.diversity_weight)
        results.append(pool[sel])
    return results


def _pair_distance(space, zq):
    def dist(A, b):
        return space.distance(A, b)

    return dist
