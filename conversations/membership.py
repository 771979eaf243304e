"""Status, pause, resume and leave: a participant looking after their own place.

Who sees what, in order:
- ``status``: the person privately sees what they signed up with, their round,
  whether they are active, and their tandem partner if matched.
- ``pause`` / ``resume``: a private confirmation; a paused person is left out of
  matching and nudges until they resume.
- ``leave``: a private question with "Yes, leave" / "Stay"; on "Yes, leave" the
  person is marked as left (kept, not active), their tandem ends, their partner
  gets a kind private note (which says the coordinators will be in touch), and
  the coordinators are told privately, in their own language, that they may
  match the partner again; both are owed with the change (each once, through the
  outbox). "Stay" changes nothing.
People who have not signed up get a pointer to ``signup`` instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.core.errors import UserError
from bot.core.i18n import t
from conversations.audience import coordinator_languages
from conversations.context import FlowContext
from conversations.events import Actor, ButtonPress, Command
from conversations.messages import Button, Facts, Message, Paragraph
from conversations.outcomes import Outcome, Reply, reply
from conversations.owed import Owed, deliver, for_coordinators, for_person, record
from conversations.summary import answer_facts
from storage import participants, rounds, tandems
from storage.db import Session
from storage.models import STILL_IN, Participant, ParticipantStatus
from storage.people import Standing, people

LEAVE_CONFIRM = "leave.confirm"
LEAVE_CANCEL = "leave.cancel"


async def _load(ctx: FlowContext, actor: Actor, session: Session) -> tuple[Participant, str]:
    """The row that stands for the person (whichever workspace they type in), to change."""
    person = await participants.participant_for(session, actor.platform, actor.user_id)
    return _known(ctx, actor, person)


def _known(ctx: FlowContext, actor: Actor, person: Participant | None) -> tuple[Participant, str]:
    """The person and their language, or a pointer to ``signup`` if they are new."""
    language = ctx.language(actor.locale, person.locale if person else None)
    if person is None:
        raise UserError(
            "membership.not_signed_up", cmd=ctx.messenger(actor.platform).command_prefix
        )
    return person, language


async def status(ctx: FlowContext, command: Command) -> Outcome:
    actor = command.actor
    found = people(ctx.db)
    known, standing = await asyncio.gather(found.participant(actor.platform, actor.user_id),
                                           found.standing(actor.platform, actor.user_id))
    person, language = _known(ctx, actor, known)
    # None only if the row went between the two lookups (they share a batch nearly always).
    standing = standing or Standing(None, ())
    partners = [name or t(language, "status.unnamed") for name in standing.partners]
    facts = (
        (t(language, "status.round"), standing.round_name or ctx.config.round.name),
        (t(language, "status.state"), t(language, f"status.state.{person.status}")),
        (
            t(language, "status.tandem"),
            ", ".join(partners) if partners else t(language, "status.no_tandem"),
        ),
        *answer_facts(ctx.config, person, language),
    )
    cmd = ctx.messenger(actor.platform).command_prefix
    return Reply(
        Message(
            title=t(language, "status.title"),
            blocks=(Facts(facts), Paragraph(t(language, "status.hint", cmd=cmd))),
        )
    )


async def pause(ctx: FlowContext, command: Command) -> Outcome:
    return await _set_status(ctx, command.actor, ParticipantStatus.PAUSED,
                             allowed_from=(ParticipantStatus.ACTIVE,))


async def resume(ctx: FlowContext, command: Command) -> Outcome:
    return await _set_status(ctx, command.actor, ParticipantStatus.ACTIVE,
                             allowed_from=(ParticipantStatus.PAUSED,))


async def _set_status(
    ctx: FlowContext, actor: Actor, new: ParticipantStatus,
    allowed_from: tuple[ParticipantStatus, ...]
) -> Outcome:
    cmd = ctx.messenger(actor.platform).command_prefix
    async with ctx.db.session() as session:
        person, language = await _load(ctx, actor, session)
        if person.status == new:
            return reply(t(language, f"membership.already_{new}", cmd=cmd))
        if person.status not in allowed_from:
            return reply(t(language, f"membership.cannot_from_{person.status}", cmd=cmd))
        participants.set_status(person, new, ctx.clock.now())
    return reply(t(language, f"membership.now_{new}", cmd=cmd))


async def leave(ctx: FlowContext, command: Command) -> Outcome:
    known = await people(ctx.db).participant(command.actor.platform, command.actor.user_id)
    person, language = _known(ctx, command.actor, known)
    if person.status == ParticipantStatus.LEFT:
        return reply(
            t(
                language,
                "membership.already_left",
                cmd=ctx.messenger(command.actor.platform).command_prefix,
            )
        )
    return reply(
        t(language, "membership.leave_question"),
        buttons=(
            Button(LEAVE_CONFIRM, t(language, "membership.leave_yes"), style="danger"),
            Button(LEAVE_CANCEL, t(language, "membership.leave_no")),
        ),
    )


async def leave_answer(ctx: FlowContext, press: ButtonPress) -> Outcome:
    actor = press.actor
    languages = await coordinator_languages(ctx) if press.action_id == LEAVE_CONFIRM else {}
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        person, language = await _load(ctx, actor, session)
        if press.action_id == LEAVE_CANCEL:
            return reply(t(language, "membership.leave_cancelled"), replace=True)
        if person.status == ParticipantStatus.LEFT:
            return reply(
                t(
                    language,
                    "membership.already_left",
                    cmd=ctx.messenger(actor.platform).command_prefix,
                )
            )
        participants.set_status(person, ParticipantStatus.LEFT, now)
        notices: list[Owed] = []
        for tandem in await tandems.end_tandems_of(session, person):
            other_id = tandem.mentee_id if tandem.mentor_id == person.id else tandem.mentor_id
            other = await participants.participant_by_id(session, other_id)
            if other is None or other.status not in STILL_IN:
                continue  # left or forgotten too: nobody to tell or to match again
            # Owed with the change: a crash after it loses no note.
            notices += for_person(
                ctx, other, tandem.round_id, "partner_left",
                f"partner-left:{tandem.id}:{other.id}",
                lambda lang, _reader: Message.text(t(lang, "membership.partner_left")))
            current = await rounds.round_by_id(session, tandem.round_id)
            notices += for_coordinators(
                ctx, languages, f"partner-left:{tandem.id}", tandem.round_id,
                _coordinators_note(person, other, current.name if current else ""))
        keys = await record(session, notices, now)
    await deliver(ctx, keys)
    prefix = ctx.messenger(actor.platform).command_prefix
    return reply(t(language, "membership.left", cmd=prefix), replace=True)


def _coordinators_note(person: Participant, partner: Participant, round_name: str
                       ) -> Callable[[str], Message]:
    """What coordinators read when someone left and their partner is alone."""
    return lambda lang: Message.text(t(
        lang, "membership.coordinators_left", person=person.display_name or person.user_id,
        partner=partner.display_name or partner.user_id, round=round_name))
