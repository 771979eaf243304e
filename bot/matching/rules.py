"""Pair rules that are lists rather than attributes: reporting lines, history, blocks,
private wishes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.matching.model import Person, Rules
from bot.matching.org import ancestors


@dataclass(frozen=True)
class PairLists:
    """Forbidden (mentor index, mentee index) pairs, one set per rule."""

    reporting_line: frozenset[tuple[int, int]]
    previous: frozenset[tuple[int, int]]
    blocked: frozenset[tuple[int, int]]
    wished: frozenset[tuple[int, int]] = frozenset()

    def arrays(self, extra: Iterable[tuple[int, int]] = (), *, wishes: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
        """The forbidden pairs as index arrays; ``wishes=False`` leaves the private
        wishes out (to tell whether they changed the outcome)."""
        pairs = sorted(self.reporting_line | self.previous | self.blocked | set(extra)
                       | (self.wished if wishes else frozenset()))
        if not pairs:
            return np.zeros(0, np.intp), np.zeros(0, np.intp)
        both = np.array(pairs, dtype=np.intp)
        return both[:, 0], both[:, 1]

    def reason(self, pair: tuple[int, int]) -> str | None:
        """The rule that forbids ``pair``, or None."""
        if pair in self.reporting_line:
            return "reporting_line"
        if pair in self.previous:
            return "previous_pair"
        if pair in self.blocked:
            return "blocked"
        if pair in self.wished:
            return "private_wish"
        return None


def pair_lists(
    mentors: Sequence[Person],
    mentees: Sequence[Person],
    rules: Rules,
    parents: Mapping[str, str],
) -> PairLists:
    """Index pairs forbidden by reporting lines (both directions), history, blocks and
    private wishes."""
    j_index = {p.id: i for i, p in enumerate(mentors)}
    s_index = {p.id: i for i, p in enumerate(mentees)}
    depth = max(0, rules.reporting_line_depth)
    line: set[tuple[int, int]] = set()
    for j, person in enumerate(mentors):
        line.update((j, s_index[a]) for a in ancestors(person.id, parents, depth) if a in s_index)
    for s, person in enumerate(mentees):
        line.update((j_index[a], s) for a in ancestors(person.id, parents, depth) if a in j_index)

    def indexed(pairs: Iterable[tuple[str, str]]) -> set[tuple[int, int]]:
        found = set()
        for a, b in pairs:
            if a in j_index and b in s_index:
                found.add((j_index[a], s_index[b]))
            elif b in j_index and a in s_index:
                found.add((j_index[b], s_index[a]))
        return found

    previous = set() if rules.allow_repeat_pairs else indexed(rules.previous_pairs)
    return PairLists(frozenset(line), frozenset(previous), frozenset(indexed(rules.blocks)),
                     frozenset(indexed(rules.wishes)))
