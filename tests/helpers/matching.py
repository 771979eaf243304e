"""An independent exact optimum for small matching instances."""

from __future__ import annotations

from functools import cache

import numpy as np


def brute_force(points: np.ndarray, cap_j: np.ndarray, cap_s: np.ndarray) -> tuple[int, int]:
    """Lexicographic best (tandems, total) by exhaustive search over every mentor's choice."""
    n, m = points.shape

    @cache
    def best(j: int, left: tuple[int, ...]) -> tuple[int, int]:
        if j == n:
            return (0, 0)
        options = [s for s in range(m) if points[j, s] >= 0 and left[s] > 0]
        result = best(j + 1, left)
        stack: list[tuple[int, tuple[int, ...], tuple[int, int]]] = [(0, left, (0, 0))]
        while stack:  # every subset of options of size <= cap_j[j]
            start, rest, gain = stack.pop()
            if gain[0] >= cap_j[j]:
                continue
            for k in range(start, len(options)):
                s = options[k]
                if rest[s] == 0:
                    continue
                nxt = (*rest[:s], rest[s] - 1, *rest[s + 1:])
                g = (gain[0] + 1, gain[1] + int(points[j, s]))
                tail = best(j + 1, nxt)
                result = max(result, (g[0] + tail[0], g[1] + tail[1]))
                stack.append((k + 1, nxt, g))
        return result

    return best(0, tuple(int(c) for c in cap_s))
