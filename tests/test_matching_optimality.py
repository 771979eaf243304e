"""The solver is exact: checked against brute force and scipy's dense assignment."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from bot.matching.solver import big_constant, solve
from tests.helpers.matching import brute_force


def dense_optimum(points: np.ndarray, cap_s: np.ndarray) -> tuple[int, int]:
    """Independent exact optimum with mentors of capacity 1: dense LSA on mentee slots."""
    slots = np.repeat(np.arange(points.shape[1]), cap_s)
    expanded = points[:, slots].astype(np.float64)
    big = big_constant(np.ones(points.shape[0], np.int64), cap_s)
    weight = np.where(expanded >= 0, big + expanded, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    chosen = expanded[rows, cols]
    chosen = chosen[chosen >= 0]
    return int(chosen.size), int(chosen.sum())


def random_instance(
    rng: np.random.Generator, n: int, m: int, max_cap_j: int, max_cap_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points = rng.integers(0, 10_001, (n, m)).astype(np.int16)
    if rng.random() < 0.3:  # many ties stress the tie handling
        points = (points // 2500 * 2500).astype(np.int16)
    points[rng.random((n, m)) < rng.random()] = -1
    return points, rng.integers(1, max_cap_j + 1, n), rng.integers(1, max_cap_s + 1, m)


def result_of(points: np.ndarray, cap_j: np.ndarray, cap_s: np.ndarray) -> tuple[int, int]:
    sol = solve(points, cap_j, cap_s)
    pairs = set(zip(sol.mentors.tolist(), sol.mentees.tolist(), strict=True))
    assert len(pairs) == sol.mentors.size, "a pair was used twice"
    assert (np.bincount(sol.mentors, minlength=cap_j.size) <= cap_j).all()
    assert (np.bincount(sol.mentees, minlength=cap_s.size) <= cap_s).all()
    assert (points[sol.mentors, sol.mentees] >= 0).all()
    return int(sol.mentors.size), int(points[sol.mentors, sol.mentees].sum())


@pytest.mark.parametrize("seed", range(250))
def test_equals_brute_force_with_capacities_on_both_sides(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    points, cap_j, cap_s = random_instance(rng, n, m, 2 if n * m <= 36 else 1, 3)
    assert result_of(points, cap_j, cap_s) == brute_force(points, cap_j, cap_s)


@pytest.mark.parametrize("seed", range(40))
def test_equals_dense_assignment_up_to_hundreds(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    n, m = int(rng.integers(1, 300)), int(rng.integers(1, 300))
    points, _, cap_s = random_instance(rng, n, m, 1, 3)
    cap_j = np.ones(n, np.int64)
    assert result_of(points, cap_j, cap_s) == dense_optimum(points, cap_s)


@pytest.mark.parametrize(
    "n, m, density", [(2000, 2000, 0.7), (2000, 1200, 0.05), (1500, 2000, 0.9)]
)
def test_equals_dense_assignment_at_two_thousand(n: int, m: int, density: float) -> None:
    rng = np.random.default_rng(n + m)
    points = rng.integers(0, 10_001, (n, m)).astype(np.int16)
    points[rng.random((n, m)) > density] = -1
    cap_j, cap_s = np.ones(n, np.int64), rng.integers(1, 3, m)
    assert result_of(points, cap_j, cap_s) == dense_optimum(points, cap_s)


def test_cardinality_beats_score() -> None:
    # one great pair would block two weak ones: two tandems must win
    points = np.array([[10_000, 1], [1, -1]], dtype=np.int16)
    assert result_of(points, np.ones(2, np.int64), np.ones(2, np.int64)) == (2, 2)


def test_floor_excludes_low_pairs() -> None:
    points = np.array([[9000, 100], [8000, -1]], dtype=np.int16)
    sol = solve(points, np.ones(2, np.int64), np.ones(2, np.int64), floor=5000)
    assert sol.mentors.size == 1 and int(points[sol.mentors, sol.mentees].min()) >= 5000


def test_empty_sides() -> None:
    assert solve(np.zeros((0, 3), np.int16), np.zeros(0), np.ones(3)).mentors.size == 0
    one = np.ones(2, np.int64)
    assert result_of(np.full((2, 2), -1, np.int16), one, one) == (0, 0)
