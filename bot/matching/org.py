"""Reporting lines: bounded manager chains and cycle detection in manager data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.matching.model import Person


def manager_map(people: Iterable[Person], org: Mapping[str, str]) -> dict[str, str]:
    """Person id -> manager id; a participant's own ``manager_id`` wins over ``org``."""
    parents = {pid: mid for pid, mid in org.items() if mid}
    for person in people:
        if person.manager_id:
            parents[person.id] = person.manager_id
    return parents


def find_cycles(parents: Mapping[str, str]) -> list[tuple[str, ...]]:
    """Every cycle in the manager graph once, rotated to start at its smallest id."""
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = done
    cycles: list[tuple[str, ...]] = []
    for start in sorted(parents):
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = 1
            path.append(node)
            node = parents.get(node)
        if node is not None and state[node] == 1:
            cycle = path[path.index(node) :]
            low = cycle.index(min(cycle))
            cycles.append(tuple(cycle[low:] + cycle[:low]))
        for visited in path:
            state[visited] = 2
    return sorted(cycles)


def ancestors(person_id: str, parents: Mapping[str, str], depth: int) -> list[str]:
    """Managers up to ``depth`` levels; a chain ends where it would revisit someone."""
    chain: list[str] = []
    seen = {person_id}
    node = parents.get(person_id)
    while node is not None and len(chain) < depth and node not in seen:
        chain.append(node)
        seen.add(node)
        node = parents.get(node)
    return chain
