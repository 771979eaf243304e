"""Explanations and reasons in German and English, all from the catalogues."""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.i18n import catalogue
from bot.matching import (
    Person,
    Rules,
    describe_tandem,
    describe_unmatched,
    describe_warning,
    match,
)
from bot.matching.engine import DEFAULT_REFERENCE as REF
from bot.matching.engine import forbidden_arrays, prepare

LABELS = {
    "ai": {"en": "AI tools", "de": "KI-Werkzeuge"},
    "sus": {"en": "sustainability", "de": "Nachhaltigkeit"},
    "social": {"en": "social media", "de": "Social Media"},
}


def people() -> list[Person]:
    return [
        Person("j1", "Anna", "mentor", department="IT", topics=frozenset({"social", "x"}),
               interests=frozenset({"ai", "sus"}), languages=frozenset({"de", "en"}),
               timezone="Europe/Berlin", location="Berlin"),
        Person("s1", "Sara", "mentee", department="Sales", topics=frozenset({"social"}),
               interests=frozenset({"ai", "sus"}), languages=frozenset({"de"}),
               timezone="Europe/Berlin", location="Berlin", language="de"),
        Person("j2", "Ben", "mentor", department="Sales", languages=frozenset({"de"})),
        Person("s2", "Tom", "mentee", department="HR", languages=frozenset({"fr"})),
    ]


def test_catalogues_define_the_same_keys() -> None:
    de = {k for k in catalogue("de") if k.startswith("matching.")}
    en = {k for k in catalogue("en") if k.startswith("matching.")}
    assert de == en and de


def test_tandem_explained_to_both_sides_in_both_languages() -> None:
    result = match(people())
    (tandem,) = result.tandems
    assert tandem.explanation.offered_wished == ("social",)
    assert tandem.explanation.shared_topics == ("ai", "sus")
    en = describe_tandem(tandem, "s1", "en", LABELS)
    assert en.startswith("You both care about AI tools and sustainability; "
                         "Anna offered social media, which you asked for.")
    assert "same time zone" in en and "German" in en
    de = describe_tandem(tandem, "s1", "de", LABELS)
    assert de.startswith("Euch beiden sind KI-Werkzeuge und Nachhaltigkeit wichtig; "
                         "Anna bietet Social Media an")
    assert "Sara wünscht sich Social Media" in describe_tandem(tandem, "j1", "de", LABELS)
    with pytest.raises(ValueError):
        describe_tandem(tandem, "nobody", "en")


def test_unmatched_reasons_rendered() -> None:
    result = match(people())
    reasons = {u.person_id: u for u in result.unmatched}
    assert reasons["s2"].reason == "no_language"
    assert describe_unmatched(reasons["s2"], "en") == "No junior colleague speaks French."
    assert describe_unmatched(reasons["s2"], "de") == (
        "Keine junge Kollegin und kein junger Kollege spricht Französisch.")
    assert reasons["j2"].reason == "same_department"
    assert "department" in describe_unmatched(reasons["j2"], "en")
    assert "Abteilung" in describe_unmatched(reasons["j2"], "de")


def test_capacity_reason_when_taken_by_better_matches() -> None:
    crowd = [Person(f"j{i}", f"J{i}", "mentor", languages=frozenset({"en"})) for i in range(2)]
    crowd.append(Person("s", "S", "mentee", languages=frozenset({"en"})))
    (u,) = match(crowd).unmatched
    assert u.reason == "capacity" and u.params["candidates"] == 1
    assert "already taken" in describe_unmatched(u, "en")


def test_warnings_rendered() -> None:
    result = match(people(), Rules(pins=frozenset({("j2", "s2")})), {"a": "b", "b": "a"})
    texts = [describe_warning(w, "en") for w in result.warnings]
    assert "a → b → a" in texts[0]
    assert any("no shared language" in x for x in texts)
    assert all(describe_warning(w, "de") for w in result.warnings)


def test_explanation_points_add_up_to_the_score() -> None:
    rng = np.random.default_rng(5)
    crowd = [
        Person(f"{role}{i}", "x", role,  # type: ignore[arg-type]
               topics=frozenset({f"t{int(k)}" for k in rng.integers(0, 6, 3)}),
               languages=frozenset(["de", "en"][: int(rng.integers(1, 3))]),
               meeting_mode=["remote", "in_person", "either"][int(rng.integers(0, 3))],
               timezone=["Europe/Berlin", "Asia/Kolkata", None][int(rng.integers(0, 3))],
               location=["Berlin", None][int(rng.integers(0, 2))])
        for role in ("mentor", "mentee") for i in range(40)
    ]
    result = match(crowd)
    for t in result.tandems:
        assert round(sum(t.explanation.points.values()) * 100) == round(t.score * 100)
    prepared = prepare(crowd, Rules(), {}, REF)
    matrix = prepared.scorer.matrix(forbidden_arrays(prepared))
    j, s = np.nonzero(np.ones_like(matrix, dtype=bool))
    assert (prepared.scorer.points(j, s).reshape(matrix.shape) == matrix).all()
