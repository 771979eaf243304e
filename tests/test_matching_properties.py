"""Property-based checks: rules never broken, capacities held, maximal, deterministic."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.matching import Person, Rules, match
from bot.matching.encode import normalise
from bot.matching.engine import DEFAULT_REFERENCE, forbidden_arrays, prepare
from bot.matching.org import ancestors, manager_map
from tests.helpers.matching import brute_force

IDS = [f"p{i}" for i in range(10)]


@st.composite
def rounds(draw: st.DrawFn) -> tuple[list[Person], Rules, dict[str, str]]:
    count = draw(st.integers(1, 9))
    people = []
    for i in range(count):
        role = draw(st.sampled_from(["mentor", "mentee"]))
        people.append(Person(
            id=IDS[i], name=IDS[i], role=role,
            department=draw(st.sampled_from([None, "A", "a ", "B"])),
            manager_id=draw(st.sampled_from([None, *IDS[:count], "boss"])),
            topics=frozenset(draw(st.sets(st.sampled_from("wxyz"), max_size=3))),
            languages=frozenset(draw(st.sets(st.sampled_from(["de", "EN", "fr"]), max_size=2))),
            meeting_mode=draw(st.sampled_from(["remote", "in_person", "either"])),
            timezone=draw(st.sampled_from([None, "Europe/Berlin", "America/New_York", "Nope/X"])),
            location=draw(st.sampled_from([None, "Berlin", "berlin", "Rome"])),
            capacity=draw(st.integers(0, 3)),
            available=draw(st.booleans()) or draw(st.booleans()),
        ))
    pair = st.tuples(st.sampled_from(IDS[:count]), st.sampled_from(IDS[:count]))
    rules = Rules(
        reporting_line_depth=draw(st.integers(0, 3)),
        forbid_same_department=draw(st.booleans()),
        forbid_same_manager=draw(st.booleans()),
        allow_repeat_pairs=draw(st.booleans()),
        previous_pairs=frozenset(draw(st.lists(pair, max_size=3))),
        pins=frozenset(draw(st.lists(pair, max_size=2))),
        blocks=frozenset(draw(st.lists(pair, max_size=3))),
        fairness=draw(st.booleans()),
    )
    org = draw(st.dictionaries(st.sampled_from([*IDS[:count], "boss"]),
                               st.sampled_from([*IDS[:count], "boss"]), max_size=4))
    return people, rules, org


def broken_rules(m: Person, s: Person, rules: Rules, parents: dict[str, str]) -> list[str]:
    """Every hard rule the pair (m, s) breaks, checked independently of the engine."""
    broken = []
    if (m.role, s.role) != ("mentor", "mentee"):
        broken.append("roles")
    if not (m.available and s.available):
        broken.append("available")
    if not {normalise(x) for x in m.languages} & {normalise(x) for x in s.languages}:
        broken.append("language")
    depth = rules.reporting_line_depth
    if s.id in ancestors(m.id, parents, depth) or m.id in ancestors(s.id, parents, depth):
        broken.append("reporting_line")
    if rules.forbid_same_department and normalise(m.department) is not None \
            and normalise(m.department) == normalise(s.department):
        broken.append("department")
    if rules.forbid_same_manager and parents.get(m.id) is not None \
            and parents.get(m.id) == parents.get(s.id):
        broken.append("team")
    both = {(m.id, s.id), (s.id, m.id)}
    if both & rules.blocks:
        broken.append("blocked")
    if not rules.allow_repeat_pairs and both & rules.previous_pairs:
        broken.append("previous")
    return broken


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds())
def test_rules_capacities_and_maximality(case: tuple[list[Person], Rules, dict[str, str]]) -> None:
    people, rules, org = case
    result = match(people, rules, org)
    by_id = {p.id: p for p in people}
    parents = manager_map(people, org)
    seen: set[tuple[str, str]] = set()
    load: dict[str, int] = {}
    for t in result.tandems:
        assert (t.mentor_id, t.mentee_id) not in seen
        seen.add((t.mentor_id, t.mentee_id))
        assert broken_rules(by_id[t.mentor_id], by_id[t.mentee_id], rules, parents) == []
        assert 0 <= t.score <= 100
        for pid in (t.mentor_id, t.mentee_id):
            load[pid] = load.get(pid, 0) + 1
    assert all(load[pid] <= by_id[pid].capacity for pid in load)
    matched = {pid for pair in seen for pid in pair}
    assert {u.person_id for u in result.unmatched} == set(by_id) - matched
    # maximal: as many tandems (and, without fairness, as much score) as brute force
    prepared = prepare(people, rules, org, DEFAULT_REFERENCE)
    points = prepared.scorer.matrix(forbidden_arrays(prepared))
    count, total = brute_force(points, prepared.residual_j, prepared.residual_s)
    solved = [t for t in result.tandems if not t.pinned]
    assert len(solved) == count
    if not rules.fairness:
        assert sum(round(t.score * 100) for t in solved) == total


@settings(max_examples=60, deadline=None)
@given(rounds(), st.randoms(use_true_random=False))
def test_same_input_shuffled_gives_same_output(
    case: tuple[list[Person], Rules, dict[str, str]], rnd: random.Random
) -> None:
    people, rules, org = case
    shuffled = list(people)
    rnd.shuffle(shuffled)
    assert match(people, rules, org) == match(shuffled, rules, dict(reversed(org.items())))


def test_determinism_on_a_larger_round() -> None:
    rng = np.random.default_rng(3)
    people = [
        Person(id=f"{role}{i:03d}", name="x", role=role,  # type: ignore[arg-type]
               topics=frozenset({f"t{int(k)}" for k in rng.integers(0, 5, 2)}),
               languages=frozenset({"de"}), department=f"d{int(rng.integers(0, 9))}",
               capacity=int(rng.integers(1, 3)) if role == "mentee" else 1)
        for role in ("mentor", "mentee") for i in range(300)
    ]
    first = match(people)
    again = match(list(reversed(people)))
    assert first == again and len(first.tandems) == 300
