"""Gradient search for differentiable models (Wachter et al.; DiCE's loss).

All feasible queries and their ``k`` counterfactuals are optimised together
in one tensor of shape (n_queries, k, n_features) in the coded space: raw
values for numeric columns, and for each categorical column a softmax over
its allowed categories (a relaxed one-hot vector, fed to the torch copy of
the user's ColumnTransformer), projected back to the most probable allowed
category at every check. The loss of query ``i`` is

``lambda_i * hinge + proximity_weight * proximity - diversity_weight *
log det K``

(a categorical column adds ``1 - p(query's category)`` to the proximity)

with ``hinge`` the margin by which the desired class's logit falls short of
the best other one (or the original class's logit exceeds the best other
one, for "any other class"), ``proximity`` the MAD-scaled L1 distance to the
query averaged over features, and ``K`` DiCE's DPP kernel ``1 / (1 +
distance)`` between the ``k`` counterfactuals. Wachter's adjustment doubles
``lambda_i`` for a query none of whose candidates is valid yet. After every
step the candidates are clipped into each query's admissible box (frozen
features, ranges, one-direction changes); every few steps they are rounded
to their grids, checked against the user's predicates and re-predicted by
the real model through the shared oracle (one call for all queries), and the
valid ones join the query's pool; the shared ``finalize`` then sparsifies,
diversifies and ranks them as for every other method. As every method, the
search first scores each one-feature change of the query on a grid (the
sparsest candidates).
"""

import numpy as np

from skcfx.counterfactual._search import draw, project, single_changes

__all__ = ["gradient_search"]


def gradient_search(
    problem,
    module,
    *,
    max_iter=200,
    learning_rate=0.05,
    check_every=20,
    margin=0.5,
    start_noise=0.1,
    snap=0.1,
    queries=None,
    **_,
):
    """Optimise the counterfactuals of all queries together by gradient descent.

    Parameters
    ----------
    problem : Problem
    module : torch.nn.Module
        Logits of the model from coded rows and relaxed one-hot vectors of
        the categorical columns (see ``_differentiable.coded_forward``).
    max_iter : int
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
    queries : array-like of int or None
        Restrict to these query indices.

    Returns
    -------
    pools : list of ndarray, valid candidates per query.
    """
    import torch

    from skcfx.utils._torch_nn import class_margin

    space = problem.space
    n, d = problem.Zq.shape
    k = problem.k
    pools = [[] for _ in range(n)]
    active = problem.bounds.feasible.copy()
    if queries is not None:
        only = np.zeros(n, dtype=bool)
        only[np.asarray(queries, dtype=int)] = True
        active &= only
    qidx = np.flatnonzero(active)
    if len(qidx) == 0:
        return [np.empty((0, d)) for _ in range(n)]
    # as every method: the sparsest candidates first (each one-feature change)
    singles = single_changes(problem, qidx)
    m = singles.shape[1]
    valid, _ = problem.evaluate(singles.reshape(-1, d), np.repeat(qidx, m))
    ok = valid.reshape(len(qidx), m)
    for row in np.flatnonzero(ok.any(axis=1)):
        pools[qidx[row]].append(singles[row][ok[row]])
    bounds = problem.bounds
    cat = list(space.categorical)
    mad = torch.as_tensor(space.mad, dtype=torch.float32)
    varying = bounds.varying[qidx][:, None, :].astype(np.float32)
    varying[..., cat] = 0.0  # categorical columns move through their logits
    varying = torch.as_tensor(varying)
    lo = torch.as_tensor(bounds.lo[qidx][:, None, :], dtype=torch.float32)
    hi = torch.as_tensor(bounds.hi[qidx][:, None, :], dtype=torch.float32)
    Zq = torch.as_tensor(problem.Zq[qidx][:, None, :], dtype=torch.float32)
    # k starting points per query: the query plus seeded noise (per query)
    noise = draw(problem.rngs, qidx, (k, d), kind="normal")
    noise[:, 0] = 0.0  # the first start is the query itself
    start = (
        Zq + torch.as_tensor(noise, dtype=torch.float32) * start_noise * mad * varying
    )
    # optimise in MAD units so that one learning rate suits every feature
    U = ((torch.maximum(torch.minimum(start, hi), lo) - Zq) / mad).requires_grad_(True)
    params = [U]
    # categorical columns: logits over the allowed categories, starting at the
    # query's category plus seeded noise; disallowed categories are masked
    logits_of, mask_of, query_code = {}, {}, {}
    for j in cat:
        allowed = torch.as_tensor(bounds.allowed[j][qidx][:, None, :])
        codes = problem.Zq[qidx, j].astype(np.intp)
        K = allowed.shape[-1]
        init = draw(problem.rngs, qidx, (k, K), kind="normal").astype(np.float32)
        init *= start_noise
        init[np.arange(len(qidx)), :, codes] += 2.0
        logits_of[j] = torch.as_tensor(init).requires_grad_(True)
        mask_of[j] = allowed
        query_code[j] = torch.as_tensor(codes)
        params.append(logits_of[j])
    opt = torch.optim.Adam(params, lr=learning_rate)
    target = torch.as_tensor(problem.target[qidx], dtype=torch.long)
    orig = torch.as_tensor(problem.orig[qidx], dtype=torch.long)
    specific = target >= 0
    lam = torch.ones(len(qidx))
    eye = torch.eye(k)
    owner2 = np.repeat(np.arange(len(qidx)), 2 * k)
    module.eval()

    def relaxed():
        return {
            j: torch.softmax(logits_of[j].masked_fill(~mask_of[j], -1e4), dim=-1)
            for j in cat
        }

    for step in range(1, max_iter + 1):
        opt.zero_grad()
        C = Zq + U * mad
        probs = relaxed()
        flat = {j: p.reshape(-1, p.shape[-1]) for j, p in probs.items()}
        logits = module(C.reshape(-1, d), flat).reshape(len(qidx), k, -1)
        cls = torch.where(specific, target, orig)[:, None].expand(-1, k)
        # desired class above the rest, or the original class below the rest
        gap = class_margin(logits, cls)
        gap = torch.where(specific[:, None], gap, -gap)
        hinge = torch.relu(margin - gap).mean(dim=1)
        change = (U.abs() * varying).sum(dim=2)  # MAD units
        for j in cat:  # relaxed "category changed" indicator
            code = query_code[j][:, None, None].expand(-1, k, 1)
            change = change + 1.0 - probs[j].gather(2, code).squeeze(2)
        proximity = change.mean(dim=1) / d
        loss = lam * hinge + problem.proximity_weight * proximity
        if k > 1 and problem.diversity_weight > 0:
            diff = (U[:, :, None, :] - U[:, None, :, :]).abs()
            dist = (diff * varying[:, :, None, :]).sum(dim=3)
            for j in cat:
                pj = probs[j]
                dist = dist + 0.5 * (pj[:, :, None, :] - pj[:, None, :, :]).abs().sum(3)
            K = 1.0 / (1.0 + dist / d) + 1e-4 * eye
            loss = loss - problem.diversity_weight * torch.logdet(K)
        loss.sum().backward()
        opt.step()
        with torch.no_grad():
            C = torch.maximum(torch.minimum(Zq + U * mad, hi), lo)
            U.copy_((C - Zq) / mad)
        if step % check_every == 0 or step == max_iter:
            Z = C.detach().numpy().astype(np.float64)
            # numeric moves below snap MADs are noise of the optimiser: the
            # snapped copy (those cells back at the query) is checked too
            Zs = Z.copy()
            small = np.abs(U.detach().numpy()) < snap
            Zs[small] = np.broadcast_to(problem.Zq[qidx][:, None, :], Z.shape)[small]
            Z = np.concatenate([Zs, Z], axis=1)
            with torch.no_grad():
                for j in cat:
                    masked = logits_of[j].masked_fill(~mask_of[j], -torch.inf)
                    Z[..., j] = np.tile(masked.argmax(dim=-1).numpy(), (1, 2))
            project(Z, bounds, space, qidx, np.zeros_like(Z))
            valid, _ = problem.evaluate(Z.reshape(-1, d), qidx[owner2])
            ok = valid.reshape(len(qidx), 2 * k)
            for row in np.flatnonzero(ok.any(axis=1)):
                pools[qidx[row]].append(Z[row][ok[row]])
            # Wachter: weigh the prediction term up where nothing is valid yet
            found = torch.as_tensor(
                np.array([len(pools[q]) > 0 for q in qidx]), dtype=torch.bool
            )
            lam = torch.where(found, lam, torch.clamp(lam * 2.0, max=1e3))
    return [np.vstack(p) if p else np.empty((0, d)) for p in pools]
