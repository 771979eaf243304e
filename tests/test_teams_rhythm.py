"""A whole six-month round on Microsoft Teams and a fake clock, end to end over HTTP.

Everyone acts as a person in Teams would: they sign up through the survey card
(one by pressing "Sign up" under the channel announcement), the coordinator runs
and confirms the matching in her personal chat, and the partners press the
buttons on the cards they get, some at once, some days later. Time moves in daily
steps from the day before sign-up opens to a few days after the round; at every
step ``run_due`` runs, as the scheduler does in production. Everything is asserted
on what the fake Bot Connector received: every message each person got, in order
and in their own language (Teams has no group chats for bots, so each partner gets
tandem messages privately, at 10:00 in their own time zone); what the coordinator
and the channel got; and that running every step again sends nothing.

The second test presses buttons the way people do by mistake: twice, someone
outside the tandem, a form sent back by another person, and after the round ended.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.rhythm import run_due
from storage.models import Checkin, Delivery, Participant, Reminder, Response, Tandem
from tests.fakes.bot_connector import BOT_ID, TENANT, Call, TeamsUser, TeamsWorld
from tests.helpers.teams import CHANNEL, bot_added_to_team, confirm_data, idle

CLARA = TeamsUser("aad-clara", "Clara Koch", locale="en-US")  # the coordinator
# Tandem A (Lena → Sarah) meets every month; B (Jamal → Katrin) never answers;
# C (Mehmet → Olivia) says "not yet" once, asks for help in month 3 and at the pulse.
LENA = TeamsUser("aad-lena", "Lena Weber", locale="de-DE")
SARAH = TeamsUser("aad-sarah", "Sarah Miller", locale="en-US", timezone="America/New_York")
JAMAL = TeamsUser("aad-jamal", "Jamal Okafor", locale="en-US")
KATRIN = TeamsUser("aad-katrin", "Katrin Vogel", locale="de-DE")
MEHMET = TeamsUser("aad-mehmet", "Mehmet Yilmaz", locale="de-AT")
OLIVIA = TeamsUser("aad-olivia", "Olivia Brown", locale="en-GB", timezone="Europe/London")
PEOPLE = (LENA, SARAH, JAMAL, KATRIN, MEHMET, OLIVIA)
# One meeting language per tandem, so the matching has exactly one answer.
SURVEYS = {
    LENA: {"role": "mentor", "department": "Marketing", "topics": "ai_tools",
           "languages": "en"},
    SARAH: {"role": "mentee", "department": "Human Resources", "topics": "ai_tools",
            "languages": "en"},
    JAMAL: {"role": "mentor", "department": "IT", "topics": "sustainability",
            "languages": "fr"},
    KATRIN: {"role": "mentee", "department": "Executive Board", "topics": "sustainability",
             "languages": "fr"},
    MEHMET: {"role": "mentor", "department": "Sales", "topics": "agile", "languages": "tr"},
    OLIVIA: {"role": "mentee", "department": "Finance", "topics": "agile", "languages": "tr"},
}
SECRET = "Prompt-Bibliothek für Copilot"  # what Lena writes in a reflection and evaluation
# Steps at noon UTC, from the day before sign-up opens (1 November, 10:00 Berlin) to
# a few days after the round ended (1 August): every message falls due between two
# steps, well within the 72-hour grace, and Berlin's 10:00 (09:00 or 08:00 UTC) comes
# one step before New York's (15:00 or 14:00 UTC).
FIRST_STEP = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
LAST_STEP = datetime(2027, 8, 4, 12, 0, tzinfo=UTC)
STEP = timedelta(days=1)


def utc(month: int, day: int, hour: int = 12, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(
        config,
        coordinators={**config.coordinators, "teams": (CLARA.key,)},
        channels={**config.channels, "teams": (CHANNEL,)},
    )


# -- what people see ---------------------------------------------------------------------

def created_chats(world: TeamsWorld, user: TeamsUser) -> list[str]:
    """Personal chats the bot opened to reach someone it knew only from a team."""
    return [c.conversation_id for c in world.connector.of_kind("create")
            if [m["id"] for m in c.body["members"]] == [user.bf_id]]


def chats(world: TeamsWorld, user: TeamsUser) -> set[str]:
    return {user.chat, *created_chats(world, user)}


def head(call: Call) -> str:
    """What a person sees first: the card's title, or its first line."""
    texts = call.texts()
    return texts[0].split("\n")[0] if texts else ""


def inbox(world: TeamsWorld, user: TeamsUser) -> list[tuple[str, str]]:
    """Everything the bot did in the person's chats, in order: ``send`` (a new message),
    ``reply`` (the answer to what they typed or pressed) or ``update`` (a card replaced
    by the answer to one of its buttons)."""
    mine = chats(world, user)
    return [(c.kind, head(c)) for c in world.connector.calls
            if c.kind != "create" and c.conversation_id in mine]


def assert_inbox(actual: list[tuple[str, str]], expected: list[tuple[str, str]]) -> None:
    """Each expected line is (kind, the beginning of what was shown)."""
    same = len(actual) == len(expected) and all(
        a_kind == e_kind and a_head.startswith(e_head)
        for (a_kind, a_head), (e_kind, e_head) in zip(actual, expected, strict=True))
    assert same, "\n".join(["expected:", *map(repr, expected), "actual:", *map(repr, actual)])


def card_text(world: TeamsWorld, user: TeamsUser, title: str) -> str:
    [call] = [c for c in world.connector.calls
              if c.conversation_id in chats(world, user) and head(c) == title]
    return call.all_text()


# -- what people do ----------------------------------------------------------------------

async def post(world: TeamsWorld, user: TeamsUser, **fields: Any) -> None:
    """An activity from the person's personal chat with the bot."""
    activity = world.driver.activity(user, **fields)
    mine = created_chats(world, user)
    activity["conversation"] = {"id": mine[-1] if mine else user.chat,
                                "conversationType": "personal", "tenantId": TENANT}
    status, _ = await world.driver.post(activity)
    assert status == 201


def button(call: Call, action: str) -> dict[str, Any]:
    assert call.card is not None
    return next(a["data"] for a in call.card.get("actions", [])
                if a["data"].get("tandem_action") == action)


async def press(world: TeamsWorld, user: TeamsUser, call: Call, action: str) -> Call:
    """An Action.Submit on a card; returns the bot's answer in the person's chat."""
    before = len(world.connector.calls)
    await post(world, user, value=button(call, action), replyToId=call.activity_id)
    mine = chats(world, user)
    [answer] = [c for c in world.connector.calls[before:]
                if c.conversation_id in mine and c.kind in ("update", "reply")]
    return answer


async def forge(world: TeamsWorld, user: TeamsUser, data: dict[str, Any]) -> Call:
    """Card data sent by someone it was never shown to (a copied card, a crafted
    request): answered in their own chat."""
    before = len(world.connector.calls)
    await post(world, user, value=data)
    [answer] = world.connector.calls[before:]
    assert answer.kind == "reply" and answer.conversation_id in chats(world, user)
    return answer


async def fill(world: TeamsWorld, user: TeamsUser, form: Call, **values: str) -> Call:
    """Submit a form card with these values, as Teams does (with the card's own data,
    so its context comes back); returns the card the form was replaced with."""
    assert form.card is not None
    data = next(a["data"] for a in form.card["actions"] if "tandem_form" in a["data"])
    before = len(world.connector.calls)
    await post(world, user, value={**data, **values}, replyToId=form.activity_id)
    assert await world.runtime.background.idle(60)  # confirmations follow the answer
    [answer] = [c for c in world.connector.calls[before:]
                if c.kind == "update" and c.activity_id == form.activity_id]
    return answer


def survey(user: TeamsUser) -> dict[str, str]:
    return {"manager": "", "goals": "", "meeting_mode": "remote", "location": "",
            "capacity": "1", "consent": "yes", **SURVEYS[user]}


async def sign_up(world: TeamsWorld, user: TeamsUser, word: str) -> None:
    """The person types ``anmelden``/``signup`` and submits the survey card."""
    before = len(world.connector.calls)
    await post(world, user, text=word)
    [form] = world.connector.calls[before:]
    await fill(world, user, form, **survey(user))


async def sign_up_from_the_channel(world: TeamsWorld, user: TeamsUser) -> None:
    """"Sign up" pressed under the channel's announcement: the survey card comes in a
    personal chat the bot opens for it, and the channel hears nothing."""
    [announcement] = world.connector.messages(CHANNEL)
    before = len(world.connector.calls)
    activity = world.driver.activity(
        user, value=button(announcement, "command:signup"),
        replyToId=announcement.activity_id,
        conversation={"id": f"{CHANNEL};messageid={announcement.activity_id}",
                      "conversationType": "channel", "isGroup": True, "tenantId": TENANT},
        channelData={"tenant": {"id": TENANT}, "team": {"id": CHANNEL},
                     "channel": {"id": CHANNEL}},
    )
    assert (await world.driver.post(activity))[0] == 201
    created, form = world.connector.calls[before:]
    assert created.kind == "create" and (form.kind, form.conversation_id) == (
        "send", created.conversation_id)
    await fill(world, user, form, **survey(user))


async def install(world: TeamsWorld, user: TeamsUser) -> None:
    """The person adds the app in their personal scope: the bot says hello."""
    activity = world.driver.activity(user, type="conversationUpdate",
                                     membersAdded=[{"id": BOT_ID}])
    assert (await world.driver.post(activity))[0] == 201


async def match(world: TeamsWorld) -> None:
    """The coordinator types ``match`` and confirms the proposal card."""
    before = len(world.connector.calls)
    await post(world, CLARA, text="match")
    await idle(world)
    proposal = next(c for c in world.connector.calls[before:]
                    if c.card and any(a["data"].get("tandem_action") == "match.confirm"
                                      for a in c.card.get("actions", [])))
    await post(world, CLARA, value=confirm_data(proposal), replyToId=proposal.activity_id)
    await idle(world)


# -- the people's habits -----------------------------------------------------------------

Habit = Callable[[TeamsUser, Call], Awaitable[None]]


class Habits:
    """How each person answers the cards they get, and how long they take; the
    cards nobody has a habit for are read and left alone."""

    def __init__(self, world: TeamsWorld) -> None:
        self.world = world
        self.seen = 0
        self.pending: list[tuple[datetime, TeamsUser, Call, Habit]] = []

    async def act(self, now: datetime) -> None:
        while True:
            calls = self.world.connector.calls
            owners = {chat: user for user in PEOPLE for chat in chats(self.world, user)}
            while self.seen < len(calls):
                call = calls[self.seen]
                self.seen += 1
                user = owners.get(call.conversation_id)
                found = self.habit(user, head(call)) if user and call.kind == "send" else None
                if found is not None:
                    delay, habit = found
                    self.pending.append((now + delay, user, call, habit))
            due = [p for p in self.pending if p[0] <= now]
            if not due:
                return
            self.pending = [p for p in self.pending if p[0] > now]
            for _, user, call, habit in due:
                await habit(user, call)

    def habit(self, user: TeamsUser, title: str) -> tuple[timedelta, Habit] | None:
        at_once, two_days = timedelta(0), timedelta(days=2)
        if user is LENA and title.startswith("Tandem: Zeit für Treffen"):
            return two_days, self.met  # they meet, then she remembers to say so
        if user is SARAH and title == "Tandem: time for meeting 4":
            return at_once, self.met  # this time Sarah is quicker
        if user is MEHMET and title == "Tandem: Zeit für Treffen 1":
            return at_once, self.later
        if user is MEHMET and title == "Tandem: Zeit für Treffen 3":
            return at_once, self.help
        if user is MEHMET and title.startswith(("Tandem: Zeit für Treffen", "Erinnerung")):
            return at_once, self.met
        if user is SARAH and title == "A short reflection on meeting 1":
            return at_once, self.reflect_privately
        if user is LENA and title == "Eine kurze Reflexion zu Treffen 2":
            return timedelta(days=1), self.reflect_with_partner
        if user is SARAH and title == "Half-way: how is your tandem going?":
            return at_once, self.going_well
        if user is OLIVIA and title == "Half-way: how is your tandem going?":
            return timedelta(days=3), self.pulse_help
        if user is LENA and title == "Die Runde 2027-spring ist vorbei: Wie war es?":
            return at_once, self.evaluate
        return None

    async def met(self, user: TeamsUser, call: Call) -> None:
        await press(self.world, user, call, "checkin.met")

    async def later(self, user: TeamsUser, call: Call) -> None:
        await press(self.world, user, call, "checkin.later")

    async def help(self, user: TeamsUser, call: Call) -> None:
        await press(self.world, user, call, "checkin.help")

    async def pulse_help(self, user: TeamsUser, call: Call) -> None:
        await press(self.world, user, call, "pulse.help")

    async def going_well(self, user: TeamsUser, call: Call) -> None:
        await press(self.world, user, call, "pulse.good")

    async def reflect_privately(self, user: TeamsUser, call: Call) -> None:
        form = await press(self.world, user, call, "reflect.open")
        await fill(self.world, user, form, learned="How Lena prompts Copilot", try_next="",
                   usefulness="4", visibility="private")

    async def reflect_with_partner(self, user: TeamsUser, call: Call) -> None:
        form = await press(self.world, user, call, "reflect.open")
        await fill(self.world, user, form, learned=SECRET, try_next="Mehr fragen",
                   usefulness="5", visibility="partner")

    async def evaluate(self, user: TeamsUser, call: Call) -> None:
        form = await press(self.world, user, call, "evaluation.open")
        await fill(self.world, user, form, rating="5", valuable=SECRET, recommend="yes",
                   **{"continue": "new"})


def step_after(due: datetime) -> datetime:
    """The step that sends what falls due at ``due``: the first one at or after it."""
    return next(now for now in steps() if now >= due)


def steps() -> list[datetime]:
    found, now = [], FIRST_STEP
    while now <= LAST_STEP:
        found.append(now)
        now += STEP
    return found


async def count(world: TeamsWorld, model: Any) -> int:
    async with world.runtime.db.session() as session:
        return await session.scalar(select(func.count(model.id))) or 0


# -- the expected inboxes -------------------------------------------------------------------

# The form card closes with a note first; the summary follows as its own message.
SIGNED_UP_DE = [("reply", "Tandem-Anmeldung"),
                ("update", "Danke, deine Antworten sind gespeichert."),
                ("send", "Du bist angemeldet")]
SIGNED_UP_EN = [("reply", "Tandem sign-up"), ("update", "Thanks, your answers are saved."),
                ("send", "You are signed up")]
STARTED_DE = [("send", "Lernt euch kennen: euer Tandem"), ("send", "Heute startet euer Tandem")]
STARTED_EN = [("send", "Meet your tandem partner"), ("send", "Your tandem starts today")]
# A junior also gets, with the introduction, a private guide on mentoring a senior.
JUNIOR_STARTED_DE = [STARTED_DE[0], ("send", "So mentorierst du eine erfahrene Kollegin"),
                     STARTED_DE[1]]
JUNIOR_STARTED_EN = [STARTED_EN[0], ("send", "How to mentor a senior colleague"),
                     STARTED_EN[1]]
PULSE_DE, PULSE_EN = ("send", "Halbzeit: Wie läuft euer Tandem?"), (
    "send", "Half-way: how is your tandem going?")
EVALUATION_DE = ("send", "Die Runde 2027-spring ist vorbei: Wie war es?")
EVALUATION_EN = ("send", "Round 2027-spring is over: how was it?")


def nudge_de(month: int) -> tuple[str, str]:
    return "send", f"Tandem: Zeit für Treffen {month}"


def nudge_en(month: int) -> tuple[str, str]:
    return "send", f"Tandem: time for meeting {month}"


def prompt_de(month: int) -> tuple[str, str]:
    return "send", f"Eine kurze Reflexion zu Treffen {month}"


def prompt_en(month: int) -> tuple[str, str]:
    return "send", f"A short reflection on meeting {month}"


def met_de(month: int) -> tuple[str, str]:
    return "update", f"Wunderbar, Treffen {month} ist vermerkt."


def met_de_month(month: int) -> list[tuple[str, str]]:
    """Nudge, then "We met" pressed: the prompt arrives, the card says thank you."""
    return [nudge_de(month), prompt_de(month), met_de(month)]


async def test_a_whole_round_on_teams(world: TeamsWorld, clock: FixedClock) -> None:
    ctx, connector = world.runtime.ctx, world.connector
    clock.set(FIRST_STEP - timedelta(days=1))
    await install(world, CLARA)
    await bot_added_to_team(world, CLARA)
    habits = Habits(world)
    arrived: list[datetime] = []  # the step at which each connector call happened

    for now in steps():
        clock.set(now)
        await run_due(ctx)
        if now == utc(11, 2, year=2026):  # the day after the announcement
            for user, word in ((LENA, "anmelden"), (JAMAL, "signup"), (MEHMET, "anmelden"),
                               (OLIVIA, "signup")):
                await sign_up(world, user, word)
        if now == utc(11, 3, year=2026):
            await sign_up_from_the_channel(world, SARAH)
        if now == utc(1, 13):  # the reminder in the channel got her
            await sign_up(world, KATRIN, "anmelden")
        if now == utc(1, 18):
            await match(world)
        await habits.act(now)
        arrived += [now] * (len(connector.calls) - len(arrived))
    assert habits.pending == []

    # 1. Every participant, in order, in their own language.
    assert_inbox(inbox(world, LENA), [
        *SIGNED_UP_DE, *JUNIOR_STARTED_DE,
        *met_de_month(1),
        *met_de_month(2), ("reply", "Reflexion"),
        ("update", "Gespeichert und mit deinem Tandem geteilt."),
        *met_de_month(3),
        PULSE_DE,
        # Sarah said "We met" first this month: Lena's card says so when she presses.
        nudge_de(4), prompt_de(4), ("update", "Schon vermerkt: Ihr habt euch zu Treffen 4"),
        *met_de_month(5), *met_de_month(6),
        EVALUATION_DE, ("reply", "Auswertung"), ("update", "Danke für dein Feedback!"),
    ])
    assert_inbox(inbox(world, SARAH), [
        # The survey arrives in a chat the bot opened, as a new message.
        ("send", "Tandem sign-up"), *SIGNED_UP_EN[1:], *STARTED_EN,
        nudge_en(1), prompt_en(1), ("reply", "Reflection"), ("update", "Saved, just for you."),
        nudge_en(2), prompt_en(2), ("send", "Lena Weber shared a reflection on meeting 2"),
        nudge_en(3), prompt_en(3),
        PULSE_EN, ("update", "Great to hear, thank you!"),
        nudge_en(4), prompt_en(4), ("update", "Wonderful, meeting 4 is recorded."),
        nudge_en(5), prompt_en(5), nudge_en(6), prompt_en(6),
        EVALUATION_EN,
    ])
    assert_inbox(inbox(world, JAMAL), [
        *SIGNED_UP_EN, *JUNIOR_STARTED_EN, nudge_en(1), nudge_en(2), nudge_en(3), PULSE_EN,
        nudge_en(4), nudge_en(5), nudge_en(6), EVALUATION_EN,
    ])
    assert_inbox(inbox(world, KATRIN), [
        *SIGNED_UP_DE, *STARTED_DE, nudge_de(1), nudge_de(2), nudge_de(3), PULSE_DE,
        nudge_de(4), nudge_de(5), nudge_de(6), EVALUATION_DE,
    ])
    assert_inbox(inbox(world, MEHMET), [
        *SIGNED_UP_DE, *JUNIOR_STARTED_DE,
        nudge_de(1), ("update", "Kein Problem. Ich erinnere euch am 16.02.2027."),
        ("send", "Erinnerung: Treffen 1"), prompt_de(1), met_de(1),
        *met_de_month(2),
        nudge_de(3), ("update", "Ich habe dem Programm-Team Bescheid gesagt"),
        PULSE_DE, *met_de_month(4), *met_de_month(5), *met_de_month(6),
        EVALUATION_DE,
    ])
    assert_inbox(inbox(world, OLIVIA), [
        *SIGNED_UP_EN, *STARTED_EN,
        nudge_en(1), ("send", "Reminder: meeting 1"), prompt_en(1),
        nudge_en(2), prompt_en(2), nudge_en(3),
        PULSE_EN, ("update", "I have told the programme coordinators"),
        nudge_en(4), prompt_en(4), nudge_en(5), prompt_en(5), nudge_en(6), prompt_en(6),
        EVALUATION_EN,
    ])
    assert SECRET in card_text(world, SARAH, "Lena Weber shared a reflection on meeting 2")

    # 2. On Teams each partner gets tandem messages at 10:00 in their own time zone:
    # Lena in Berlin (09:00 UTC, 08:00 in summer), Sarah in New York (15:00 UTC, 14:00
    # in summer, which starts two weeks earlier there).
    def when(user: TeamsUser, title: str) -> datetime:
        mine = chats(world, user)
        [found] = [arrived[i] for i, c in enumerate(connector.calls)
                   if c.conversation_id in mine and head(c) == title]
        return found

    assert when(LENA, "Heute startet euer Tandem") == step_after(utc(2, 1, 9))
    assert when(SARAH, "Your tandem starts today") == step_after(utc(2, 1, 15))
    for month, lena, sarah in ((1, utc(2, 9, 9), utc(2, 9, 15)), (2, utc(3, 9, 9),
                               utc(3, 9, 15)), (3, utc(4, 13, 8), utc(4, 13, 14)),
                               (6, utc(7, 13, 8), utc(7, 13, 14))):
        assert when(LENA, f"Tandem: Zeit für Treffen {month}") == step_after(lena)
        assert when(SARAH, f"Tandem: time for meeting {month}") == step_after(sarah)
        assert step_after(lena) < step_after(sarah)
    # London's 10:00 is 10:00 UTC in winter.
    assert when(OLIVIA, "Tandem: time for meeting 1") == step_after(utc(2, 9, 10))
    # "Not yet" on 9 February: one reminder, to both, a week later.
    assert when(MEHMET, "Erinnerung: Treffen 1") == when(OLIVIA, "Reminder: meeting 1") == (
        when(MEHMET, "Kein Problem. Ich erinnere euch am 16.02.2027.") + timedelta(days=7))
    # Pulse and wrap-up at 10:00 in the programme's time zone, for everyone.
    for user in (SARAH, OLIVIA):
        assert when(user, PULSE_EN[1]) == step_after(utc(5, 1, 8))
        assert when(user, EVALUATION_EN[1]) == step_after(utc(8, 1, 8))

    # 3. The coordinator, all in her own language (her client's locale, en-US, not the
    # programme's de): hello, the sign-up count, the matching, then the notices:
    # tandem B stalled, once; tandem C's calls for help, from the third nudge and
    # from the half-way pulse.
    assert_inbox(inbox(world, CLARA), [
        ("send", "Tandem: reverse mentoring"),
        ("send", "Sign-up for round 2027-spring has closed: 3 juniors and 3 seniors signed "
                 "up. Please run the matching with match."),
        ("reply", "Matching 6 people"), ("send", "Matching proposal #1"),
        ("send", "Proposal #1 as a spreadsheet (CSV)."),
        ("update", "Confirmed: 3 tandems for round 2027-spring."),
        ("send", "The tandem Jamal Okafor → Katrin Vogel (round 2027-spring) has not met for "
                 "2 months."),
        ("send", "The tandem Mehmet Yilmaz → Olivia Brown (round 2027-spring) asked for help."),
        ("send", "The tandem Mehmet Yilmaz → Olivia Brown (round 2027-spring) asked for help."),
    ])
    # Sign-up closes at the end of 15 January: the note comes the next morning.
    assert when(CLARA, inbox(world, CLARA)[1][1]) == step_after(utc(1, 16, 9))
    # Tandem B is flagged when its third month starts without a meeting in two.
    assert when(CLARA, inbox(world, CLARA)[-3][1]) == step_after(utc(4, 13, 8))

    # 4. The channel: four posts, each once, in the programme's language, no names and
    # nothing anybody wrote; the "Sign up" press got no answer there.
    posts = connector.messages(CHANNEL)
    assert [(c.kind, head(c)) for c in posts] == [
        ("send", "Reverse Mentoring: Die Anmeldung für die Runde 2027-spring ist offen"),
        ("send", "Nur noch wenige Tage: Anmeldung für die Runde 2027-spring"),
        ("send", "Die Tandems der Runde 2027-spring stehen"),
        ("send", "Die Runde 2027-spring ist abgeschlossen"),
    ]
    assert [arrived[connector.calls.index(c)] for c in posts] == [
        step_after(utc(11, 1, 9, year=2026)),  # 10:00 in Berlin
        step_after(utc(1, 13, 9)),  # three days before sign-up closes
        utc(1, 18),  # when the coordinator confirmed
        step_after(utc(8, 1, 8)),
    ]
    assert [c.conversation_id for c in connector.calls if "messageid=" in c.conversation_id
            ] == []
    assert "3 Tandems" in posts[3].all_text() and "insgesamt 11 Treffen" in posts[3].all_text()
    assert "2 davon haben sich mindestens einmal getroffen" in posts[3].all_text()
    public = json.dumps([c.body for c in posts], ensure_ascii=False)
    for user in (CLARA, *PEOPLE):
        assert all(name not in public for name in user.name.split())
    assert SECRET not in public and "Copilot" not in public
    coordinator = json.dumps([c.body for c in connector.calls
                              if c.conversation_id in chats(world, CLARA)], ensure_ascii=False)
    assert SECRET not in coordinator and "Copilot" not in coordinator

    # 5. What was recorded.
    async with world.runtime.db.session() as session:
        mentors = {t.id: p.user_id for t, p in await session.execute(
            select(Tandem, Participant).join(Participant, Participant.id == Tandem.mentor_id))}
        answers = sorted((mentors[c.tandem_id], c.period, c.answer)
                         for c in await session.scalars(select(Checkin)))
        responses = sorted((r.kind, r.period, r.visibility)
                           for r in await session.scalars(select(Response)))
    assert answers == [(LENA.key, m, "met") for m in range(1, 7)] + [
        (MEHMET.key, m, "help" if m == 3 else "met") for m in range(1, 7)]
    assert responses == [("evaluation", 0, "coordinators"), ("pulse", 0, "private"),
                         ("pulse", 0, "private"), ("reflection", 1, "private"),
                         ("reflection", 2, "partner")]
    assert await count(world, Reminder) == 1

    # 6. Every step again: nothing more is sent, nothing more is recorded.
    calls, deliveries = len(connector.calls), await count(world, Delivery)
    for now in steps():
        clock.set(now)
        await run_due(ctx)
        assert len(connector.calls) == calls, f"sent again at {now}"
    assert await count(world, Delivery) == deliveries
    async with world.runtime.db.session() as session:
        assert set(await session.scalars(select(Delivery.status).distinct())) == {"sent"}


# -- buttons pressed the wrong way ------------------------------------------------------------

async def matched(world: TeamsWorld, clock: FixedClock) -> None:
    await bot_added_to_team(world, CLARA)
    await install(world, CLARA)
    for user in PEOPLE:
        await sign_up(world, user, "signup")
    clock.set(utc(1, 16))
    await match(world)


def last_card(world: TeamsWorld, user: TeamsUser, title: str) -> Call:
    mine = chats(world, user)
    return [c for c in world.connector.messages() if c.conversation_id in mine
            and head(c) == title][-1]


async def test_buttons_twice_outsiders_and_after_the_end(
    world: TeamsWorld, clock: FixedClock
) -> None:
    ctx, connector = world.runtime.ctx, world.connector
    await matched(world, clock)
    clock.set(utc(2, 10, 0))  # every first nudge is out, Sarah's in New York too
    await run_due(ctx)
    lena_nudge = last_card(world, LENA, "Tandem: Zeit für Treffen 1")
    sarah_nudge = last_card(world, SARAH, "Tandem: time for meeting 1")

    # Someone from another tandem, and the coordinator, send tandem A's button.
    stranger = await forge(world, JAMAL, button(lena_nudge, "checkin.met"))
    assert head(stranger) == "This button belongs to another tandem. Nothing was changed."
    coordinator = await forge(world, CLARA, button(lena_nudge, "checkin.help"))
    assert head(coordinator).startswith("This button belongs to another tandem.")
    assert await count(world, Checkin) == 0

    # Lena double-clicks "We met": two submits at once. The meeting is recorded once,
    # each partner gets one reflection prompt, and both answers replace her card.
    # (Both answers may say "recorded" instead of one "already recorded": the two
    # presses race in storage.checkins.record_checkin.)
    before = len(connector.calls)
    await asyncio.gather(*(post(world, LENA, value=button(lena_nudge, "checkin.met"),
                                replyToId=lena_nudge.activity_id) for _ in range(2)))
    new = connector.calls[before:]
    updates = [c for c in new if c.kind == "update"]
    assert [c.activity_id for c in updates] == [lena_nudge.activity_id] * 2
    assert {head(c) for c in updates} <= {
        "Wunderbar, Treffen 1 ist vermerkt. Ich habe euch beiden eine kurze Reflexionsfrage "
        "geschickt.", "Schon vermerkt: Ihr habt euch zu Treffen 1 getroffen. Danke!"}
    assert sorted((c.conversation_id, head(c)) for c in new if c.kind == "send") == [
        (LENA.chat, "Eine kurze Reflexion zu Treffen 1"),
        (SARAH.chat, "A short reflection on meeting 1")]
    # Sarah presses on her own card later: already recorded, in English.
    already = await press(world, SARAH, sarah_nudge, "checkin.met")
    assert (already.kind, head(already)) == (
        "update", "Already recorded: you met for meeting 1. Thank you!")
    assert await count(world, Checkin) == 1

    # Tandem C: "Not yet" from both, and twice: one reminder, a week after the first.
    mehmet_nudge = last_card(world, MEHMET, "Tandem: Zeit für Treffen 1")
    olivia_nudge = last_card(world, OLIVIA, "Tandem: time for meeting 1")
    first = await press(world, MEHMET, mehmet_nudge, "checkin.later")
    assert head(first) == "Kein Problem. Ich erinnere euch am 17.02.2027."
    again = await press(world, MEHMET, mehmet_nudge, "checkin.later")
    assert head(again) == "Kein Problem. Ich erinnere euch am 17.02.2027."
    clock.set(utc(2, 11))
    partner = await press(world, OLIVIA, olivia_nudge, "checkin.later")
    assert head(partner) == "No problem. I will remind you on 17 Feb 2027."
    assert await count(world, Reminder) == 1
    sent: dict[datetime, list[tuple[str, str]]] = {}
    for now in (utc(2, 16, 23), utc(2, 17, 0), utc(2, 17, 12), utc(2, 18), utc(2, 20)):
        clock.set(now)
        before = len(connector.calls)
        await run_due(ctx)
        sent[now] = sorted((c.conversation_id, head(c)) for c in connector.calls[before:])
    assert sent == {utc(2, 16, 23): [], utc(2, 17, 12): [], utc(2, 18): [], utc(2, 20): [],
                    utc(2, 17, 0): [(MEHMET.chat, "Erinnerung: Treffen 1"),
                                    (OLIVIA.chat, "Reminder: meeting 1")]}
    met = await press(world, OLIVIA, last_card(world, OLIVIA, "Reminder: meeting 1"),
                      "checkin.met")
    assert head(met) == ("Wonderful, meeting 1 is recorded. I have sent each of you a short "
                         "reflection prompt.")
    late = await press(world, MEHMET, mehmet_nudge, "checkin.later")
    assert head(late) == "Schon vermerkt: Ihr habt euch zu Treffen 1 getroffen. Danke!"

    # Tandem B asks for help, both of them: the coordinator is alerted once.
    katrin_nudge = last_card(world, KATRIN, "Tandem: Zeit für Treffen 1")
    jamal_nudge = last_card(world, JAMAL, "Tandem: time for meeting 1")
    helped = await press(world, KATRIN, katrin_nudge, "checkin.help")
    assert head(helped).startswith("Ich habe dem Programm-Team Bescheid gesagt")
    both = await press(world, JAMAL, jamal_nudge, "checkin.help")
    assert head(both) == ("The coordinators already know you need help with meeting 1; "
                          "someone will get in touch.")
    await press(world, KATRIN, katrin_nudge, "checkin.help")
    alerts = [head(c) for c in connector.messages(CLARA.chat) if "asked for help" in head(c)]
    assert alerts == ["The tandem Jamal Okafor → Katrin Vogel (round 2027-spring) asked for "
                      "help. Please get in touch with them."]

    # A reflection: wrong answers come back on the card; the form's context comes back
    # from the card; another person cannot send the form for this tandem.
    prompt = last_card(world, SARAH, "A short reflection on meeting 1")
    form = await press(world, SARAH, prompt, "reflect.open")
    assert form.kind == "reply"
    submit = next(a["data"] for a in form.card["actions"] if "tandem_form" in a["data"])
    assert submit["tandem_context"] == button(prompt, "reflect.open")["value"]
    wrong = await fill(world, SARAH, form, learned="x" * 1001, usefulness="9")
    assert "Please choose a number from 1 to 5." in wrong.all_text()
    intruder = await forge(world, JAMAL, {**submit, "learned": "mine", "usefulness": "3"})
    assert head(intruder) == "This button belongs to another tandem. Nothing was changed."
    assert await count(world, Response) == 0
    saved = await fill(world, SARAH, wrong, learned="TikTok basics", usefulness="4")
    assert head(saved) == "Saved, just for you."
    reopened = await press(world, SARAH, prompt, "reflect.open")
    assert "TikTok basics" in json.dumps(reopened.card)
    shared = await fill(world, SARAH, reopened, learned="TikTok, really", usefulness="5",
                        visibility="partner")
    assert head(shared) == "Saved and shared with your tandem partner."
    async with world.runtime.db.session() as session:
        [row] = await session.scalars(select(Response))
    assert (row.rating, row.visibility, row.answers["learned"]) == (5, "partner", "TikTok, really")
    [note] = [c for c in connector.messages(LENA.chat) if "teilt eine Reflexion" in head(c)]
    assert head(note) == "Sarah Miller teilt eine Reflexion zu Treffen 1"
    assert "TikTok, really" in note.all_text()
    assert all("TikTok" not in c.all_text() for c in connector.messages(CHANNEL))
    assert all("TikTok" not in c.all_text() for c in connector.messages(CLARA.chat))

    # After the round: the buttons say it has closed and change nothing; the feedback
    # stays open for 30 days; a button that never existed is stale.
    clock.set(utc(8, 2))
    await run_due(ctx)
    checkins = await count(world, Checkin)
    closed = await press(world, LENA, lena_nudge, "checkin.later")
    assert head(closed) == ("Die Runde 2027-spring ist beendet, daher lässt sich das nicht mehr "
                            "beantworten. Es wurde nichts geändert.")
    closed = await press(world, SARAH, prompt, "reflect.open")
    assert head(closed).startswith("Round 2027-spring has ended")
    closed = await press(world, JAMAL, jamal_nudge, "checkin.help")
    assert head(closed).startswith("Round 2027-spring has ended")
    stale = await forge(world, LENA, {"tandem_action": "checkin.met", "value": "999:1"})
    assert head(stale) == "Dieser Button wird nicht mehr verwendet. Es wurde nichts geändert."
    assert await count(world, Checkin) == checkins and await count(world, Reminder) == 1

    invite = last_card(world, KATRIN, "Die Runde 2027-spring ist vorbei: Wie war es?")
    outsider = await forge(world, CLARA, button(invite, "evaluation.open"))
    assert head(outsider) == "This button belongs to another tandem. Nothing was changed."
    feedback = await press(world, KATRIN, invite, "evaluation.open")
    assert (feedback.kind, head(feedback)) == ("reply", "Auswertung")
    thanks = await fill(world, KATRIN, feedback, rating="3", valuable="", recommend="yes",
                        **{"continue": "no"})
    assert head(thanks) == "Danke für dein Feedback!"
    clock.set(utc(9, 2))
    late = await press(world, KATRIN, invite, "evaluation.open")
    assert head(late) == "Die Auswertung der Runde 2027-spring ist geschlossen. Trotzdem danke!"
