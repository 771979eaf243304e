"""Soft score and pairwise hard rules, computed vectorised in integer points.

A tandem scores 0..10000 points internally (shown as 0..100.00). Integers keep
the optimisation exact and the result identical on every machine.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bot.matching import reach
from bot.matching.encode import NO_TZ, Side
from bot.matching.model import Rules, Weights

MAX_POINTS = 10_000
TOPIC_CAP = 3  # three wished topics covered count as a full topic score
TZ_ZERO_MINUTES = 8 * 60  # eight hours apart or more: no time-zone points
MODE_MISMATCH = 0.2  # remote vs in-person: possible, but a poor fit
REMOTE, IN_PERSON, EITHER = 0, 1, 2
INFEASIBLE = -1
NO_LANGUAGE = -30_000  # far below zero: stays negative whatever is added
CHUNK_CELLS = 1 << 20
PROFILE_CELLS = 1 << 25


@dataclass(frozen=True)
class PointTables:
    """The weights turned into integer points per component."""

    topics: np.ndarray  # [wish count 0..3, overlap 0..3]
    mode: np.ndarray  # [mentor mode, mentee mode]
    timezone: np.ndarray  # [minutes apart, 0..TZ_ZERO_MINUTES]
    tz_unknown: int
    location: int
    location_unknown: int
    languages: np.ndarray  # [shared languages 0..2]

    @classmethod
    def of(cls, weights: Weights) -> PointTables:
        parts = (weights.topics, weights.meeting_mode, weights.timezone,
                 weights.location, weights.languages)
        if min(parts) < 0:
            raise ValueError("weights must not be negative")
        total = sum(parts)
        unit = MAX_POINTS / total if total > 0 else 0.0

        def pts(weight: float, fraction: float) -> int:
            return round(weight * unit * fraction)

        topics = np.zeros((TOPIC_CAP + 1, TOPIC_CAP + 1), dtype=np.int16)
        for wishes in range(1, TOPIC_CAP + 1):
            for overlap in range(TOPIC_CAP + 1):
                topics[wishes, overlap] = pts(weights.topics, min(overlap, wishes) / wishes)
        mode = np.full((3, 3), pts(weights.meeting_mode, 1.0), dtype=np.int16)
        mode[REMOTE, IN_PERSON] = mode[IN_PERSON, REMOTE] = pts(weights.meeting_mode, MODE_MISMATCH)
        minutes = np.arange(TZ_ZERO_MINUTES + 1)
        timezone = np.array(
            [pts(weights.timezone, 1 - m / TZ_ZERO_MINUTES) for m in minutes], dtype=np.int16
        )
        languages = np.array([0, pts(weights.languages, 0.5), pts(weights.languages, 1.0)],
                             dtype=np.int16)
        return cls(
            topics=topics, mode=mode, timezone=timezone,
            tz_unknown=pts(weights.timezone, 0.5),
            location=pts(weights.location, 1.0),
            location_unknown=pts(weights.location, 0.5),
            languages=languages,
        )


def shared_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Shared bits of broadcastable bitset arrays whose last axis holds the words."""
    count: np.ndarray = np.bitwise_count(a[..., 0] & b[..., 0])
    for word in range(1, a.shape[-1]):
        count += np.bitwise_count(a[..., word] & b[..., word])
    return count


@dataclass(frozen=True)
class Scorer:
    """Scores and feasibility of mentor x mentee pairs for one round.

    Methods take broadcastable mentor and mentee index arrays: ``(rows, 1)`` x
    ``(1, cols)`` for a block of the matrix, or two vectors for a list of pairs.
    """

    mentors: Side
    mentees: Side
    rules: Rules
    tables: PointTables

    def components(self, j: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
        """Points per score component, plus the shared-language count."""
        mj, ms, tab = self.mentors, self.mentees, self.tables
        shared = shared_bits(mj.languages[j], ms.languages[s])
        return {
            "shared_languages": shared,
            "languages": tab.languages[np.minimum(shared, 2)],
            "topics": self._topic_points(j, s),
            "meeting_mode": self._mode_points(j, s),
            "timezone": self._tz_points(j, s),
            "location": self._location_base(j, s) + self._location_bonus(j, s),
        }

    def points(self, j: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Total points; ``INFEASIBLE`` where a pairwise hard rule forbids the pair."""
        total = self._profile_points(j, s) + self._topic_points(j, s)
        total += self._location_bonus(j, s)
        return self._finish(total, j, s)

    def block(self, rows: slice) -> np.ndarray:
        """Points of mentors ``rows`` x all mentees, the fast way.

        Mentors with equal mode, time zone, location kind and languages share one
        row of those components, so it is computed once per profile and copied.
        """
        j = np.arange(rows.start, rows.stop)
        s = np.arange(self.mentees.size)[None, :]
        table = self._profile_table
        if table is not None:
            total = table[self._profile_ids[rows]]
        else:
            _, first, inverse = np.unique(
                self._profile_ids[rows], return_index=True, return_inverse=True
            )
            total = self._profile_points(j[first][:, None], s)[inverse.reshape(-1)]
        total += self._topic_points(j[:, None], s)
        total += self._location_bonus(j[:, None], s)
        return self._finish(total, j[:, None], s)

    def _finish(self, total: np.ndarray, j: np.ndarray, s: np.ndarray) -> np.ndarray:
        np.minimum(total, MAX_POINTS, out=total)
        if self.rules.forbid_same_department:
            total[self.mentors.department[j] == self.mentees.department[s]] = INFEASIBLE
        if self.rules.forbid_same_manager:
            total[self.mentors.manager[j] == self.mentees.manager[s]] = INFEASIBLE
        unreachable = reach.apart(self.reach_codes, j, s)
        if unreachable is not None:
            total[np.broadcast_to(unreachable, total.shape)] = INFEASIBLE
        np.maximum(total, INFEASIBLE, out=total)
        return total

    def _profile_points(self, j: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Components that depend only on a mentor's profile; ``NO_LANGUAGE`` if none."""
        shared = shared_bits(self.mentors.languages[j], self.mentees.languages[s])
        total: np.ndarray = self.tables.languages[np.minimum(shared, 2)] + self._mode_points(j, s)
        total += self._tz_points(j, s)
        total += self._location_base(j, s)
        total[shared == 0] = NO_LANGUAGE
        return total

    @cached_property
    def reach_codes(self) -> tuple[np.ndarray, np.ndarray] | None:
        return reach.reach_codes(self.mentors.people, self.mentees.people)

    @cached_property
    def _profile_ids(self) -> np.ndarray:
        """Mentors with equal mode, time zone, location kind and languages share an id."""
        mj = self.mentors
        _, tz = np.unique(mj.tz_minutes, return_inverse=True)
        _, langs = np.unique(mj.languages, axis=0, return_inverse=True)
        kind = self._location_kind(np.arange(mj.size))
        tz, langs = tz.reshape(-1).astype(np.int64), langs.reshape(-1).astype(np.int64)
        key = ((langs * (tz.max(initial=0) + 1) + tz) * 3 + mj.mode) * 3 + kind
        return np.unique(key, return_inverse=True)[1].reshape(-1)

    @cached_property
    def _profile_table(self) -> np.ndarray | None:
        """Profile points of every profile x mentee, when that table is small enough."""
        ids = self._profile_ids
        count = int(ids.max(initial=-1)) + 1
        if count * self.mentees.size > PROFILE_CELLS or count * 4 > max(self.mentors.size, 1):
            return None
        first = np.zeros(count, dtype=np.intp)
        first[ids[::-1]] = np.arange(ids.size)[::-1]
        return self._profile_points(first[:, None], np.arange(self.mentees.size)[None, :])

    @cached_property
    def _wish_steps(self) -> np.ndarray:
        """Per mentee, the points gained by the 1st, 2nd and 3rd wished topic covered."""
        wishes = np.minimum(np.bitwise_count(self.mentees.topics).sum(axis=1), TOPIC_CAP)
        table = self.tables.topics[wishes.astype(np.intp)]
        steps: np.ndarray = np.diff(table, axis=1).astype(np.int16)
        return steps

    def _topic_points(self, j: np.ndarray, s: np.ndarray) -> np.ndarray:
        overlap = shared_bits(self.mentors.topics[j], self.mentees.topics[s])
        steps = self._wish_steps[s]
        points: np.ndarray = (overlap >= 1) * steps[..., 0]
        for level in range(2, TOPIC_CAP + 1):
            points += (overlap >= level) * steps[..., level - 1]
        return points

    def _mode_points(self, j: np.ndarray, s: np.ndarray) -> np.ndarray:
        points: np.ndarray = self.tables.mode[self.mentors.mode[j], self.mentees.mode[s]]
        return points

    def _tz_points(self, j: np.ndarray, s: np.ndarray) -> np.ndarray:
        tj = self.mentors.tz_minutes[j].astype(np.int32)
        ts = self.mentees.tz_minutes[s].astype(np.int32)
        apart = np.minimum(np.abs(tj - ts), TZ_ZERO_MINUTES)
        unknown = (tj == NO_TZ) | (ts == NO_TZ)
        return np.where(unknown, np.int16(self.tables.tz_unknown), self.tables.timezone[apart])

    def _location_kind(self, j: np.ndarray) -> np.ndarray:
        """0: meets remotely only, 1: location unknown, 2: location known."""
        mj = self.mentors
        known = np.where(mj.location[j] >= 0, 2, 1)
        return np.where(mj.mode[j] == REMOTE, 0, known)

    def _location_base(self, j: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Location points before the same-place bonus; full when either meets remotely."""
        tab = self.tables
        kind = self._location_kind(j)
        mentee_known = self.mentees.location[s] >= 0
        base = np.where((kind == 1) | ~mentee_known, tab.location_unknown, 0)
        remote = (kind == 0) | (self.mentees.mode[s] == REMOTE)
        return np.where(remote, tab.location, base).astype(np.int16)

    def _location_bonus(self, j: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Full location points when both meet in person at the same known place."""
        ms = self.mentees
        place = np.where(self._location_kind(j) == 2, self.mentors.location[j], -3)
        same = (place == ms.location[s]) & (ms.mode[s] != REMOTE)
        bonus: np.ndarray = same * np.int16(self.tables.location)
        return bonus

    def matrix(
        self,
        forbidden: tuple[np.ndarray, np.ndarray],
        progress: Callable[[int, int], None] | None = None,
        workers: int = 2,
    ) -> np.ndarray:
        """The full int16 points matrix, built in row chunks on ``workers`` threads."""
        n, m = self.mentors.size, self.mentees.size
        out = np.empty((n, m), dtype=np.int16)
        step = max(1, CHUNK_CELLS // max(m, 1))
        chunks = [slice(a, min(a + step, n)) for a in range(0, n, step)]

        def fill(rows: slice) -> int:
            out[rows] = self.block(rows)
            filled: int = rows.stop - rows.start
            return filled

        done = 0
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for count in pool.map(fill, chunks):
                done += count
                if progress is not None:
                    progress(done, n)
        out[forbidden] = INFEASIBLE
        return out
