"""Privacy self-service: "what do you store about me?", "forget me", and retention.

Who sees what, in order:
- ``my-data`` (``meine-daten``): the person privately gets one JSON file in their
  DM with every row Tandem stores about them, table by table (their tandem
  partner appears by name only), and a short private reply saying so. Someone
  about whom nothing is stored is told that instead. The file is the answer to
  the request, sent directly, not owed: asking changes nothing, so a lost file
  costs nothing but asking again (the reply "sent" comes only after the file),
  and an owed copy would keep a second copy of all their data in the delivery
  table until sent.
- ``forget-me`` (``vergessen``): a private question with "Yes, forget me" /
  "Keep my data". "Keep" changes nothing. "Yes" erases their personal data
  (``storage.personal_data.erase``: anonymous counts stay) and the answer
  replaces the question. If they were in a tandem, it ends: the partner gets a
  kind private note in their own language and the coordinators are told they
  may match the partner again (each once, through the outbox). The forgotten
  person gets nothing more from the bot; signing up again starts afresh.
- Retention (app.yaml ``privacy.retention_months``): people whose round ended
  that many months ago are erased the same way, silently, from ``run_due`` and
  ``tandem purge``. Whoever signed up for a later round keeps their data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.core.i18n import t
from conversations.audience import Languages, coordinator_languages
from conversations.context import FlowContext
from conversations.events import Actor, ButtonPress, Command
from conversations.messages import Button, Message
from conversations.outcomes import Outcome, reply
from conversations.owed import Owed, deliver, for_coordinators, for_person, record
from conversations.schedule import RoundDates, add_months, local_instant
from conversations.summary import format_day
from storage import participants, personal_data, rounds, tandems
from storage.models import STILL_IN, Participant, ParticipantStatus
from storage.personal_data import Person

FORGET_CONFIRM = "forget.confirm"
FORGET_CANCEL = "forget.cancel"


def _language(ctx: FlowContext, actor: Actor) -> str:
    return ctx.language(actor.locale)


async def my_data(ctx: FlowContext, command: Command) -> Outcome:
    actor = command.actor
    language = _language(ctx, actor)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        person = await personal_data.find_person(session, actor.platform, actor.user_id)
        found = await personal_data.export(session, person)
    if found.empty:
        return reply(t(language, "privacy.nothing_stored"))
    document = {
        "programme": ctx.config.programme_name,
        "exported_at": now,
        "platform": actor.platform,
        "user_id": actor.user_id,
        "tables": found.tables,
    }
    content = json.dumps(document, ensure_ascii=False, indent=2, default=_json).encode("utf-8")
    await ctx.messenger(actor.platform).send_file(
        actor.user_id, f"tandem-my-data-{now.date().isoformat()}.json", content,
        Message.text(t(language, "privacy.my_data_file", date=format_day(now.date(), language))),
    )
    return reply(t(language, "privacy.my_data_sent"))


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return str(value)


async def forget_me(ctx: FlowContext, command: Command) -> Outcome:
    actor = command.actor
    language = _language(ctx, actor)
    async with ctx.db.session() as session:
        person = await personal_data.find_person(session, actor.platform, actor.user_id)
        found = await personal_data.export(session, person)
    if found.empty:
        return reply(t(language, "privacy.nothing_stored"))
    return reply(
        t(language, "privacy.forget_question"),
        buttons=(
            Button(FORGET_CONFIRM, t(language, "privacy.forget_yes"), style="danger"),
            Button(FORGET_CANCEL, t(language, "privacy.forget_no")),
        ),
    )


@dataclass(frozen=True)
class Ended:
    """A tandem that ended because one partner was forgotten."""

    tandem_id: int
    round_name: str
    round_id: int
    partner: Participant


async def forget_answer(ctx: FlowContext, press: ButtonPress) -> Outcome:
    actor = press.actor
    language = _language(ctx, actor)
    if press.action_id == FORGET_CANCEL:
        return reply(t(language, "privacy.forget_cancelled"), replace=True)
    languages = await coordinator_languages(ctx)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        person = await personal_data.find_person(session, actor.platform, actor.user_id)
        found = await personal_data.export(session, person)
        if found.empty:
            return reply(t(language, "privacy.nothing_stored"), replace=True)
        ended = await _ending(session, person)
        await personal_data.erase(session, person, now)
        # The notices are owed with the erasure: a crash after it loses none.
        keys = await record(session, _notices(ctx, ended, languages), now)
    await ctx.db.scrub_files()
    await deliver(ctx, keys)
    cmd = ctx.messenger(actor.platform).command_prefix
    return reply(t(language, "privacy.forgotten", cmd=cmd), replace=True)


async def _ending(session: Any, person: Person) -> list[Ended]:
    """The person's active tandems whose partner is still in the programme."""
    if not person.tandem_ids:
        return []
    ended: list[Ended] = []
    for tandem, current in await tandems.active_with_rounds(session, person.tandem_ids):
        mine_is_mentor = tandem.mentor_id in person.participant_ids
        partner = await participants.participant_by_id(
            session, tandem.mentee_id if mine_is_mentor else tandem.mentor_id)
        if partner is not None and partner.status in STILL_IN:
            ended.append(Ended(tandem.id, current.name, current.id, partner))
    return ended


def _notices(ctx: FlowContext, ended: list[Ended], languages: Languages) -> list[Owed]:
    """The partner's kind note and the coordinators' "match them again", per tandem."""
    owed: list[Owed] = []
    for item in ended:
        partner = item.partner
        owed += for_person(ctx, partner, item.round_id, "partner_forgotten",
                           f"partner-forgotten:{item.tandem_id}:{partner.id}",
                           lambda lang, _reader: Message.text(
                               t(lang, "privacy.partner_forgotten")))
        name = partner.display_name or partner.user_id
        owed += for_coordinators(ctx, languages, f"partner-forgotten:{item.tandem_id}",
                                 item.round_id, _coordinators_note(name, item.round_name))
    return owed


def _coordinators_note(partner: str, round_name: str) -> Callable[[str], Message]:
    """What coordinators read when someone's partner asked to be forgotten."""
    return lambda lang: Message.text(
        t(lang, "privacy.coordinators_forgotten", partner=partner, round=round_name))


# retention ---------------------------------------------------------------------------

@dataclass
class Purge:
    """What retention erased (or, in a dry run, would erase)."""

    rounds: list[str] = field(default_factory=list)
    people: int = 0
    dry_run: bool = False

    def summary(self, language: str = "en") -> str:
        """One line for the operator (``tandem purge``), in their language."""
        if not self.rounds:
            return t(language, "cli.retention.none")
        return t(language, "cli.retention.would_erase" if self.dry_run
                 else "cli.retention.erased", people=self.people, rounds=", ".join(self.rounds))


async def purge_expired(ctx: FlowContext, now: datetime | None = None,
                        dry_run: bool = False) -> Purge:
    """Erase the people of every round that ended more than ``retention_months`` ago,
    except whoever is in a later round. Nothing is sent to anyone."""
    months = ctx.config.privacy.retention_months
    purge = Purge(dry_run=dry_run)
    if months is None:
        return purge
    now = now or ctx.clock.now()
    rhythm, zone = ctx.config.rhythm, ctx.config.timezone
    async with ctx.db.session() as session:
        expired: dict[int, str] = {}
        for old in await rounds.all_rounds(session):
            end = RoundDates.of(old, zone).end
            if local_instant(add_months(end, months), rhythm.lifecycle_time, zone) <= now:
                expired[old.id] = old.name
        if not expired:
            return purge
        candidates = await participants.people_in_rounds(
            session, expired, but_not=ParticipantStatus.FORGOTTEN)
        if not candidates:
            return purge
        rows = await participants.rounds_of_people(
            session, {user_id for _, user_id in candidates}, but_not=ParticipantStatus.FORGOTTEN)
        rounds_of: dict[tuple[str, str], set[int | None]] = {}
        for platform, user_id, round_id in rows:
            rounds_of.setdefault((platform, user_id), set()).add(round_id)
        # Whoever has a place in a later round keeps everything.
        due = sorted(key for key, rounds in rounds_of.items()
                     if all(r in expired for r in rounds))
        purge.rounds = sorted({expired[r] for key in due for r in rounds_of[key]
                               if r is not None})
        purge.people = len(due)
        if dry_run:
            return purge
        for platform, user_id in due:
            person = await personal_data.find_person(session, platform, user_id)
            await personal_data.erase(session, person, now)
    await ctx.db.scrub_files()
    return purge
