"""Greedy baseline (benchmarks only): take the best remaining pair until none fits."""

from __future__ import annotations

import numpy as np

from bot.matching.solver import candidate_pool


def greedy_pairs(
    points: np.ndarray, cap_j: np.ndarray, cap_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best-first over each mentor's best pairs; ties by (mentor, mentee) index."""
    pj, ps = candidate_pool(points, cap_j, 0)
    score = points[pj, ps]
    order = np.lexsort((ps, pj, -score.astype(np.int32)))
    left_j, left_s = cap_j.astype(np.int64).tolist(), cap_s.astype(np.int64).tolist()
    mentors, mentees = pj.tolist(), ps.tolist()
    chosen: list[int] = []
    for e in order.tolist():
        j, s = mentors[e], mentees[e]
        if left_j[j] > 0 and left_s[s] > 0:
            left_j[j] -= 1
            left_s[s] -= 1
            chosen.append(e)
    picked = np.array(chosen, dtype=np.int64)
    return pj[picked], ps[picked]
