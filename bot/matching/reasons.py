"""Why somebody got no tandem: the first rule that left them without a partner."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bot.matching import reach
from bot.matching.model import Person, Unmatched
from bot.matching.scoring import shared_bits

if TYPE_CHECKING:
    from bot.matching.engine import Round


def unmatched_reasons(
    prepared: Round, points: np.ndarray, js: np.ndarray, ss: np.ndarray
) -> tuple[Unmatched, ...]:
    """One entry per participant without any tandem, in id order."""
    scorer = prepared.scorer
    j_index = {p.id: i for i, p in enumerate(scorer.mentors.people)}
    s_index = {p.id: i for i, p in enumerate(scorer.mentees.people)}
    matched_j, matched_s = set(js.tolist()), set(ss.tolist())
    listed = _listed_partners(prepared)
    per_mentor, per_mentee = _feasible_counts(points)
    out: list[Unmatched] = []
    for person in prepared.people:
        if not person.available:
            out.append(_entry(person, "unavailable"))
        elif person.capacity <= 0:
            out.append(_entry(person, "no_capacity"))
        elif person.role == "mentor" and j_index[person.id] not in matched_j:
            j = j_index[person.id]
            out.append(_reason(prepared, listed, person, int(per_mentor[j]), np.array([j]), None))
        elif person.role == "mentee" and s_index[person.id] not in matched_s:
            s = s_index[person.id]
            out.append(_reason(prepared, listed, person, int(per_mentee[s]), None, np.array([s])))
    return tuple(out)


def _entry(person: Person, reason: str, **params: str | int) -> Unmatched:
    return Unmatched(person.id, person.name, person.role, reason, params)


def _feasible_counts(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feasible partners per mentor and per mentee, in one pass over row chunks."""
    per_mentor = np.zeros(points.shape[0], dtype=np.int64)
    per_mentee = np.zeros(points.shape[1], dtype=np.int64)
    step = max(1, (1 << 21) // max(points.shape[1], 1))
    for a in range(0, points.shape[0], step):
        ok = points[a:a + step] >= 0
        per_mentor[a:a + step] = ok.sum(axis=1)
        per_mentee += ok.sum(axis=0)
    return per_mentor, per_mentee


Listed = dict[tuple[str, str, int], list[int]]


def _listed_partners(prepared: Round) -> Listed:
    """(rule, role, index) -> the other side's indices that rule forbids."""
    found: Listed = {}
    for code, pairs in (
        ("reporting_line", prepared.pairs.reporting_line),
        ("previous_pair", prepared.pairs.previous),
        ("blocked", prepared.pairs.blocked),
        ("private_wish", prepared.pairs.wished),
    ):
        for j, s in pairs:
            found.setdefault((code, "mentor", j), []).append(s)
            found.setdefault((code, "mentee", s), []).append(j)
    return found


def _reason(
    prepared: Round,
    listed: Listed,
    person: Person,
    feasible: int,
    j: np.ndarray | None,
    s: np.ndarray | None,
) -> Unmatched:
    """Apply the rules one by one; the rule that removes the last partner is the reason."""
    if feasible:
        return _entry(person, "capacity", candidates=feasible)
    scorer, rules = prepared.scorer, prepared.rules
    other = scorer.mentees.size if s is None else scorer.mentors.size
    jj = j if j is not None else np.arange(other)
    sj = s if s is not None else np.arange(other)
    langs = ", ".join(sorted(person.languages))
    if other == 0:
        return _entry(person, "no_partners")
    left = shared_bits(scorer.mentors.languages[jj], scorer.mentees.languages[sj]) > 0
    if not left.any():
        return _entry(person, "no_language", languages=langs)
    steps = []
    unreachable = reach.apart(scorer.reach_codes, jj, sj)
    if unreachable is not None:
        steps.append((reach.CODE, ~unreachable))
    if rules.forbid_same_department:
        steps.append(("same_department", scorer.mentors.department[jj]
                      != scorer.mentees.department[sj]))
    if rules.forbid_same_manager:
        steps.append(("same_team", scorer.mentors.manager[jj] != scorer.mentees.manager[sj]))
    me = int(j[0]) if j is not None else int(s[0]) if s is not None else -1
    for code in ("reporting_line", "previous_pair", "blocked", "private_wish"):
        mask = np.ones(other, dtype=bool)
        mask[listed.get((code, person.role, me), [])] = False
        steps.append((code, mask))
    for code, mask in steps:
        left = left & mask
        if not left.any():
            return _entry(person, code, languages=langs, department=person.department or "")
    return _entry(person, "no_partners")
