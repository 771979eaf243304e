"""The programme's figures over a seeded round, on SQLite and PostgreSQL.

``seed_programme`` builds one round with known check-ins, reflections (one of
each visibility, with marker strings) and evaluations; the report, dashboard
and browser tests reuse it and search everything they produce for the markers.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import update

from bot.core.config import AppConfig, ReportSettings
from conversations import figures as figs
from conversations.context import FlowContext
from conversations.scheduled import suggested_topic
from conversations.summary import topic_labels
from storage import tandems
from storage.db import Database
from storage.models import Round, Tandem
from storage.tandems import TandemPeople
from tests.helpers.seed import (
    AFTER_END,
    EVALUATION_TEXT,
    MID_ROUND,
    PARTNER,
    PRIVATE,
    SHARED,
    seed_programme,
)


async def figures_at(db: Database, config: AppConfig, round_id: int, now: datetime
                     ) -> tuple[figs.Figures, figs.RoundData]:
    async with db.session() as session:
        current = await session.get(Round, round_id)
    assert current is not None
    data = await figs.load(db, current)
    return figs.programme(config, data, now), data


async def test_figures_of_a_finished_round(db: Database, config: AppConfig) -> None:
    seeded = await seed_programme(db, config)
    f, data = await figures_at(db, config, seeded.round_id, AFTER_END)

    assert (f.signups, f.role("mentor"), f.role("mentee"), f.left) == (14, 7, 7, 1)
    assert (f.tandems, f.tandems_active) == (6, 6)
    assert (f.months_total, f.months_finished) == (6, 6)
    assert [(m.month, m.meetings, m.expected) for m in f.months] == [
        (1, 4, 6), (2, 3, 6), (3, 4, 6), (4, 3, 6), (5, 4, 6), (6, 3, 6)]
    assert f.months[0].first_day.isoformat() == "2027-02-01"
    assert f.meetings == 21
    assert f.stalled == 2  # tandems 3 and 4 did not meet in months 5 and 6
    assert f.unreachable == 1
    assert dict(f.funnel) == {"signed_up": 14, "matched": 12, "met_once": 10,
                              "met_every_month": 2, "completed": 9}
    # Six authors rated: an average over all visibilities, private ones included.
    assert f.ratings.ratings == 6 and f.ratings.authors == 6
    assert round(f.ratings.average or 0, 2) == round(23 / 6, 2)
    assert f.ratings.distribution == (0, 1, 1, 2, 2)
    topics = {tp.topic_id: tp for tp in f.topics}
    assert (topics["ai_tools"].chosen, topics["ai_tools"].discussed) == (13, 15)
    # Three people chose agile and three tandems discussed it: fewer than 5, hidden.
    assert (topics["agile"].chosen, topics["agile"].discussed) == (None, None)
    assert (topics["sustainability"].chosen, topics["sustainability"].discussed) == (None, 0)
    assert (topics["genz"].chosen, topics["genz"].discussed) == (0, 0)
    e = f.evaluation
    assert (e.respondents, e.average, e.recommend_percent, e.continue_counts) == (
        5, 4.2, 80.0, (2, 2, 1))

    seen = figs.attention(config, data, AFTER_END)
    assert seen.stalled == (("Mentor 3", "Mentee 3"), ("Mentor 4", "Mentee 4"))
    assert seen.unreachable == ("Mentee 4",)
    assert [(r.author, r.month, r.learned, r.rating) for r in seen.shared] == [
        ("Mentor 1", 1, SHARED, 4)]
    assert PRIVATE not in repr(seen) and PARTNER not in repr(seen)
    assert EVALUATION_TEXT not in repr(seen)
    for text in (PRIVATE, PARTNER, EVALUATION_TEXT, SHARED, "Mentor", "Mentee"):
        assert text not in repr(f)


async def test_figures_half_way(db: Database, config: AppConfig) -> None:
    seeded = await seed_programme(db, config)
    f, _ = await figures_at(db, config, seeded.round_id, MID_ROUND)
    # Nudges: 9 Feb, 9 Mar, 13 Apr, 11 May; on 20 May months 1-3 are over.
    assert f.months_finished == 3
    assert [(m.started, m.finished) for m in f.months] == [
        (True, True)] * 3 + [(True, False), (False, False), (False, False)]
    assert [m.meetings for m in f.months[4:]] == [None, None]
    assert f.stalled == 2  # tandems 3 and 4: nothing in months 2 and 3


async def test_small_groups_are_hidden(db: Database, config: AppConfig) -> None:
    seeded = await seed_programme(db, config, count=3)
    f, _ = await figures_at(db, config, seeded.round_id, AFTER_END)
    assert f.tandems == 3 and f.meetings == 15
    # Three tandems: each month's figure is over fewer than 5 tandems.
    assert {m.meetings for m in f.months} == {None}
    assert all(m.rate is None for m in f.months)
    assert f.ratings.authors == 5 and f.ratings.average is not None
    assert f.evaluation.respondents == 4
    assert f.evaluation == figs.EvaluationFigures(4, None, None, None, None)

    strict = dataclasses.replace(config, report=ReportSettings(min_group_size=6))
    f6, _ = await figures_at(db, strict, seeded.round_id, AFTER_END)
    assert (f6.ratings.average, f6.ratings.distribution) == (None, None)
    assert f6.ratings.ratings == 5  # the number of ratings is a count, always shown


async def test_topics_discussed_follow_the_nudges(db: Database, config: AppConfig) -> None:
    """The topic counted for a meeting is the one that month's nudge suggested."""
    seeded = await seed_programme(db, config)
    async with db.session() as session:
        pairs = await tandems.active_tandems(session, seeded.round_id)
        await session.execute(update(Tandem).where(Tandem.id == pairs[0].tandem.id)
                              .values(explanation={"offered_wished": ["remote"]}))
        pairs = await tandems.active_tandems(session, seeded.round_id)
    ctx = FlowContext(config, None, db, {})  # type: ignore[arg-type]
    for pair in pairs:
        for period in range(1, 7):
            topic = figs.topic_of_period(pair.people, pair.tandem, period)
            assert topic is not None
            assert topic_labels(config, [topic], "en") == suggested_topic(
                ctx, TandemPeople(pair.tandem, pair.mentor, pair.mentee), period, "en")
