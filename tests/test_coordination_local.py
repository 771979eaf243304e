"""Announcements, round control and coordinator checks on the local platform."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, parse_config
from bot.core.errors import ConfigError
from bot.core.i18n import t
from conversations import dashboard
from conversations.messages import Message
from conversations.outcomes import FormDone, FormInvalid, Reply, ShowForm, Working
from conversations.rhythm import run_due
from storage import rounds, workspaces
from storage.db import Database
from storage.models import AuditEntry, CoordinatorAction, Delivery, MatchRule, Participant, Round
from tests.helpers.local import (
    ANNA,
    BEN,
    CHANNEL,
    COORDINATOR,
    KATRIN,
    SARAH,
    local_platform,
    matched,
)

LENA = LocalUser("lena", "Lena", locale="de")
EVIL = "<!channel> <@U123> <https://evil.example|click> *bold*"


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   channels={**config.channels, "local": (CHANNEL, "C-OTHER")})


def last(platform: LocalPlatform, user: str) -> Message:
    message = platform.messenger.inbox[user][-1].message
    assert message is not None
    return message


def button(message: Message, action_id: str) -> str:
    return next(b.value for b in message.buttons if b.action_id == action_id)


async def audit_actions(db: Database) -> list[str]:
    async with db.session() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def compose(platform: LocalPlatform, text: str, signup: bool = True,
                  channel: str = CHANNEL) -> Message:
    shown = await platform.command(COORDINATOR, "announce")
    assert isinstance(shown, ShowForm)
    done = await platform.submit(COORDINATOR, {"channel": channel, "text": text,
                                               "signup_button": ["yes"] if signup else []},
                                 form_id="announce")
    assert isinstance(done, FormDone)
    return last_dm(platform, "coord")


def last_dm(platform: LocalPlatform, user: str) -> Message:
    seen = [s.message for s in platform.messenger.inbox[user] if s.kind == "dm" and s.message]
    return seen[-1]


async def test_announcement_preview_post_once(platform: LocalPlatform, db: Database) -> None:
    preview = await compose(platform, EVIL)
    assert preview.title == "Preview of your announcement"
    assert EVIL in preview.plain() and "Anmelden" in preview.plain()
    assert not platform.messenger.channels[CHANNEL]
    draft = button(preview, "announce.post")
    first = await platform.press(COORDINATOR, "announce.post", draft)
    second = await platform.press(COORDINATOR, "announce.post", draft)
    assert isinstance(first, Reply) and "Posted" in first.message.plain()
    assert isinstance(second, Reply) and "already posted" in second.message.plain()
    [posted] = platform.messenger.channels[CHANNEL]
    assert posted.blocks[0].text == EVIL  # type: ignore[union-attr]
    [signup] = posted.buttons
    assert signup.action_id == "command:signup"
    # Whoever presses it gets the sign-up form.
    assert isinstance(await platform.press(LENA, signup.action_id, signup.value), ShowForm)
    cancel = await platform.press(COORDINATOR, "announce.cancel", draft)
    assert "already posted or cancelled" in cancel.message.plain()  # type: ignore[union-attr]
    assert await audit_actions(db) == ["announce.draft", "announce.post"]


async def test_announcement_edit_cancel_and_limits(platform: LocalPlatform,
                                                   db: Database) -> None:
    await platform.command(COORDINATOR, "announce")
    invalid = await platform.submit(COORDINATOR, {"channel": "C-ELSEWHERE", "text": "x" * 3001},
                                    form_id="announce")
    assert isinstance(invalid, FormInvalid) and set(invalid.errors) == {"channel", "text"}
    preview = await compose(platform, "First draft", signup=False, channel="C-OTHER")
    draft = button(preview, "announce.edit")
    form = await platform.press(COORDINATOR, "announce.edit", draft)
    assert isinstance(form, ShowForm) and form.form.context == draft
    assert form.form.field("text").initial == "First draft"  # type: ignore[union-attr]
    await platform.submit(COORDINATOR, {"channel": "C-OTHER", "text": "Second draft"},
                          form_id="announce")
    assert button(last_dm(platform, "coord"), "announce.post") == draft
    cancelled = await platform.press(COORDINATOR, "announce.cancel", draft)
    assert isinstance(cancelled, Reply) and cancelled.replace
    refused = await platform.press(COORDINATOR, "announce.post", draft)
    assert "already posted or cancelled" in refused.message.plain()  # type: ignore[union-attr]
    assert not platform.messenger.channels["C-OTHER"]
    async with db.session() as session:
        [action] = await session.scalars(select(CoordinatorAction))
    assert action.status == "cancelled" and action.payload["text"] == "Second draft"


async def test_non_coordinator_is_refused_everything(platform: LocalPlatform, db: Database
                                                     ) -> None:
    preview = await compose(platform, "Hello")
    draft = button(preview, "announce.post")
    await platform.command(COORDINATOR, "round extend 1")
    action = button(last(platform, "coord"), "round.confirm")
    before = await audit_actions(db)
    for text in ("announce", "ankündigen", "round", "round end", "round extend 2", "match"):
        outcome = await platform.command(LENA, text)
        assert isinstance(outcome, Reply) and "Koordinator" in outcome.message.plain(), text
    for action_id, value in (("announce.post", draft), ("announce.edit", draft),
                             ("announce.cancel", draft), ("round.confirm", action),
                             ("round.cancel", action)):
        outcome = await platform.press(LENA, action_id, value)
        assert "Koordinator" in outcome.message.plain()  # type: ignore[union-attr]
    outcome = await platform.submit(LENA, {"channel": CHANNEL, "text": "hi"}, form_id="announce")
    assert "Koordinator" in outcome.message.plain()  # type: ignore[union-attr]
    assert not platform.messenger.channels[CHANNEL]
    assert await audit_actions(db) == before
    async with db.session() as session:
        assert {a.status for a in await session.scalars(select(CoordinatorAction))} == {"pending"}
        [current] = await session.scalars(select(Round))
    assert current.length_months == 6 and current.overrides is None


async def press_confirm(platform: LocalPlatform, text: str) -> object:
    asked = await platform.command(COORDINATOR, text)
    assert isinstance(asked, Reply), asked
    return await platform.press(COORDINATOR, "round.confirm",
                                button(asked.message, "round.confirm"))


async def test_signup_window_control_survives_app_yaml_sync(
    platform: LocalPlatform, clock: FixedClock, db: Database, config: AppConfig
) -> None:
    done = await press_confirm(platform, "round close")
    assert isinstance(done, Reply) and "closes now" in done.message.plain()
    refused = await platform.command(LENA, "signup")
    assert "zu Ende" in refused.message.plain()  # type: ignore[union-attr]
    # app.yaml is read again on every request and tick: the chat change stays.
    async with db.session() as session:
        current = await rounds.sync_round(session, config.round, clock.now())
    assert current.signup_closes_at == clock.now()
    await press_confirm(platform, "round open 2027-01-20")
    assert isinstance(await platform.command(LENA, "signup"), ShowForm)
    async with db.session() as session:
        current = await rounds.sync_round(session, config.round, clock.now())
    assert current.signup_closes_at == datetime(2027, 1, 20, 23, 0, tzinfo=UTC)
    assert set(current.overrides or {}) == {"signup_opens_at", "signup_closes_at"}
    # Opening early: a round whose sign-up has not begun yet.
    early = replace(config.round, signup_opens=datetime(2027, 1, 1, tzinfo=UTC))
    async with db.session() as session:
        current = await rounds.sync_round(session, early, clock.now())
    # The chat override wins over app.yaml's later date.
    assert current.signup_opens_at == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert (await audit_actions(db)) == ["round.close.requested", "round.close",
                                         "round.open.requested", "round.open"]


async def test_confirmation_once_cancel_and_usage(platform: LocalPlatform, db: Database) -> None:
    asked = await platform.command(COORDINATOR, "round extend 2")
    assert isinstance(asked, Reply) and "2 more months" in asked.message.plain()
    value = button(asked.message, "round.confirm")
    first = await platform.press(COORDINATOR, "round.confirm", value)
    second = await platform.press(COORDINATOR, "round.confirm", value)
    assert isinstance(first, Reply) and first.replace
    assert "already confirmed or cancelled" in second.message.plain()  # type: ignore[union-attr]
    async with db.session() as session:
        [current] = await session.scalars(select(Round))
    assert current.length_months == 8
    asked = await platform.command(COORDINATOR, "round extend 1")
    cancelled = await platform.press(COORDINATOR, "round.cancel",
                                     button(asked.message, "round.confirm"))  # type: ignore[union-attr]
    assert "Cancelled. Nothing was changed" in cancelled.message.plain()  # type: ignore[union-attr]
    assert (await audit_actions(db))[-1] == "round.extend.cancelled"
    for text in ("round extend 0", "round extend x", "round open 2027-13-01", "round fly",
                 "round next 2027-autumn 2027-08-31 2027-09-15", "round extend ²",
                 "round extend ١", "round extend " + "9" * 30, "round extend -1"):
        outcome = await platform.command(COORDINATOR, text)
        assert isinstance(outcome, Reply) and not outcome.message.buttons, text
        # Explained as a usage error, not met with the "something went wrong" answer.
        assert all(t(language, "error.unexpected") not in outcome.message.plain()
                   for language in ("de", "en")), text
    status = await platform.command(COORDINATOR, "round")
    assert "8 months" in status.message.plain()  # type: ignore[union-attr]


async def test_end_now_then_next_round_asks_to_continue(
    platform: LocalPlatform, clock: FixedClock, db: Database, config: AppConfig
) -> None:
    await matched(platform, clock)
    clock.set(datetime(2027, 3, 20, 9, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    done = await press_confirm(platform, "round end")
    assert isinstance(done, Working)
    for user in ("anna", "ben", "katrin", "sarah"):
        titles = [s.message.title or "" for s in platform.messenger.inbox[user] if s.message]
        assert any("2027-spring" in title and "?" in title for title in titles), user
    wrapups = len(platform.messenger.channels[CHANNEL])
    async with db.session() as session:
        [current] = await session.scalars(select(Round))
        sent = await session.scalar(select(func.count(Delivery.id)))
    assert current.status == "ended"
    # Nothing more for the ended round: no nudges, no second evaluation.
    for days in (1, 14, 40, 200):
        clock.set(datetime(2027, 3, 20, 9, 0, tzinfo=UTC) + timedelta(days=days))
        await run_due(platform.ctx)
    async with db.session() as session:
        assert await session.scalar(select(func.count(Delivery.id))) == sent
    assert len(platform.messenger.channels[CHANNEL]) == wrapups
    clock.set(datetime(2027, 3, 21, 9, 0, tzinfo=UTC))

    done = await press_confirm(platform, "round next 2027-autumn 2027-08-31 2027-09-15")
    assert isinstance(done, Working)
    question = last_dm(platform, "anna")
    assert {b.action_id for b in question.buttons} == {"continue.new", "continue.same",
                                                       "continue.no"}
    value = button(question, "continue.same")
    await platform.press(ANNA, "continue.same", value)
    await platform.press(KATRIN, "continue.same", value)
    await platform.press(BEN, "continue.no", value)
    await platform.press(SARAH, "continue.new", value)
    async with db.session() as session:
        following = await session.scalar(select(Round).where(Round.name == "2027-autumn"))
        assert following is not None
        # app.yaml still names 2027-spring: the round started in chat follows it.
        current = await rounds.sync_round(session, config.round, clock.now())
        people = {p.user_id: p.round_id for p in await session.scalars(select(Participant))}
        [pin] = await session.scalars(select(MatchRule))
    assert current.id == following.id
    assert people == {"anna": following.id, "katrin": following.id, "sarah": following.id,
                      "ben": following.id - 1}
    assert pin.kind == "pin"
    status = await platform.command(COORDINATOR, "round")
    assert "same partner: 2" in status.message.plain()  # type: ignore[union-attr]
    # A stranger's press of the same button is refused.
    stale = await platform.press(LENA, "continue.new", value)
    assert "no longer in use" in stale.message.plain() or "nicht mehr" in stale.message.plain()  # type: ignore[union-attr]
    # Sign-up is open for the new round, and matching runs on it.
    assert isinstance(await platform.command(LENA, "signup"), ShowForm)


async def test_scheduled_announcements_are_sent_once(
    config: AppConfig, clock: FixedClock, db: Database
) -> None:
    at = clock.now() + timedelta(hours=1)
    config = replace(config, announcements=parse_config("app.yaml", {
        **_raw(), "channels": {"local": [CHANNEL, "C-OTHER"]},
        "announcements": [{"id": "kickoff_event", "at": at.isoformat(),
                           "channels": ["C-OTHER"], "text_de": "Kick-off am Freitag <!here>",
                           "text_en": "Kick-off on Friday", "signup_button": True}],
    }).announcements)
    platform = local_platform(config, clock, db)
    await run_due(platform.ctx)
    assert not platform.messenger.channels["C-OTHER"]
    clock.set(at + timedelta(minutes=1))
    report = await run_due(platform.ctx)
    await run_due(platform.ctx)
    clock.set(at + timedelta(hours=5))
    await run_due(platform.ctx)
    [posted] = platform.messenger.channels["C-OTHER"]
    assert posted.blocks[0].text == "Kick-off am Freitag <!here>"  # type: ignore[union-attr]
    assert posted.buttons[0].action_id == "command:signup"
    assert report.sent["scheduled_announcement.sent"] == 1
    assert CHANNEL not in platform.messenger.channels or not any(
        m.blocks and m.blocks[0].text.startswith("Kick-off")  # type: ignore[union-attr]
        for m in platform.messenger.channels[CHANNEL])


def _raw() -> dict[str, object]:
    import yaml

    with open("app.yaml", encoding="utf-8") as file:
        return yaml.safe_load(file)


@pytest.mark.parametrize(("entry", "field", "problem"), [
    ({"id": "x", "at": "2027-03-01T10:00:00", "text_de": "a", "text_en": "b"},
     "announcements[0].at", "time zone"),
    ({"id": "x", "at": "2027-03-01T10:00:00+01:00", "text_de": "a"},
     "announcements[0].text_en", "missing"),
    ({"id": "x", "at": "2027-03-01T10:00:00+01:00", "text_de": "a", "text_en": "b",
      "channel": "C-NOWHERE"}, "announcements[0].channel", "not one of the channels"),
    ({"id": "X Y", "at": "2027-03-01T10:00:00+01:00", "text_de": "a", "text_en": "b"},
     "announcements[0].id", "lower-case"),
    ({"id": "x", "at": "soon", "text_de": "a", "text_en": "b"},
     "announcements[0].at", "date and time"),
])
def test_scheduled_announcements_are_validated(entry: dict[str, object], field: str,
                                               problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("app.yaml", {**_raw(), "announcements": [entry]})
    assert caught.value.field == field and problem in caught.value.problem


def test_slack_usergroup_is_slacks_own_setting() -> None:
    from adapters.slack.options import options
    from bot.platforms import app_yaml_platforms

    raw, platforms = _raw(), app_yaml_platforms()
    config = parse_config("app.yaml", {**raw, "slack": {
        "coordinator_usergroup": "@hr-mentoring"}}, platforms)
    assert options(config).coordinator_usergroup == "@hr-mentoring"
    with pytest.raises(ConfigError) as caught:
        parse_config("app.yaml", {**raw, "slack": {"coordinator_usergroup": "hr mentoring"}},
                     platforms)
    assert caught.value.field == "slack.coordinator_usergroup"
    # Where app.yaml had it before: refused, saying where it goes now.
    with pytest.raises(ConfigError) as caught:
        parse_config("app.yaml", {**raw, "coordinators": {
            "slack": ["U0COORD01"], "slack_usergroup": "@hr-mentoring"}}, platforms)
    assert caught.value.field == "coordinators.slack_usergroup"
    assert "`slack:` with `coordinator_usergroup:`" in caught.value.problem


clock_start = datetime(2026, 1, 1, tzinfo=UTC)


async def _other_row(db: Database, workspace: str, round_name: str) -> int:
    """Anna's row from another workspace, in an earlier round (as if she had signed up
    there once): plain inserts, as no flow makes an earlier round."""
    async with db.session() as session:
        earlier = await rounds.round_by_name(session, round_name)
        if earlier is None:
            earlier = Round(name=round_name, signup_opens_at=datetime(2026, 1, 1, tzinfo=UTC),
                            signup_closes_at=datetime(2026, 1, 15, tzinfo=UTC),
                            starts_at=datetime(2026, 2, 1, tzinfo=UTC), length_months=6,
                            meetings_per_month=1, status="ended", created_at=clock_start)
            session.add(earlier)
            await session.flush()
        row = Participant(workspace_id=await workspaces.workspace_id(
                              session, "local", workspace, clock_start),
                          platform="local", user_id="anna", display_name="Anna",
                          round_id=earlier.id, role="mentor", status="active",
                          created_at=clock_start, updated_at=clock_start)
        session.add(row)
        await session.flush()
        return row.id


async def test_a_person_with_rows_in_several_workspaces_is_their_current_rounds_row(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    # A row from an earlier round in another workspace: the sign-up takes it over (a
    # person is one row, whichever workspace they type in). The newest row (the home
    # page and the pulse once took it) is from an earlier round: not the one in play.
    oldest = await _other_row(db, "old-workspace", "2026-spring")
    await matched(platform, clock)
    newest = await _other_row(db, "third-workspace", "2026-spring")
    home = await dashboard.home(platform.ctx, ANNA.actor)
    assert "Katrin" in home.plain() and "nicht angemeldet" not in home.plain()

    clock.set(datetime(2027, 3, 20, 9, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    await press_confirm(platform, "round end")
    clock.set(datetime(2027, 3, 21, 9, 0, tzinfo=UTC))
    await press_confirm(platform, "round next 2027-autumn 2027-08-31 2027-09-15")
    answered = await platform.press(ANNA, "continue.new",
                                    button(last_dm(platform, "anna"), "continue.new"))
    assert isinstance(answered, Reply) and "2027-autumn" in answered.message.plain()
    async with db.session() as session:
        following = await rounds.round_by_name(session, "2027-autumn")
        rows = {p.id: p.round_id for p in await session.scalars(
            select(Participant).where(Participant.user_id == "anna"))}
    assert following is not None
    [current] = set(rows) - {newest}
    assert current == oldest  # the row the sign-up took over
    assert rows[current] == following.id
    assert rows[newest] != following.id
