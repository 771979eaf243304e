"""Privacy self-service on the local platform: my-data, forget-me and retention.

The checks are table-driven: they walk ``Base.metadata``, so a table added later
is covered (or the registry test fails until ``storage/personal_data.py`` says
what it holds about people).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, PrivacySettings
from bot.core.i18n import t
from conversations import privacy
from conversations.outcomes import FormDone, Reply, ShowForm
from conversations.rhythm import run_due
from storage import directory, personal_data
from storage.db import Database
from storage.models import (
    AuditEntry,
    Base,
    ConversationRef,
    CoordinatorAction,
    Highlight,
    MatchRule,
    Participant,
    ProcessedEvent,
    Round,
    Tandem,
)
from tests.helpers.local import ANSWERS, match_and_confirm, signed_up
from tests.helpers.privacy import everything, leaks

COORDINATOR = LocalUser("coord", "Clara", locale="en")
# Distinctive values, so that finding them anywhere in the database means a leak.
ANNEGRET = LocalUser("u-annegret", "Annegret Quist", locale="de")
KATRIN = LocalUser("u-katrin", "Katrin Vogel", locale="en")
BEN = LocalUser("u-ben", "Ben Brook", locale="en")
SARAH = LocalUser("u-sarah", "Sarah Miller", locale="en")
MARKER = "MARKER-7f3"
KATRIN_MARKER = "KATRIN-GOAL-9"
DEPARTMENT = "Legal"  # nobody else's
CHANNEL = "C-PROGRAMME"


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   channels={**config.channels, "local": (CHANNEL,)})


def last_value(platform: LocalPlatform, user: str, action: str) -> str:
    for seen in reversed(platform.messenger.inbox[user]):
        for button in seen.message.buttons if seen.message else ():
            if button.action_id == action:
                return button.value
    raise AssertionError(f"{user} has no {action} button")


async def a_tandem_with_history(platform: LocalPlatform, clock: FixedClock) -> None:
    """Annegret and Katrin in a tandem with a month behind them; Ben and Sarah too.
    Annegret has a row in every table that can hold something about a person."""
    await signed_up(platform, ANNEGRET, department=DEPARTMENT, topics=["ai_tools"],
                    goals=f"{MARKER} my goal", languages=["de"], intro=f"{MARKER} about me")
    # The directory is imported after she signed up (before, the survey would not
    # have asked her department: the directory's would be the only one).
    async with platform.ctx.db.session() as session:
        await directory.save_snapshot(session, "csv", [directory.Record(
            key="e-4711", email="annegret.quist@example.com", display_name="Annegret Quist",
            department=DEPARTMENT, job_title=f"{MARKER} title",
            accounts=(("local", ANNEGRET.user_id),))], clock.now())
    await signed_up(platform, KATRIN, role="mentee", department="Finance",
                    topics=["ai_tools"], goals=KATRIN_MARKER, languages=["de"])
    await signed_up(platform, BEN, department="IT", topics=["sustainability"], languages=["en"])
    await signed_up(platform, SARAH, role="mentee", department="Sales",
                    topics=["sustainability"], languages=["en"])
    # A private wish: not with Ben.
    assert isinstance(await platform.submit(ANNEGRET, {"wishes": [BEN.user_id]},
                                            form_id="wishes"), FormDone)
    await match_and_confirm(platform, clock)
    # The first nudge; "not yet" (a reminder), then "we met", then a reflection.
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    value = last_value(platform, ANNEGRET.user_id, "checkin.met")
    await platform.press(ANNEGRET, "checkin.later", value)
    await platform.press(ANNEGRET, "checkin.met", value)
    form = await platform.press(ANNEGRET, "reflect.open",
                                last_value(platform, ANNEGRET.user_id, "reflect.open"))
    assert isinstance(form, ShowForm)
    done = await platform.submit(ANNEGRET, {"learned": f"{MARKER} reflection",
                                            "usefulness": "4"}, form_id="reflection")
    assert isinstance(done, FormDone)
    # A meeting put in both calendars: Annegret finds a time, Katrin accepts it.
    found = await platform.press(ANNEGRET, "meeting.find",
                                 last_value(platform, ANNEGRET.user_id, "meeting.find"))
    assert isinstance(found, Reply)
    [first, *_] = [b.value for b in found.message.buttons if b.action_id == "meeting.pick"]
    await platform.press(ANNEGRET, "meeting.pick", first)
    accepted = await platform.press(KATRIN, "meeting.accept",
                                    last_value(platform, KATRIN.user_id, "meeting.accept"))
    assert isinstance(accepted, Reply)
    # What no local flow writes: a Teams-style reference, a coordinator's records.
    async with platform.ctx.db.session() as session:
        anna = await session.scalar(select(Participant).where(
            Participant.user_id == ANNEGRET.user_id))
        katrin = await session.scalar(select(Participant).where(
            Participant.user_id == KATRIN.user_id))
        assert anna is not None and katrin is not None
        now = clock.now()
        await session.execute(insert(ConversationRef).values(
            platform="local", kind="user", key=ANNEGRET.user_id, tenant_id="t",
            reference={"user": {"id": ANNEGRET.user_id, "name": ANNEGRET.display_name}},
            updated_at=now))
        await session.execute(insert(AuditEntry).values(
            at=now, platform="local", user_id=ANNEGRET.user_id, action="report",
            detail={"by": ANNEGRET.user_id}))
        await session.execute(insert(CoordinatorAction).values(
            kind="announce", platform="local", created_by=ANNEGRET.user_id,
            payload={"text": f"{MARKER} draft"}, status="pending", created_at=now))
        await session.execute(insert(ProcessedEvent).values(
            source="local", event_id=f"chat-{ANNEGRET.user_id}|in-1", received_at=now))
        # A highlight offered for the channel (the evaluation comes at the round's end).
        await session.execute(insert(Highlight).values(
            participant_id=anna.id, round_id=anna.round_id, text=f"{MARKER} highlight",
            show_name=True, status="pending", revision=1, created_at=now, updated_at=now))
        await session.execute(insert(MatchRule).values(
            round_id=anna.round_id, kind="block", mentor_id=anna.id, mentee_id=katrin.id,
            created_by="coord", created_at=now))


def test_every_table_says_what_it_holds_about_people() -> None:
    assert personal_data.missing_tables() == []
    assert set(personal_data.REGISTRY) == set(Base.metadata.tables)
    personal_data.check_registry()


async def test_my_data_holds_every_tables_rows_about_the_person(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    await a_tandem_with_history(platform, clock)
    outcome = await platform.command(ANNEGRET, "meine-daten")
    assert isinstance(outcome, Reply)
    assert outcome.message.plain() == t("de", "privacy.my_data_sent")
    # (the meeting's invite is a file too; the export is the one named so)
    [(filename, content)] = [f for f in platform.messenger.files[ANNEGRET.user_id]
                             if f[0].startswith("tandem-my-data")]
    assert filename == "tandem-my-data-2027-02-09.json"
    data = json.loads(content)
    assert data["user_id"] == ANNEGRET.user_id
    # Every table that can hold something about a person has Annegret's rows.
    personal = {name for name, holder in personal_data.REGISTRY.items()
                if isinstance(holder, personal_data.Holds)}
    assert set(data["tables"]) == personal
    empty = [name for name in personal if not data["tables"][name]]
    assert empty == [], f"the scenario has no row about Annegret in {empty}"
    [me] = data["tables"]["participants"]
    assert (me["department"], me["goals"]) == (DEPARTMENT, f"{MARKER} my goal")
    [record] = data["tables"]["directory_people"]
    assert (record["email"], record["job_title"]) == ("annegret.quist@example.com",
                                                      f"{MARKER} title")
    [tandem] = data["tables"]["tandems"]
    assert tandem["partner"] == KATRIN.display_name and tandem["my_role"] == "mentor"
    [reflection] = [r for r in data["tables"]["responses"] if r["kind"] == "reflection"]
    assert reflection["answers"]["learned"] == f"{MARKER} reflection"
    # Her partner appears by name only: none of Katrin's own data is in the file.
    text = content.decode()
    for private in ("Finance", KATRIN_MARKER, KATRIN.user_id, BEN.display_name):
        assert private not in text
    # Nobody else got anything; someone the bot knows nothing about is told so.
    exports = {user for user, files in platform.messenger.files.items()
               if any(name.startswith("tandem-my-data") for name, _ in files)}
    assert exports == {ANNEGRET.user_id}
    stranger = await platform.command(LocalUser("u-x", "X", locale="en"), "my-data")
    assert isinstance(stranger, Reply)
    assert stranger.message.plain() == t("en", "privacy.nothing_stored")


async def test_forget_me_erases_everything_and_nobody_writes_to_them_again(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    await a_tandem_with_history(platform, clock)
    needles = [ANNEGRET.user_id, "Annegret", "Quist", DEPARTMENT, MARKER]
    assert len(leaks(await everything(db), needles)) > 5
    before = await everything(db)

    question = await platform.command(ANNEGRET, "vergessen")
    assert isinstance(question, Reply)
    assert t("de", "privacy.forget_question") in question.message.plain()
    assert [b.action_id for b in question.message.buttons] == ["forget.confirm",
                                                               "forget.cancel"]
    kept = await platform.press(ANNEGRET, "forget.cancel")
    assert isinstance(kept, Reply) and kept.replace
    assert await everything(db) == before

    done = await platform.press(ANNEGRET, "forget.confirm")
    assert isinstance(done, Reply) and done.replace
    assert done.message.plain() == t("de", "privacy.forgotten", cmd="/tandem ")
    again = await platform.press(ANNEGRET, "forget.confirm")  # a second press
    assert isinstance(again, Reply)
    assert again.message.plain() == t("de", "privacy.nothing_stored")

    after = await everything(db)
    assert leaks(after, needles) == []
    # Anonymous counts stay: both tandems, the check-in, the reflection as a number.
    assert len(after["tandems"]) == 2 and len(after["checkins"]) == len(before["checkins"])
    [gone] = [p for p in after["participants"] if p["status"] == "forgotten"]
    assert gone["user_id"].startswith("forgotten-") and gone["topics"] == []
    [reflection] = [r for r in after["responses"] if r["kind"] == "reflection"]
    assert reflection["answers"] == {} and reflection["rating"] == 4
    assert after["conversation_refs"] == [] and after["match_rules"] == []
    assert len(before["private_wishes"]) == 1 and after["private_wishes"] == []  # hers
    # Katrin is still herself; her tandem has ended.
    assert [p["department"] for p in after["participants"] if p["user_id"] == KATRIN.user_id
            ] == ["Finance"]
    assert {tandem["status"] for tandem in after["tandems"]} == {"ended", "active"}

    # The partner is told once, kindly, in her language; the coordinators may re-match.
    told = [s.text() for s in platform.messenger.inbox[KATRIN.user_id]
            if t("en", "privacy.partner_forgotten") in s.text()]
    assert len(told) == 1
    coordinators = [s.text() for s in platform.messenger.inbox["coord"]
                    if "Katrin Vogel" in s.text() and "2027-spring" in s.text()
                    and t("de", "privacy.coordinators_forgotten", partner="Katrin Vogel",
                          round="2027-spring") in s.text()]
    assert len(coordinators) == 1

    # The rest of the round: nothing reaches Annegret, nor anyone under her new token;
    # Katrin's tandem gets no more nudges; Ben and Sarah's still does.
    seen = {user: len(platform.messenger.inbox[user]) for user in
            (ANNEGRET.user_id, KATRIN.user_id)}
    ben_before = len(platform.messenger.inbox[BEN.user_id])
    day = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)
    while day <= datetime(2027, 8, 10, 12, 0, tzinfo=UTC):
        clock.set(day)
        await run_due(platform.ctx)
        day += timedelta(days=1)
    assert {user: len(platform.messenger.inbox[user]) for user in seen} == seen
    assert not any(user.startswith("forgotten-") for user in platform.messenger.inbox)
    assert len(platform.messenger.inbox[BEN.user_id]) > ben_before + 4
    assert leaks(await everything(db), needles) == []


async def test_signing_up_again_after_forget_me_starts_afresh(
    platform: LocalPlatform, db: Database
) -> None:
    await signed_up(platform, ANNEGRET, department=DEPARTMENT, goals=f"{MARKER} goal")
    await platform.command(ANNEGRET, "forget-me")
    await platform.press(ANNEGRET, "forget.confirm")
    form = await platform.command(ANNEGRET, "anmelden")
    assert isinstance(form, ShowForm)
    prefilled = {f.id: getattr(f, "initial", None) for f in form.form.fields}
    assert prefilled.get("department") in (None, "", ()) and not prefilled.get("goals")
    await platform.submit(ANNEGRET, {**ANSWERS, "department": "IT"})
    async with db.session() as session:
        rows = list(await session.scalars(select(Participant).order_by(Participant.id)))
    assert [(p.status, p.department) for p in rows] == [("forgotten", None), ("active", "IT")]
    assert rows[1].user_id == ANNEGRET.user_id and rows[0].user_id.startswith("forgotten-")


async def test_forget_me_before_matching_keeps_drafts_confirmable(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    """A draft proposal that paired the forgotten person no longer pairs them:
    confirming it never creates a tandem with someone who is gone."""
    for user, role, department in ((ANNEGRET, "mentor", DEPARTMENT),
                                   (KATRIN, "mentee", "Finance")):
        await signed_up(platform, user, role=role, department=department,
                        topics=["ai_tools"], languages=["de"])
    clock.set(datetime(2027, 1, 16, 9, 0, tzinfo=UTC))
    await platform.command(COORDINATOR, "match")
    proposal = platform.messenger.inbox["coord"][-2].message
    assert proposal is not None
    confirm = next(b for b in proposal.buttons if b.action_id == "match.confirm")
    await platform.command(ANNEGRET, "forget-me")
    await platform.press(ANNEGRET, "forget.confirm")
    assert leaks(await everything(db), [ANNEGRET.user_id, "Annegret", DEPARTMENT]) == []
    await platform.press(COORDINATOR, confirm.action_id, confirm.value)
    async with db.session() as session:
        assert list(await session.scalars(select(Tandem))) == []
    assert not any(t("en", "privacy.partner_forgotten") in s.text()
                   for s in platform.messenger.inbox[KATRIN.user_id])


async def test_retention_erases_old_rounds_and_keeps_people_in_later_ones(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    await a_tandem_with_history(platform, clock)
    ctx = platform.ctx
    ctx.config = replace(ctx.config, privacy=PrivacySettings(retention_months=2))
    # Sarah signed up for the next round; everyone else only took part in 2027-spring.
    async with db.session() as session:
        later = (await session.execute(insert(Round).values(
            name="2027-autumn", signup_opens_at=clock.now(), signup_closes_at=clock.now(),
            starts_at=datetime(2027, 9, 1, tzinfo=UTC), length_months=6,
            meetings_per_month=1, status="open", created_at=clock.now(),
        ).returning(Round.id))).scalar_one()
        await session.execute(update(Participant).where(Participant.user_id == SARAH.user_id)
                              .values(round_id=later))
    people = [ANNEGRET, KATRIN, BEN]
    needles = [u.user_id for u in people] + ["Annegret", "Katrin", "Ben Brook", MARKER]

    # The round ends on 1 August 2027; two months later, at 10:00 in Berlin.
    clock.set(datetime(2027, 10, 1, 7, 59, tzinfo=UTC))
    assert (await privacy.purge_expired(ctx)).people == 0
    clock.set(datetime(2027, 10, 1, 8, 0, tzinfo=UTC))
    dry = await privacy.purge_expired(ctx, dry_run=True)
    assert (dry.people, dry.rounds) == (3, ["2027-spring"])
    assert "would erase the personal data of 3 people" in dry.summary()
    assert len(leaks(await everything(db), needles)) > 5

    inboxes = {u: len(box) for u, box in platform.messenger.inbox.items()}
    await run_due(ctx)
    after = await everything(db)
    assert leaks(after, needles) == []
    states = {p["user_id"]: p["status"] for p in after["participants"]}
    assert states[SARAH.user_id] == "active"
    assert sum(state == "forgotten" for state in states.values()) == 3
    [sarah] = [p for p in after["participants"] if p["user_id"] == SARAH.user_id]
    assert sarah["department"] == "Sales" and sarah["display_name"] == "Sarah Miller"
    # Where the bot wrote to them is gone too (on Slack a DM channel id, on Teams a chat).
    erased = [d for d in after["deliveries"] if "forgotten-" in d["recipient"]]
    assert erased and all(d["message_ref"] is None for d in erased)
    assert [d for d in after["deliveries"] if "forgotten-" not in d["recipient"]
            and d["message_ref"] is None and d["status"] == "sent"] == []
    # Retention is silent: nobody is told anything.
    assert {u: len(box) for u, box in platform.messenger.inbox.items()} == inboxes
    assert (await privacy.purge_expired(ctx)).people == 0
