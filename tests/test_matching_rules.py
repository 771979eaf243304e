"""Hard rules of the engine: reporting lines, cycles, pins, blocks, history, fairness."""

from __future__ import annotations

import numpy as np
import pytest

from bot.matching import Person, Rules, match
from bot.matching.org import ancestors, find_cycles
from tests.helpers.matching import brute_force

ALL = frozenset({"de", "en"})


def mentor(pid: str, **kw: object) -> Person:
    kw.setdefault("languages", ALL)
    return Person(id=pid, name=pid.title(), role="mentor", **kw)  # type: ignore[arg-type]


def mentee(pid: str, **kw: object) -> Person:
    kw.setdefault("languages", ALL)
    return Person(id=pid, name=pid.title(), role="mentee", **kw)  # type: ignore[arg-type]


def pairs(result: object) -> set[tuple[str, str]]:
    return {(t.mentor_id, t.mentee_id) for t in result.tandems}  # type: ignore[attr-defined]


def test_reporting_line_blocks_two_levels_up_not_three() -> None:
    org = {"j": "s1", "s1": "s2", "s2": "s3"}
    people = [mentor("j"), mentee("s1"), mentee("s2"), mentee("s3")]
    result = match(people, Rules(), org)
    assert pairs(result) == {("j", "s3")}
    deep = match(people, Rules(reporting_line_depth=3), org)
    assert deep.tandems == () and deep.unmatched[0].reason == "reporting_line"


def test_reporting_line_in_the_other_direction() -> None:
    # a senior who reports (two levels down) to a junior's position
    result = match([mentor("j"), mentee("s")], Rules(), {"s": "x", "x": "j"})
    assert result.tandems == ()


def test_manager_not_signed_up_still_blocks_via_org_map() -> None:
    org = {"j": "boss", "s": "boss"}  # "boss" never signed up: same team
    result = match([mentor("j"), mentee("s")], Rules(), org)
    assert result.tandems == () and result.unmatched[0].reason == "same_team"
    loose = match([mentor("j"), mentee("s")], Rules(forbid_same_manager=False), org)
    assert pairs(loose) == {("j", "s")}


def test_manager_cycle_is_reported_and_does_not_hang() -> None:
    org = {"a": "b", "b": "c", "c": "a", "d": "d", "j": "a"}
    assert find_cycles(org) == [("a", "b", "c"), ("d",)]
    assert ancestors("a", org, 10) == ["b", "c"]
    people = [mentor("j"), mentee("a"), mentee("b"), mentee("c"), mentee("d")]
    result = match(people, Rules(reporting_line_depth=50), org)
    cycles = [w.person_ids for w in result.warnings if w.code == "manager_cycle"]
    assert cycles == [("a", "b", "c"), ("d",)]
    assert pairs(result) == {("j", "d")}


def test_department_compared_case_insensitively_and_configurable() -> None:
    people = [mentor("j", department=" Sales "), mentee("s", department="sales")]
    assert match(people).tandems == ()
    assert len(match(people, Rules(forbid_same_department=False)).tandems) == 1


def test_no_shared_language_is_never_paired() -> None:
    people = [mentor("j", languages=frozenset({"DE"})), mentee("s", languages=frozenset({"en"}))]
    result = match(people)
    assert result.tandems == () and {u.reason for u in result.unmatched} == {"no_language"}
    assert len(match([mentor("j", languages=frozenset({"DE"})),
                      mentee("s", languages=frozenset({"de"}))]).tandems) == 1


def test_previous_pairs_and_blocks() -> None:
    people = [mentor("j"), mentee("s1"), mentee("s2")]
    prefer_s1 = {"topics": frozenset({"ai"})}
    people = [mentor("j", **prefer_s1), mentee("s1", **prefer_s1), mentee("s2")]
    assert pairs(match(people)) == {("j", "s1")}
    assert pairs(match(people, Rules(previous_pairs=frozenset({("j", "s1")})))) == {("j", "s2")}
    repeat = Rules(previous_pairs=frozenset({("j", "s1")}), allow_repeat_pairs=True)
    assert pairs(match(people, repeat)) == {("j", "s1")}
    assert pairs(match(people, Rules(blocks=frozenset({("s1", "j")})))) == {("j", "s2")}


def test_unavailable_people_are_out() -> None:
    people = [mentor("j"), mentee("s1", available=False), mentee("s2")]
    result = match(people)
    assert pairs(result) == {("j", "s2")}
    assert [(u.person_id, u.reason) for u in result.unmatched] == [("s1", "unavailable")]


def test_pins_are_honoured_or_reported() -> None:
    people = [mentor("j1", topics=frozenset({"ai"})), mentor("j2", department="x"),
              mentee("s1", topics=frozenset({"ai"})), mentee("s2", department="x")]
    rules = Rules(pins=frozenset({("s2", "j1"), ("j2", "s2")}))
    result = match(people, rules)
    assert ("j1", "s2") in pairs(result)
    assert [t.pinned for t in result.tandems if t.mentor_id == "j1"] == [True]
    broken = [(w.person_ids, w.params["rule"]) for w in result.warnings if w.code == "pin_broken"]
    assert broken == [(("j2", "s2"), "same_department")]
    assert pairs(result) == {("j1", "s2"), ("j2", "s1")}


def test_pin_over_capacity_and_unknown_person_reported() -> None:
    people = [mentor("j"), mentee("s1"), mentee("s2")]
    rules = Rules(pins=frozenset({("j", "s1"), ("j", "s2"), ("j", "ghost")}))
    result = match(people, rules)
    assert pairs(result) == {("j", "s1")}
    rules_broken = sorted(str(w.params["rule"]) for w in result.warnings)
    assert rules_broken == ["capacity", "unknown_person"]


def test_senior_takes_several_juniors() -> None:
    people = [mentor(f"j{i}") for i in range(3)] + [mentee("s", capacity=2)]
    result = match(people)
    assert len(result.tandems) == 2
    assert [u.reason for u in result.unmatched] == ["capacity"]


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(ValueError):
        match([mentor("x"), mentee("x")])


@pytest.mark.parametrize("seed", range(25))
def test_fairness_maximises_the_worst_tandem(seed: int) -> None:
    rng = np.random.default_rng(seed)
    topics = [f"t{i}" for i in range(6)]
    modes = ["remote", "in_person", "either"]
    people = [
        Person(id=f"{role}{i}", name=f"P{i}", role=role,  # type: ignore[arg-type]
               topics=frozenset(rng.choice(topics, int(rng.integers(0, 4)), replace=False)),
               languages=ALL, meeting_mode=modes[int(rng.integers(0, 3))],
               capacity=int(rng.integers(1, 3)) if role == "mentee" else 1)
        for role, count in (("mentor", int(rng.integers(1, 7))),
                            ("mentee", int(rng.integers(1, 6))))
        for i in range(count)
    ]
    fair = match(people, Rules(fairness=True))
    plain = match(people)
    assert len(fair.tandems) == len(plain.tandems)
    # Every drawn instance has a tandem (no seed is skipped): the checks below compare
    # against a brute-force worst tandem, which needs one.
    assert fair.tandems
    # brute force: the best threshold that still allows the maximum number of tandems
    from bot.matching.engine import DEFAULT_REFERENCE as REF
    from bot.matching.engine import forbidden_arrays, prepare

    prepared = prepare(people, Rules(), {}, REF)
    points = prepared.scorer.matrix(forbidden_arrays(prepared))
    cap_j, cap_s = prepared.residual_j, prepared.residual_s
    best = max(
        theta for theta in np.unique(points[points >= 0]).tolist()
        if brute_force(np.where(points >= theta, points, -1), cap_j, cap_s)[0]
        == len(plain.tandems)
    )
    assert round(fair.worst_score * 100) == best
    expected_total = brute_force(np.where(points >= best, points, -1), cap_j, cap_s)[1]
    assert round(fair.total_score * 100) == expected_total
    assert fair.worst_score >= plain.worst_score


@pytest.mark.parametrize(("depth", "allowed"), [(-1, True), (0, True), (1, False), (2, False)])
def test_reporting_line_depth_zero_turns_the_rule_off_and_one_is_the_direct_manager(
        depth: int, allowed: bool) -> None:
    rules = Rules(reporting_line_depth=depth)
    for org in ({"j": "s"}, {"s": "j"}):  # the senior is the junior's manager, or vice versa
        result = match([mentor("j"), mentee("s")], rules, org)
        assert (pairs(result) == {("j", "s")}) is allowed, (depth, org)
        if not allowed:
            assert {(u.person_id, u.reason) for u in result.unmatched} == {
                ("j", "reporting_line"), ("s", "reporting_line")}


@pytest.mark.parametrize(("depth", "allowed"), [(1, True), (2, False)])
def test_a_managers_manager_is_two_levels_up(depth: int, allowed: bool) -> None:
    for org in ({"j": "x", "x": "s"}, {"s": "x", "x": "j"}):
        result = match([mentor("j"), mentee("s")], Rules(reporting_line_depth=depth), org)
        assert (pairs(result) == {("j", "s")}) is allowed, (depth, org)


def test_history_and_blocks_name_their_rule_in_either_order_and_only_for_those_two() -> None:
    people = [mentor("j1"), mentor("j2"), mentee("s1"), mentee("s2")]
    for rules, reason in (
            (Rules(previous_pairs=frozenset({("s1", "j1")})), "previous_pair"),
            (Rules(blocks=frozenset({("j1", "s1")})), "blocked"),
            (Rules(blocks=frozenset({("s1", "j1")})), "blocked")):
        result = match([mentor("j1"), mentee("s1")], rules)
        assert result.tandems == (), rules
        assert {u.reason for u in result.unmatched} == {reason}, rules
        assert pairs(match(people, rules)) == {("j1", "s2"), ("j2", "s1")}, rules
    unknown = Rules(blocks=frozenset({("j1", "ghost"), ("ghost", "s1")}),
                    previous_pairs=frozenset({("j1", "j2"), ("s1", "s2")}))
    assert len(match([mentor("j1"), mentee("s1")], unknown).tandems) == 1


def test_a_manager_chain_ends_at_the_top_or_at_the_depth() -> None:
    org = {"j": "m", "m": "top"}
    assert ancestors("j", org, 5) == ["m", "top"]
    assert ancestors("j", org, 1) == ["m"]
    assert ancestors("j", org, 0) == []
    assert ancestors("nobody", org, 3) == []


def test_a_pin_against_a_listed_rule_is_reported_with_that_rule() -> None:
    people = [mentor("j"), mentee("s")]
    pin = frozenset({("j", "s")})
    for rules, org, rule in ((Rules(pins=pin), {"j": "s"}, "reporting_line"),
                             (Rules(pins=pin, previous_pairs=pin), {}, "previous_pair"),
                             (Rules(pins=pin, blocks=pin), {}, "blocked")):
        result = match(people, rules, org)
        assert result.tandems == (), rule
        broken = [w.params["rule"] for w in result.warnings if w.code == "pin_broken"]
        assert broken == [rule]


def test_rules_about_people_not_in_the_round_are_ignored_whichever_side_they_name() -> None:
    people = [mentor("j1"), mentor("j2"), mentee("s1")]
    rules = Rules(blocks=frozenset({("ghost", "j1"), ("s1", "ghost")}),
                  previous_pairs=frozenset({("j1", "j2"), ("j2", "j1")}))
    assert len(match(people, rules).tandems) == 1


def test_a_manager_chain_into_a_loop_stops_before_repeating_anyone() -> None:
    assert ancestors("j", {"j": "a", "a": "b", "b": "a"}, 10) == ["a", "b"]


def test_a_private_wish_is_a_hard_rule_and_said_only_when_it_costs() -> None:
    people = [mentor("anna", topics=frozenset({"ai"})), mentor("ben", topics=frozenset({"sm"})),
              mentee("katrin", topics=frozenset({"ai"})), mentee("otto", topics=frozenset({"sm"}))]
    assert pairs(match(people)) == {("anna", "katrin"), ("ben", "otto")}
    # Either order names the same pair; the best total is lost, and the result says so,
    # with no one named.
    for wish in (("anna", "katrin"), ("katrin", "anna")):
        result = match(people, Rules(wishes=frozenset({wish})))
        assert pairs(result) == {("anna", "otto"), ("ben", "katrin")}
        [said] = [w for w in result.warnings if w.code == "private_wish"]
        assert said.person_ids == () and dict(said.params) == {}
    # A wish that costs nothing (the pair would not be made anyway) is not mentioned.
    free = match(people, Rules(wishes=frozenset({("anna", "otto")})))
    assert pairs(free) == {("anna", "katrin"), ("ben", "otto")}
    assert not [w for w in free.warnings if w.code == "private_wish"]
    # With nobody else left, the person waits, and the reason names no one.
    alone = match([mentor("anna"), mentee("katrin")],
                  Rules(wishes=frozenset({("katrin", "anna")})))
    assert alone.tandems == () and {u.reason for u in alone.unmatched} == {"private_wish"}
    # A coordinator's pin does not override it.
    pinned = match(people, Rules(pins=frozenset({("anna", "katrin")}),
                                 wishes=frozenset({("anna", "katrin")})))
    assert ("anna", "katrin") not in pairs(pinned)
    assert [dict(w.params) for w in pinned.warnings if w.code == "pin_broken"] == [
        {"rule": "private_wish"}]
