"""Gradient search for differentiable models (Wachter et al.; DiCE's loss).

As every method, the search first scores each one-feature change of the
query on a grid, then pairs of the most promising ones (the sparsest
candidates; :func:`~skcfx.counterfactual._engine.candidates.single_changes` and
:func:`~skcfx.counterfactual._engine.candidates.pair_changes`).

Then all feasible queries and their trajectories are optimised together in
one tensor of shape (n_queries, k + 2 * n_branches, n_features) in the coded
space: raw values for numeric columns, and for each categorical column a
softmax over its allowed categories (a relaxed one-hot vector, fed to the
torch copy of the user's ColumnTransformer), projected back to the most
probable allowed category at every check. The loss of a trajectory of query
``i`` is

``lambda_i * hinge + (proximity_weight * (moves + n_cat) + sparsity_weight *
(n_cat + n_num)) / d``

minus ``diversity_weight * log det K`` over the ``k`` free trajectories, with
``hinge`` the margin by which the desired class's logit falls short of the
best other one (or the original class's logit exceeds the best other one, for
"any other class"), ``moves`` the MAD-scaled L1 distance of the numeric
features to the query, ``n_cat`` the relaxed number of changed categories
(``sum_j 1 - p_j(query's category)``), ``n_num`` a smooth count of the moved
numeric features (``sum_j |u_j| / (|u_j| + l0_scale)``, ``u`` in MADs), so
that the loss weighs a change as the problem's cost does, and ``K`` DiCE's
DPP kernel ``1 / (1 + distance / d)`` between the ``k`` free trajectories.
Wachter's adjustment doubles ``lambda_i`` for a query none of whose
candidates is valid yet.

The ``k`` free trajectories start at the query (plus seeded noise). The
``2 * n_branches`` branch trajectories complete the most promising category
changes (single and paired) that were not valid alone: each such change is
held fixed, once with every other categorical column held at the query's
category (only numeric moves) and once with them free. Relaxed one-hot
vectors rarely land on such discrete combinations by themselves.

After every step the candidates are clipped into each query's admissible box
(frozen features, ranges, one-direction changes); every ``check_every``
steps they are rounded to their grids, checked against the user's
predicates and re-predicted by the real model through the shared oracle (one
call for all queries), and the valid ones join the query's pool, together
with a copy whose small numeric moves are reset to the query. Finally, the
numeric neighbours of each query's best answers are scored
(:func:`~skcfx.counterfactual._engine.refine.nudges`) and the shared ``finalize``
sparsifies, diversifies and ranks the pools as for every other method.
"""

import functools
from types import SimpleNamespace

import numpy as np

from skcfx.counterfactual._engine.candidates import (
    draw,
    pair_changes,
    project,
    single_changes,
)
from skcfx.counterfactual._engine.methods import register
from skcfx.counterfactual._engine.refine import nudges

__all__ = ["gradient_search"]

# a regressor's margin inside the desired range, as a fraction of the hinge
# margin in units of its predictions' spread (a class margin of 1 logit
# would push it a whole spread deep into the range)
_RANGE_MARGIN = 0.1


@register("gradient", n_candidates=None, max_rounds=200, fallback="random")
def _search(problem, context, queries, n_candidates, max_rounds):
    return gradient_search(
        problem, context.module, max_rounds=max_rounds, queries=queries
    )


def gradient_search(
    problem,
    module,
    *,
    max_rounds=200,
    learning_rate=0.05,
    check_every=20,
    margin=1.0,
    start_noise=0.1,
    snap=0.1,
    l0_scale=0.1,
    n_branches=8,
    queries=None,
):
    """Optimise the counterfactuals of all queries together by gradient descent.

    Parameters
    ----------
    problem : Problem
    module : torch.nn.Module
        Logits of the model from coded rows and relaxed one-hot vectors of
        the categorical columns (see ``models.coded_forward``).
    max_rounds : int
        Adam steps.
    learning_rate : float
        Step size, in units of each feature's MAD.
    check_every : int
        Steps between checks by the real model.
    margin : float
        Hinge margin on the logits.
    start_noise : float
        Standard deviation, in MADs, of the noise around the query at which
        the second to k-th counterfactuals start (the first starts at the
        query).
    snap : float
        At each check, numeric moves smaller than this many MADs are also
        tried reset to the query's value (a sparser copy of each candidate).
    l0_scale : float
        Scale, in MADs, of the smooth count of moved numeric features
        ``|u| / (|u| + l0_scale)`` in the sparsity term.
    n_branches : int
        Extra trajectories per query whose categorical changes are fixed
        (see the module docstring).
    queries : array-like of int or None
        Restrict to these query indices.

    Returns
    -------
    pools : list of ndarray, valid candidates per query.
    """
    import torch

    from skcfx.utils._torch import eval_mode

    n, d = problem.Zq.shape
    pools = [[] for _ in range(n)]
    active = problem.bounds.feasible.copy()
    if queries is not None:
        only = np.zeros(n, dtype=bool)
        only[np.asarray(queries, dtype=int)] = True
        active &= only
    qidx = np.flatnonzero(active)
    if len(qidx) == 0:
        return [np.empty((0, d)) for _ in range(n)]
    tried, tried_loss = _scan(problem, qidx, pools)
    # categorical branches: the category changes (alone or in pairs) that
    # came closest to the outcome without reaching it are held fixed on
    # extra trajectories, whose numeric features and other categorical
    # columns are optimised (the moves that complete each change)
    half = n_branches // 2
    branch = np.concatenate(
        [
            _categorical_branches(problem, qidx, tried[0], tried_loss[0], half),
            _categorical_branches(
                problem, qidx, tried[1], tried_loss[1], n_branches - half
            ),
        ],
        axis=1,
    )
    st = _trajectories(problem, qidx, branch, module, start_noise)
    opt = torch.optim.Adam(st.params, lr=learning_rate, foreach=True)
    weights = dict(margin=margin, l0_scale=l0_scale)
    with eval_mode(module):
        for step in range(1, max_rounds + 1):
            opt.zero_grad()
            probs = st.relaxed()
            _loss(problem, module, st, probs, weights).sum().backward()
            opt.step()
            with torch.no_grad():
                C = torch.maximum(torch.minimum(st.Zq + st.U * st.mad, st.hi), st.lo)
                st.U.copy_((C - st.Zq) / st.mad)
            if step % check_every == 0 or step == max_rounds:
                _check(problem, st, C, probs, snap, pools)
    pools = [np.vstack(p) if p else np.empty((0, d)) for p in pools]
    # one-feature neighbours of the best answers, for the diverse selection
    return nudges(problem, pools)


def _scan(problem, qidx, pools):
    """The sparsest candidates first, as every method: each one-feature
    change on a grid, then pairs of the most promising ones. Valid ones join
    ``pools``; returns the candidates and their losses (inf where valid)."""
    q, d = len(qidx), problem.Zq.shape[1]
    singles = single_changes(problem, qidx)
    tried, tried_loss = [], []
    for stage in range(2):
        if stage == 0:
            Zs = singles
        else:
            Zs = pair_changes(
                problem, qidx, singles, tried_loss[0], top=32, per_feature=32
            )
        m = Zs.shape[1]
        valid, loss = problem.evaluate(Zs.reshape(-1, d), np.repeat(qidx, m))
        ok = valid.reshape(q, m)
        for row in np.flatnonzero(ok.any(axis=1)):
            pools[qidx[row]].append(Zs[row][ok[row]])
        tried.append(Zs)
        tried_loss.append(np.where(ok, np.inf, loss.reshape(q, m)))
    return tried, tried_loss


def _trajectories(problem, qidx, branch, module, start_noise):
    """The optimised tensors: ``k`` free trajectories per query plus each
    categorical branch twice (every other categorical column held at the
    query's category, and free), numeric moves in MAD units and logits
    over the allowed categories; on the device of the model's parameters
    (a CUDA skorch net stays there)."""
    import torch

    from skcfx.utils._torch import device_of

    space, bounds = problem.space, problem.bounds
    q, d, k = len(qidx), problem.Zq.shape[1], problem.k
    cat = list(space.categorical)
    nb = branch.shape[1]
    branch = np.concatenate([branch, branch], axis=1)
    T = k + branch.shape[1]
    device = device_of(module)
    tensor = functools.partial(torch.as_tensor, device=device)
    st = SimpleNamespace(qidx=qidx, cat=cat, T=T, tensor=tensor)
    st.mad = tensor(space.mad, dtype=torch.float32)
    varying = bounds.varying[qidx][:, None, :].astype(np.float32)
    varying[..., cat] = 0.0  # categorical columns move through their logits
    st.varying = tensor(varying)
    st.lo = tensor(bounds.lo[qidx][:, None, :], dtype=torch.float32)
    st.hi = tensor(bounds.hi[qidx][:, None, :], dtype=torch.float32)
    st.Zq = tensor(problem.Zq[qidx][:, None, :], dtype=torch.float32)
    # k free starts per query: the query plus seeded noise (the first at the
    # query itself); the branches start at the query's numeric values
    noise = np.zeros((q, T, d))
    noise[:, 1:k] = draw(problem.rngs, qidx, (k, d), kind="normal")[:, 1:]
    noise = tensor(noise, dtype=torch.float32)
    start = st.Zq + noise * start_noise * st.mad * st.varying
    # optimise in MAD units so that one learning rate suits every feature
    st.U = (torch.maximum(torch.minimum(start, st.hi), st.lo) - st.Zq) / st.mad
    st.U.requires_grad_(True)
    st.params = [st.U]
    # categorical columns: logits over the allowed categories, starting at the
    # query's category plus seeded noise; disallowed categories are masked; a
    # column a branch changes is a fixed one-hot vector on that trajectory
    st.logits, st.mask, st.code, st.fixed, st.onehot = {}, {}, {}, {}, {}
    for j in cat:
        allowed = tensor(bounds.allowed[j][qidx][:, None, :])
        codes = problem.Zq[qidx, j].astype(np.intp)
        K = allowed.shape[-1]
        init = draw(problem.rngs, qidx, (T, K), kind="normal").astype(np.float32)
        init *= start_noise
        init[np.arange(q), :, codes] += 2.0
        st.logits[j] = tensor(init).requires_grad_(True)
        st.mask[j] = allowed
        st.code[j] = tensor(codes)
        fixed = np.zeros((q, T), dtype=bool)
        fixed[:, k:] = branch[..., j] != codes[:, None]
        fixed[:, k + nb :] = True
        st.fixed[j] = tensor(fixed)
        codes_t = np.repeat(codes[:, None], T, axis=1)
        codes_t[:, k:] = branch[..., j]
        st.onehot[j] = torch.nn.functional.one_hot(
            tensor(codes_t.astype(np.int64)), K
        ).to(torch.float32)
        st.params.append(st.logits[j])
    # a regressor: its prediction kept inside the desired range, in units
    # of the training predictions' spread
    st.regression = problem.oracle.task == "regression"
    if st.regression:
        scale = float(problem.oracle.y_scale)
        bounds_of = (
            np.asarray(b, dtype=float)[qidx] / scale
            for b in (problem.low, problem.high)
        )
        st.low, st.high = (tensor(b[:, None], dtype=torch.float32) for b in bounds_of)
        st.y_scale = scale
    target = tensor(problem.target[qidx], dtype=torch.long)
    orig = tensor(problem.orig[qidx], dtype=torch.long)
    st.specific = target >= 0
    st.cls = torch.where(st.specific, target, orig)[:, None].expand(-1, T)
    st.lam = torch.ones(q, device=device)
    st.eye = torch.eye(k, device=device)

    def relaxed():
        out = {}
        for j in cat:
            soft = torch.softmax(st.logits[j].masked_fill(~st.mask[j], -1e4), -1)
            out[j] = torch.where(st.fixed[j][..., None], st.onehot[j], soft)
        return out

    st.relaxed = relaxed
    return st


def _loss(problem, module, st, probs, weights):
    """Per query: Wachter-weighted hinge toward the desired class, the
    problem's cost (proximity, changed categories, a smooth count of moved
    numeric features) and DiCE's DPP diversity among the free
    trajectories."""
    import torch

    from skcfx.utils._torch_nn import class_margin

    q, T = st.cls.shape
    d, k = problem.Zq.shape[1], problem.k
    C = st.Zq + st.U * st.mad
    flat = {j: p.reshape(-1, p.shape[-1]) for j, p in probs.items()}
    logits = module(C.reshape(-1, d), flat).reshape(q, T, -1)
    if st.regression:  # inside the range, by the margin where it is wide
        pred = logits[..., 0] / st.y_scale
        half = (st.high - st.low) / 2
        gap = torch.minimum(pred - st.low, st.high - pred)
        need = torch.minimum(
            torch.full_like(half, weights["margin"] * _RANGE_MARGIN), half
        )
        hinge = torch.relu(need - gap).mean(dim=1)
    else:
        # desired class above the rest, or the original class below the rest
        gap = class_margin(logits, st.cls)
        gap = torch.where(st.specific[:, None], gap, -gap)
        hinge = torch.relu(weights["margin"] - gap).mean(dim=1)
    change = (st.U.abs() * st.varying).sum(dim=2)  # MAD units
    n_cat = torch.zeros_like(change)
    for j in st.cat:  # relaxed "category changed" indicator
        code = st.code[j][:, None, None].expand(-1, T, 1)
        n_cat = n_cat + 1.0 - probs[j].gather(2, code).squeeze(2)
    # the problem's cost: proximity plus sparsity; a changed category counts
    # in both; and a smooth count of the moved numeric features
    # (|u| / (|u| + s), u in MADs): close to 1 for a real move, 0 for none
    cost = problem.proximity_weight * (change + n_cat)
    cost = cost + problem.sparsity_weight * n_cat
    a = st.U.abs()
    n_num = (a / (a + weights["l0_scale"]) * st.varying).sum(2)
    cost = cost + problem.sparsity_weight * n_num
    loss = st.lam * hinge + cost.mean(dim=1) / d
    if k > 1 and problem.diversity_weight > 0:
        Uk = st.U[:, :k]  # DiCE's DPP term among the k free trajectories
        diff = (Uk[:, :, None, :] - Uk[:, None, :, :]).abs()
        dist = (diff * st.varying[:, :, None, :]).sum(dim=3)
        for j in st.cat:
            pj = probs[j][:, :k]
            dist = dist + 0.5 * (pj[:, :, None, :] - pj[:, None, :, :]).abs().sum(3)
        K = 1.0 / (1.0 + dist / d) + 1e-4 * st.eye
        loss = loss - problem.diversity_weight * torch.logdet(K)
    return loss


def _check(problem, st, C, probs, snap, pools):
    """Round the trajectories (and a snapped copy whose numeric moves below
    ``snap`` MADs are back at the query), let the real model judge them, add
    the valid ones to ``pools`` and weigh the prediction term up where
    nothing is valid yet (Wachter)."""
    import torch

    qidx, T = st.qidx, st.T
    q, d = len(qidx), problem.Zq.shape[1]
    Z = C.detach().cpu().numpy().astype(np.float64)
    Zs = Z.copy()
    small = np.abs(st.U.detach().cpu().numpy()) < snap
    Zs[small] = np.broadcast_to(problem.Zq[qidx][:, None, :], Z.shape)[small]
    Z = np.concatenate([Zs, Z], axis=1)
    with torch.no_grad():
        for j in st.cat:  # the most probable allowed category
            masked = probs[j].masked_fill(~st.mask[j], -1.0)
            Z[..., j] = np.tile(masked.argmax(dim=-1).cpu().numpy(), (1, 2))
    project(Z, problem.bounds, problem.space, qidx, np.zeros_like(Z))
    valid, _ = problem.evaluate(Z.reshape(-1, d), np.repeat(qidx, 2 * T))
    ok = valid.reshape(q, 2 * T)
    for row in np.flatnonzero(ok.any(axis=1)):
        pools[qidx[row]].append(Z[row][ok[row]])
    found = st.tensor(np.array([len(pools[i]) > 0 for i in qidx]))
    st.lam = torch.where(found, st.lam, torch.clamp(st.lam * 2.0, max=1e3))


def _categorical_branches(problem, qidx, tried, loss, n_branches):
    """Categorical changes to complete by gradient descent.

    Per query, the ``n_branches`` candidates of ``tried`` that change only
    categorical columns and have the lowest loss among those not valid
    (``loss`` is ``inf`` for the valid ones), padded with the query itself.

    Returns
    -------
    branch : ndarray (q, n_branches, d) of coded rows.
    """
    space = problem.space
    Zq = problem.Zq[qidx]
    out = np.repeat(Zq[:, None, :], n_branches, axis=1)
    if len(space.categorical) == 0:
        return out[:, :0]
    changed = space.changed(Zq[:, None, :], tried)
    usable = (
        changed[..., space.is_categorical].any(axis=-1)
        & ~changed[..., ~space.is_categorical].any(axis=-1)
        & np.isfinite(loss)
    )
    order = np.argsort(np.where(usable, loss, np.inf), axis=1, kind="stable")
    for r in range(len(qidx)):
        picked = order[r, :n_branches][usable[r, order[r, :n_branches]]]
        out[r, : len(picked)] = tried[r, picked]
    return out
