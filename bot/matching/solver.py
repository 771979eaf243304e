"""Exact max-cardinality, max-score b-matching on a dense points matrix.

The full graph of 10k x 10k pairs is too big for an exact solver, so we solve a
sparse candidate graph exactly (LAPJVsp in scipy), prove it optimal for that
graph with LP duals in exact integers, and then check the duals against every
feasible pair of the full matrix. Pairs that violate them are added and the
sparse graph is solved again; when none is left, LP duality proves the
matching optimal for the full problem.

Maximising the number of tandems first is encoded by adding a big constant
``big`` to every pair's points: one more tandem outweighs any score total.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

ROW_CANDIDATES = 24
ROW_VIOLATORS = 16
POOL_PER_SLOT = 24
CHECK_CELLS = 1 << 21
MAX_POINTS = 10_000
UNREACHED = np.int64(1) << 60

Progress = Callable[[int, int], None]


class NotOptimalError(RuntimeError):
    """The sparse solver's answer failed its optimality certificate (should not happen)."""


@dataclass(frozen=True)
class Solution:
    """Matched (mentor index, mentee index) pairs and how the solver got there."""

    mentors: np.ndarray
    mentees: np.ndarray
    rounds: int
    candidate_edges: int


def big_constant(cap_j: np.ndarray, cap_s: np.ndarray) -> int:
    """More than any score total, so cardinality always comes first."""
    slots = min(int(cap_j.sum()), int(cap_s.sum()))
    return (MAX_POINTS + 1) * (slots + 1)


def _top_per_row(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of each row's ``k`` best feasible entries."""
    rows, cols = block.shape
    if cols > k:
        idx = np.argpartition(-block.astype(np.int32), k - 1, axis=1)[:, :k]
    else:
        idx = np.broadcast_to(np.arange(cols), (rows, cols))
    r = np.repeat(np.arange(rows), idx.shape[1])
    c = idx.reshape(-1)
    keep = block[r, c] >= 0
    return r[keep], c[keep]


def row_pool(block: np.ndarray, first_row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best feasible pairs of every row of a block, as (row, col) arrays."""
    r, c = _top_per_row(block, k)
    return (r + first_row).astype(np.int64), c.astype(np.int64)


def candidate_pool(
    points: np.ndarray, cap_j: np.ndarray, floor: int, workers: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Each mentor's best pairs: the reservoir the sparse graph grows from first."""
    n, m = points.shape
    step = max(1, CHECK_CELLS // max(m, 1))

    def one(a: int) -> tuple[np.ndarray, np.ndarray]:
        k = POOL_PER_SLOT * max(1, int(cap_j[a:a + step].max()))
        return row_pool(_floored(points[a:a + step], floor), a, k)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(one, range(0, n, step)))
    return _concat(parts)


def _concat(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _floored(block: np.ndarray, floor: int) -> np.ndarray:
    """Pairs under ``floor`` points count as infeasible (fairness mode)."""
    if floor <= 0:
        return block
    return np.where(block >= floor, block, np.int16(-1))


def solve_sparse(
    ej: np.ndarray, es: np.ndarray, weight: np.ndarray, cap_j: np.ndarray, cap_s: np.ndarray
) -> np.ndarray:
    """Max-weight b-matching of a sparse graph; returns a bool mask over the edges.

    Capacities become slots. An edge between two nodes that both have several
    slots goes through a two-node gadget, so the pair is used at most once.
    Every mentor slot also gets a private dummy, so a full matching exists.
    """
    nj_slots = int(cap_j.sum())
    start_j = np.concatenate(([0], np.cumsum(cap_j)))
    start_s = np.concatenate(([0], np.cumsum(cap_s)))
    ns_slots = int(start_s[-1])
    top = int(weight.max(initial=0)) + 1
    gadget = (cap_j[ej] > 1) & (cap_s[es] > 1)
    gid = np.cumsum(gadget) - 1
    n_gadget = int(gadget.sum())
    g_row0, g_col0 = nj_slots, ns_slots
    dummy0 = ns_slots + n_gadget

    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    cost: list[np.ndarray] = []
    edge_of: list[np.ndarray] = []

    def add(r: np.ndarray, c: np.ndarray, k: np.ndarray, e: np.ndarray) -> None:
        rows.append(r)
        cols.append(c)
        cost.append(k)
        edge_of.append(e)

    direct = np.flatnonzero(~gadget)
    r, c, e = _slot_pairs(start_j[ej[direct]], cap_j[ej[direct]],
                          start_s[es[direct]], cap_s[es[direct]], direct)
    add(r, c, top - weight[e], e)
    via = np.flatnonzero(gadget)
    g = gid[via]
    one = np.ones_like(via)
    r, _, e = _slot_pairs(start_j[ej[via]], cap_j[ej[via]], 0 * one, one, via)
    add(r, g_col0 + gid[e], top - weight[e], e)
    none = np.full(via.size, -1)
    add(g_row0 + g, g_col0 + g, np.full(via.size, top), none)
    _, c, e = _slot_pairs(0 * one, one, start_s[es[via]], cap_s[es[via]], via)
    add(g_row0 + gid[e], c, np.full(e.size, top), np.full(e.size, -1))
    slots = np.arange(nj_slots)
    add(slots, dummy0 + slots, np.full(nj_slots, top), np.full(nj_slots, -1))

    n_rows = nj_slots + n_gadget
    n_cols = dummy0 + nj_slots
    r_all, c_all = np.concatenate(rows), np.concatenate(cols)
    matrix = sp.csr_matrix(
        (np.concatenate(cost).astype(np.float64), (r_all, c_all)), shape=(n_rows, n_cols)
    )
    match_r, match_c = min_weight_full_bipartite_matching(matrix)
    # map matched (row, col) cells back to graph edges via a sorted cell key
    key = r_all.astype(np.int64) * n_cols + c_all
    e_all = np.concatenate(edge_of)
    order = np.argsort(key, kind="stable")
    chosen = np.searchsorted(key[order], match_r.astype(np.int64) * n_cols + match_c)
    used = e_all[order[chosen]]
    is_mentor_row = match_r < nj_slots
    mask = np.zeros(ej.size, dtype=bool)
    mask[used[is_mentor_row & (used >= 0)]] = True
    return mask


def _slot_pairs(
    r0: np.ndarray, rn: np.ndarray, c0: np.ndarray, cn: np.ndarray, edge: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (row slot, column slot) cells of edges, given slot starts and counts."""
    per = rn * cn
    e = np.repeat(edge, per)
    k = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per)
    cn_e = np.repeat(cn, per)
    return np.repeat(r0, per) + k // cn_e, np.repeat(c0, per) + k % cn_e, e


def certify(
    ej: np.ndarray, es: np.ndarray, weight: np.ndarray, used: np.ndarray,
    cap_j: np.ndarray, cap_s: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal LP duals (u, v) proving ``used`` optimal for the sparse graph.

    They are shortest-path distances in the residual graph (Bellman-Ford,
    vectorised); used pairs get the rest of their weight from their own bound
    (x <= 1). A negative cycle, i.e. a better matching, raises NotOptimalError.
    """
    nj, ns = cap_j.size, cap_s.size
    load_j = np.bincount(ej[used], minlength=nj)
    load_s = np.bincount(es[used], minlength=ns)
    dj = np.where(load_j < cap_j, 0, UNREACHED).astype(np.int64)
    ds = np.zeros(ns, dtype=np.int64)
    mj, ms, mw = ej[used], es[used], weight[used]
    fj, fs, fw = ej[~used], es[~used], weight[~used]  # forward arcs: pairs still free
    for _ in range(nj + ns + 2):
        new_ds = ds.copy()
        np.minimum.at(new_ds, fs, dj[fj] - fw)
        new_dj = dj.copy()
        np.minimum.at(new_dj, mj, new_ds[ms] + mw)
        if np.array_equal(new_ds, ds) and np.array_equal(new_dj, dj):
            break
        ds, dj = new_ds, new_dj
    else:
        raise NotOptimalError("negative cycle in the residual graph")
    # people without capacity take no part; duals this high keep them out of the check
    top = int(weight.max(initial=0))
    dj = np.where(cap_j == 0, top, dj)
    ds = np.where(cap_s == 0, -top, ds)
    if (dj < 0).any() or (ds[load_s < cap_s] < 0).any():
        raise NotOptimalError("an augmenting path improves the matching")
    u, v = dj, -ds
    # a used pair may be worth more than u + v: the dual of its "at most once" bound
    surplus = mw - u[mj] - v[ms]
    if (surplus < 0).any():
        raise NotOptimalError("a used pair violates its dual bound")
    primal = int(mw.sum())
    dual = int((u * cap_j).sum() + (v * cap_s).sum() + surplus.sum())
    if primal != dual:
        raise NotOptimalError(f"duality gap {dual - primal}")
    return u, v


def violators(
    points: np.ndarray, u: np.ndarray, v: np.ndarray, big: int, floor: int,
    used_keys: np.ndarray, workers: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Unused feasible pairs whose weight exceeds u + v: where the duals are infeasible.

    Returns at most ``ROW_VIOLATORS`` per mentor, the worst first; any is enough
    to make progress, and the check runs again until none is left.
    """
    n, m = points.shape
    step = max(1, CHECK_CELLS // max(m, 1))
    # int32 is exact while every |u - big| and v stays far below 2**31
    wide = max(int(np.abs(u - big).max(initial=0)), int(v.max(initial=0))) >= 1 << 29
    dtype = np.int64 if wide else np.int32
    row_t: np.ndarray = (u - big).astype(dtype)
    col_t: np.ndarray = v.astype(dtype)
    lowest = np.int16(max(floor, 0))

    def one(a: int) -> tuple[np.ndarray, np.ndarray]:
        block = points[a:a + step]
        gap = block - (row_t[a:a + step, None] + col_t[None, :])
        bad = (gap > 0) & (block >= lowest)
        lo, hi = np.searchsorted(used_keys, [a * m, (a + step) * m])
        inside = used_keys[lo:hi]
        bad[inside // m - a, inside % m] = False
        counts = bad.sum(axis=1)
        if not counts.any():
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if counts.max() <= ROW_VIOLATORS:
            r, c = np.nonzero(bad)
        else:
            r, c = _top_per_row(np.where(bad, gap, -1), ROW_VIOLATORS)
        return (r + a).astype(np.int64), c.astype(np.int64)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return _concat(list(pool.map(one, range(0, n, step))))


def solve(
    points: np.ndarray,
    cap_j: np.ndarray,
    cap_s: np.ndarray,
    floor: int = 0,
    progress: Progress | None = None,
    pool: tuple[np.ndarray, np.ndarray] | None = None,
) -> Solution:
    """Exact: most tandems, then highest total points; pairs under ``floor`` excluded.

    ``pool`` (each mentor's best pairs, see ``candidate_pool``) may be passed in
    when it was collected while the matrix was built.
    """
    n, m = points.shape
    cap_j = cap_j.astype(np.int64)
    cap_s = cap_s.astype(np.int64)
    if n == 0 or m == 0:
        empty = np.zeros(0, np.int64)
        return Solution(empty, empty, 0, 0)
    big = big_constant(cap_j, cap_s)
    pool_j, pool_s = pool if pool is not None else candidate_pool(points, cap_j, floor)
    pool_w = big + points[pool_j, pool_s].astype(np.int64)
    keys = _initial_keys(pool_j, pool_s, pool_w, cap_j, m)
    rounds = 0
    while True:
        rounds += 1
        ej, es = keys // m, keys % m
        weight = big + points[ej, es].astype(np.int64)
        used = solve_sparse(ej, es, weight, cap_j, cap_s)
        u, v = certify(ej, es, weight, used, cap_j, cap_s)
        # cheap check against the pool first; the full check only when it is clean
        used_keys = np.sort(ej[used] * m + es[used])
        bad = (pool_w > u[pool_j] + v[pool_s]) & ~np.isin(pool_j * m + pool_s, used_keys)
        add_j, add_s = pool_j[bad], pool_s[bad]
        if add_j.size == 0:
            add_j, add_s = violators(points, u, v, big, floor, used_keys)
        if progress is not None:
            progress(rounds, rounds + (1 if add_j.size else 0))
        if add_j.size == 0:
            return Solution(ej[used], es[used], rounds, int(ej.size))
        keys = np.union1d(keys, add_j * m + add_s)


def _initial_keys(
    pool_j: np.ndarray, pool_s: np.ndarray, pool_w: np.ndarray, cap_j: np.ndarray, m: int
) -> np.ndarray:
    """The best ``ROW_CANDIDATES`` per mentor slot from the pool, as sorted pair keys."""
    order = np.lexsort((-pool_w, pool_j))
    pj = pool_j[order]
    rank = np.arange(pj.size) - np.searchsorted(pj, pj)
    keep = order[rank < ROW_CANDIDATES * cap_j[pj]]
    return np.unique(pool_j[keep] * m + pool_s[keep])
