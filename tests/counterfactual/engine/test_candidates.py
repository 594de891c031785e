"""Candidate generators (``_engine/candidates.py``)."""

import numpy as np
import pytest

from skcfx.counterfactual._engine import candidates
from skcfx.counterfactual._engine.candidates import (
    categorical_from_uniform,
    pair_changes,
    pool_blocks,
    single_changes,
    unique_pools,
    unique_rows,
)


def test_pair_changes_combine_two_features_several_values_each(captured):
    _, problem, _, _, _ = captured
    qidx = np.arange(problem.n)
    singles = single_changes(problem, qidx)
    q, m, d = singles.shape
    _, loss = problem.evaluate(singles.reshape(-1, d), np.repeat(qidx, m))
    loss = loss.reshape(q, m)
    pairs = pair_changes(problem, qidx, singles, loss, top=8, per_feature=3)
    assert pairs.shape == (q, 28, d)
    Zq = problem.Zq[:, None, :]
    n_changed = problem.space.changed(Zq, pairs).sum(axis=-1)
    # real pairs change exactly two features; padding rows are the query
    assert set(np.unique(n_changed)) <= {0, 2}
    assert (n_changed == 2).sum(axis=1).min() > 0
    # several values of one feature appear across a query's pairs
    a = problem.space.names.index("a")
    values = {v for v in pairs[0][:, a] if v != problem.Zq[0, a]}
    assert 1 < len(values) <= 3
    # per_feature=1 (the random search's setting) keeps one value per feature
    one = pair_changes(problem, qidx, singles, loss, top=3, per_feature=1)
    assert len({v for v in one[0][:, a] if v != problem.Zq[0, a]}) <= 1


@pytest.mark.parametrize("m", [7, 300, 5000])
@pytest.mark.parametrize("collide", [False, True])
def test_distinct_rows_groups_equal_rows_in_order_of_appearance(
    m, collide, monkeypatch
):
    """Hashed grouping (large batches) and a stable sort (small ones) give
    each distinct row once, first appearance first, NaN equal to NaN;
    should every hash collide, the answer is still exact."""
    import pandas as pd

    from skcfx.counterfactual._engine.candidates import distinct_rows

    if collide:
        monkeypatch.setattr(
            pd.util, "hash_array", lambda a: np.zeros(len(a), dtype=np.uint64)
        )
    rng = np.random.default_rng(m)
    Z = rng.integers(0, 3, size=(m, 4)).astype(float)
    Z[rng.random(m) < 0.2, 1] = np.nan
    distinct, first, inverse = distinct_rows(Z)
    np.testing.assert_array_equal(distinct[inverse], Z)  # NaN == NaN here
    np.testing.assert_array_equal(Z[first], distinct)
    assert (np.diff(first) > 0).all() and first[0] == 0
    keys = [tuple(np.nan_to_num(r, nan=-1.0)) for r in Z]
    expected = list(dict.fromkeys(keys))
    assert [keys[f] for f in first] == expected


def test_categorical_from_uniform_slices_the_allowed_codes_evenly():
    """Each allowed code owns an equal slice of [0, 1): the code picked is
    the one whose slice holds ``u`` (by the same float quotients as the
    definition, slice edges included); none allowed gives the last code."""
    rng = np.random.default_rng(1)
    q, K, m = 300, 7, 40
    allowed = rng.random((q, K)) < 0.5
    allowed[:5] = False
    allowed[5:10] = True
    u = rng.random((q, m))
    counts = allowed.sum(axis=1, keepdims=True)
    u[:, :8] = (np.arange(8) % 4)[None, :] / np.maximum(counts, 1)  # edges
    u = np.minimum(u, np.nextafter(1.0, 0.0))
    # the definition: how many cumulative shares u has reached
    cum = np.cumsum(allowed, axis=1) / np.maximum(counts, 1)
    expected = np.minimum((u[..., None] >= cum[:, None, :]).sum(axis=-1), K - 1)
    codes = categorical_from_uniform(allowed, u)
    np.testing.assert_array_equal(codes, expected)
    some = counts[:, 0] > 0
    assert np.take_along_axis(allowed, codes.astype(int), axis=1)[some].all()
    assert (codes[~some] == K - 1).all()


@pytest.mark.parametrize("padded", [False, True])
def test_pool_blocks_cover_the_pools_in_bounded_runs(padded):
    sizes = np.array([0, 5, 3, 40, 0, 0, 2, 9, 9, 1])
    runs = list(pool_blocks(sizes, padded=padded, limit=12))
    assert runs[0][0] == 0 and runs[-1][1] == len(sizes)
    assert all(b0 == a1 for (_, b0), (a1, _) in zip(runs, runs[1:]))
    for a, b in runs:
        need = (b - a) * sizes[a:b].max() if padded else sizes[a:b].sum()
        assert b - a == 1 or need <= 12


@pytest.mark.parametrize("limit", [None, 7])
def test_unique_pools_equal_unique_rows_of_each_pool(limit, monkeypatch):
    rng = np.random.default_rng(2)
    pools = [rng.integers(0, 3, size=(m, 4)).astype(float) for m in (0, 5, 300, 1, 40)]
    pools[2][::7, 1] = np.nan
    pools[3] = pools[3] + 1e-12  # equal to nine decimals
    if limit is not None:  # in runs of a few pools
        monkeypatch.setattr(candidates, "BLOCK_ROWS", limit)
    got = unique_pools(pools, 4)
    assert len(got) == len(pools)
    for g, p in zip(got, pools):
        np.testing.assert_array_equal(g, unique_rows(p).reshape(-1, 4))
