"""The matching round: from participants and rules to an explained, optimal result."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from bot.matching import reach
from bot.matching.encode import (
    NO_TZ,
    Vocabulary,
    encode_side,
    normalise,
    utc_offset_minutes,
)
from bot.matching.greedy import greedy_pairs
from bot.matching.model import (
    Explanation,
    MatchResult,
    MatchWarning,
    Person,
    Rules,
    SolveStats,
    Tandem,
)
from bot.matching.org import find_cycles, manager_map
from bot.matching.reasons import unmatched_reasons
from bot.matching.rules import PairLists, pair_lists
from bot.matching.scoring import INFEASIBLE, PointTables, Scorer
from bot.matching.solver import Solution, solve

# a fixed default instant for UTC offsets, so results never depend on the clock
DEFAULT_REFERENCE = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Round:
    """Everything derived from the input that solving and explaining need."""

    people: tuple[Person, ...]
    rules: Rules
    scorer: Scorer
    pairs: PairLists
    pinned: tuple[tuple[int, int], ...]
    residual_j: np.ndarray
    residual_s: np.ndarray
    warnings: tuple[MatchWarning, ...]


def match(
    people: Sequence[Person],
    rules: Rules | None = None,
    org: Mapping[str, str] | None = None,
    *,
    reference: datetime = DEFAULT_REFERENCE,
    progress: Progress | None = None,
) -> MatchResult:
    """The optimal round: most tandems first, then the highest total score.

    With ``rules.fairness`` the worst tandem's score is maximised before the total.
    ``reference`` is the instant at which time-zone offsets are compared.
    """
    prepared = prepare(people, rules or Rules(), org or {}, reference)
    n = prepared.scorer.mentors.size

    def build(done: int, _total: int) -> None:
        if progress is not None:
            progress(done, n + 1)

    points = prepared.scorer.matrix(forbidden_arrays(prepared), progress=build)
    solution = _best(points, prepared)
    if _wishes_cost(prepared, points, solution):
        prepared = replace(prepared, warnings=(*prepared.warnings, WISH_CHANGED))
    if progress is not None:
        progress(n + 1, n + 1)
    return assemble(prepared, points, solution)


#: Said in a proposal when private wishes changed it: never whose, nor about whom.
WISH_CHANGED = MatchWarning("private_wish", ())


def _best(points: np.ndarray, prepared: Round) -> Solution:
    solution = solve(points, prepared.residual_j, prepared.residual_s)
    return _fairest(points, prepared, solution) if prepared.rules.fairness else solution


def _wishes_cost(prepared: Round, points: np.ndarray, solution: Solution) -> bool:
    """Whether the private wishes changed the outcome: without them the round would
    have more tandems, a better worst tandem (with fairness) or a higher total. Solved
    a second time only when a wished pair would otherwise be allowed at all."""
    if not prepared.pairs.wished:
        return False
    free = prepared.scorer.matrix(prepared.pairs.arrays(prepared.pinned, wishes=False))
    if not any(free[j, s] >= 0 for j, s in prepared.pairs.wished):
        return False
    return _rank(free, _best(free, prepared), prepared) > _rank(points, solution, prepared)


def _rank(points: np.ndarray, solution: Solution, prepared: Round) -> tuple[int, int, int]:
    scores = points[solution.mentors, solution.mentees]
    worst = int(scores.min()) if prepared.rules.fairness and scores.size else 0
    return int(scores.size), worst, int(scores.sum())


def greedy_match(
    people: Sequence[Person],
    rules: Rules | None = None,
    org: Mapping[str, str] | None = None,
    *,
    reference: datetime = DEFAULT_REFERENCE,
) -> MatchResult:
    """Baseline for benchmarks only: best pairs first, no optimality."""
    prepared = prepare(people, rules or Rules(), org or {}, reference)
    points = prepared.scorer.matrix(forbidden_arrays(prepared))
    j, s = greedy_pairs(points, prepared.residual_j, prepared.residual_s)
    return assemble(prepared, points, Solution(j, s, 0, 0))


def forbidden_arrays(prepared: Round) -> tuple[np.ndarray, np.ndarray]:
    """Pairs the solver must not use: rule lists, plus pins already placed."""
    return prepared.pairs.arrays(prepared.pinned)


def _fairest(points: np.ndarray, prepared: Round, best: Solution) -> Solution:
    """Max-cardinality matching whose worst score is highest, then the highest total."""
    count = best.mentors.size
    if count == 0:
        return best
    lo = int(points[best.mentors, best.mentees].min())  # reachable: ``best`` has it
    hi = int(points.max())
    chosen = best
    while lo < hi:
        mid = (lo + hi + 1) // 2
        trial = solve(points, prepared.residual_j, prepared.residual_s, floor=mid)
        if trial.mentors.size == count:
            lo, chosen = mid, trial
        else:
            hi = mid - 1
    if chosen is best and lo > 0:
        chosen = solve(points, prepared.residual_j, prepared.residual_s, floor=lo)
    return chosen


def prepare(
    people: Sequence[Person], rules: Rules, org: Mapping[str, str], reference: datetime
) -> Round:
    """Validate, sort by id (so input order never matters), encode, place pins."""
    ordered = tuple(sorted(people, key=lambda p: p.id))
    ids = [p.id for p in ordered]
    duplicates = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) < len(ids) else []
    if duplicates:
        raise ValueError(f"duplicate person ids: {duplicates}")
    parents = manager_map(ordered, org)
    warnings = [MatchWarning("manager_cycle", c) for c in find_cycles(parents)]
    warnings += [
        MatchWarning("unknown_timezone", (p.id,), {"timezone": p.timezone or ""})
        for p in ordered
        if p.timezone and _offset_unknown(p, reference)
    ]
    active = [p for p in ordered if p.available and p.capacity > 0]
    mentors = [p for p in active if p.role == "mentor"]
    mentees = [p for p in active if p.role == "mentee"]
    vocab = Vocabulary.of(active)
    scorer = Scorer(
        encode_side(mentors, [p.capacity for p in mentors],
                    [parents.get(p.id) for p in mentors], vocab, reference, -1),
        encode_side(mentees, [p.capacity for p in mentees],
                    [parents.get(p.id) for p in mentees], vocab, reference, -2),
        rules,
        PointTables.of(rules.weights),
    )
    pairs = pair_lists(mentors, mentees, rules, parents)
    pinned, pin_warnings, residual_j, residual_s = _place_pins(ordered, scorer, pairs, rules)
    return Round(
        people=ordered, rules=rules, scorer=scorer, pairs=pairs, pinned=pinned,
        residual_j=residual_j, residual_s=residual_s,
        warnings=tuple(warnings + pin_warnings),
    )


def _offset_unknown(person: Person, reference: datetime) -> bool:
    return utc_offset_minutes(person.timezone, reference) is None


def _place_pins(
    people: Sequence[Person], scorer: Scorer, pairs: PairLists, rules: Rules
) -> tuple[tuple[tuple[int, int], ...], list[MatchWarning], np.ndarray, np.ndarray]:
    """Honour every pin that breaks no hard rule; report the others."""
    by_id = {p.id: p for p in people}
    j_index = {p.id: i for i, p in enumerate(scorer.mentors.people)}
    s_index = {p.id: i for i, p in enumerate(scorer.mentees.people)}
    left_j = scorer.mentors.capacity.copy()
    left_s = scorer.mentees.capacity.copy()
    placed: list[tuple[int, int]] = []
    warnings: list[MatchWarning] = []
    for a, b in sorted(rules.pins):
        pair = (a, b) if by_id.get(a) is None or by_id[a].role == "mentor" else (b, a)
        problem = _pin_problem(pair, by_id, j_index, s_index, scorer, pairs, placed)
        if problem is None:
            j, s = j_index[pair[0]], s_index[pair[1]]
            if left_j[j] < 1 or left_s[s] < 1:
                problem = "capacity"
            else:
                left_j[j] -= 1
                left_s[s] -= 1
                placed.append((j, s))
        if problem is not None:
            warnings.append(MatchWarning("pin_broken", pair, {"rule": problem}))
    return tuple(placed), warnings, left_j, left_s


def _pin_problem(
    pair: tuple[str, str],
    by_id: Mapping[str, Person],
    j_index: Mapping[str, int],
    s_index: Mapping[str, int],
    scorer: Scorer,
    pairs: PairLists,
    placed: Sequence[tuple[int, int]],
) -> str | None:
    """Why a pin cannot be honoured (a rule code), or None."""
    mentor, mentee = by_id.get(pair[0]), by_id.get(pair[1])
    if mentor is None or mentee is None:
        return "unknown_person"
    if mentor.role == mentee.role:
        return "same_role"
    if not (mentor.available and mentee.available):
        return "unavailable"
    if pair[0] not in j_index or pair[1] not in s_index:
        return "capacity"
    j, s = j_index[pair[0]], s_index[pair[1]]
    if (j, s) in placed:
        return "duplicate"
    listed = pairs.reason((j, s))
    if listed is not None:
        return listed
    parts = scorer.components(np.array([j]), np.array([s]))
    if int(parts["shared_languages"][0]) == 0:
        return "no_language"
    if reach.is_apart(scorer.reach_codes, j, s):
        return reach.CODE
    if int(scorer.points(np.array([j]), np.array([s]))[0]) == INFEASIBLE:
        same_dept = scorer.mentors.department[j] == scorer.mentees.department[s]
        return "same_department" if same_dept else "same_team"
    return None


def assemble(prepared: Round, points: np.ndarray, solution: Solution) -> MatchResult:
    """Tandems with explanations, unmatched people with reasons, and the totals."""
    scorer = prepared.scorer
    js = np.concatenate([[p[0] for p in prepared.pinned], solution.mentors]).astype(np.intp)
    ss = np.concatenate([[p[1] for p in prepared.pinned], solution.mentees]).astype(np.intp)
    n_pinned = len(prepared.pinned)
    parts = scorer.components(js, ss)
    totals = scorer.points(js, ss)
    tandems = []
    for k, (j, s) in enumerate(zip(js.tolist(), ss.tolist(), strict=True)):
        if k >= n_pinned and int(points[j, s]) != int(totals[k]):
            raise AssertionError("score matrix and pair scores disagree")
        tandems.append(_tandem(scorer, j, s, {n: int(parts[n][k]) for n in parts},
                               max(0, int(totals[k])), pinned=k < n_pinned))
    tandems.sort(key=lambda t: (t.mentee_id, t.mentor_id))
    scores = [t.score for t in tandems]
    total = round(sum(round(x * 100) for x in scores) / 100, 2)
    unmatched = unmatched_reasons(prepared, points, js, ss)
    stats = SolveStats(
        rounds=solution.rounds,
        candidate_edges=solution.candidate_edges,
        feasible_pairs=int(np.count_nonzero(points >= 0)),
        proven_optimal=solution.rounds > 0,
    )
    return MatchResult(
        tandems=tuple(tandems),
        total_score=total,
        average_score=round(total / len(tandems), 2) if tandems else 0.0,
        worst_score=min(scores) if scores else None,
        unmatched=unmatched,
        warnings=prepared.warnings,
        stats=stats,
    )


def _tandem(
    scorer: Scorer, j: int, s: int, parts: dict[str, int], total: int, pinned: bool
) -> Tandem:
    mentor, mentee = scorer.mentors.people[j], scorer.mentees.people[s]
    offered_wished = tuple(sorted(mentor.topics & mentee.topics))
    common = (mentor.topics | mentor.interests) & (mentee.topics | mentee.interests)
    tz_j, tz_s = int(scorer.mentors.tz_minutes[j]), int(scorer.mentees.tz_minutes[s])
    place_j, place_s = normalise(mentor.location), normalise(mentee.location)
    languages = {normalise(x) for x in mentor.languages} & {normalise(x) for x in mentee.languages}
    modes = {mentor.meeting_mode, mentee.meeting_mode}
    explanation = Explanation(
        offered_wished=offered_wished,
        shared_topics=tuple(sorted(common - set(offered_wished))),
        mentor_mode=mentor.meeting_mode,
        mentee_mode=mentee.meeting_mode,
        mode_compatible=modes != {"remote", "in_person"},
        tz_difference_hours=None if NO_TZ in (tz_j, tz_s) else abs(tz_j - tz_s) / 60,
        same_location=None if place_j is None or place_s is None else place_j == place_s,
        languages=tuple(sorted(x for x in languages if x)),
        points={k: v / 100 for k, v in parts.items() if k != "shared_languages"},
    )
    return Tandem(
        mentor_id=mentor.id, mentee_id=mentee.id, mentor_name=mentor.name,
        mentee_name=mentee.name, score=total / 100, explanation=explanation, pinned=pinned,
    )

