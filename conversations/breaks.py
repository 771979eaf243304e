"""A break with an end: ``pause`` asks until when, and Tandem resumes on that day.

Who sees what, in order:
1. ``pause`` (Teams also ``pausieren``) pauses at once, as it always did (no
   matching, no reminders), and asks privately "Until when?" with a button that
   opens a date picker set to one month from today. Without a date the break
   lasts until the person types ``resume``. A date that is not a day after today
   and within a year is refused in the form, and nothing changes; a form or
   button from an earlier break is refused as out of date.
2. On that day, at the programme's lifecycle time, Tandem resumes the person and
   tells them privately; their tandem partner gets a short private note that they
   are back. Both notes are owed in the transaction that resumes them (a
   compare-and-set), so a crash or a restart on that day sends each exactly once.
People who have not signed up or have left get the answers of
``conversations.membership``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial

from bot.core.i18n import t
from conversations import membership, values
from conversations.context import FlowContext
from conversations.events import Actor, ButtonPress, Command, FormSubmission
from conversations.forms import DateInput, Form
from conversations.messages import Button, Message
from conversations.outcomes import FormDone, FormInvalid, Outcome, Reply, ShowForm
from conversations.owed import Owed, deliver, for_person, record
from conversations.schedule import add_months, local_instant
from conversations.summary import format_day
from storage import participants, tandems
from storage.models import Participant, ParticipantStatus

FORM_ID = "pause"
SET_END = "pause.until"
UNTIL = "until"
#: The longest break one can plan ahead.
LONGEST = timedelta(days=366)


def _today(ctx: FlowContext) -> date:
    return ctx.clock.now().astimezone(ctx.config.timezone).date()


async def _paused(ctx: FlowContext, actor: Actor, key: str) -> tuple[Participant, str]:
    """The person, who must be on a break (else the button or form is out of date)."""
    async with ctx.db.session() as session:
        person = await participants.participant_for(session, actor.platform, actor.user_id)
    if person is None or person.status != ParticipantStatus.PAUSED:
        raise values.Stale("not on a break", key)
    return person, ctx.language(actor.locale, person.locale)


def _form(ctx: FlowContext, language: str) -> Form:
    default = add_months(_today(ctx), 1)
    return Form(
        id=FORM_ID, title=t(language, "pause.form_title"),
        submit_label=t(language, "pause.submit"), cancel_label=t(language, "pause.cancel"),
        intro=t(language, "pause.form_intro"),
        fields=(DateInput(UNTIL, t(language, "pause.until"), initial=default.isoformat(),
                          hint=t(language, "pause.until_hint")),),
    )


async def pause(ctx: FlowContext, command: Command) -> Outcome:
    outcome = await membership.pause(ctx, command)
    actor = command.actor
    async with ctx.db.session() as session:
        person = await participants.participant_for(session, actor.platform, actor.user_id)
    if not isinstance(outcome, Reply) or person is None \
            or person.status != ParticipantStatus.PAUSED:
        return outcome
    language = ctx.language(actor.locale, person.locale)
    ask = Button(SET_END, t(language, "pause.set_end"), style="primary")
    return replace(outcome, message=replace(outcome.message, buttons=(ask,)))


async def open_form(ctx: FlowContext, press: ButtonPress) -> Outcome:
    _, language = await _paused(ctx, press.actor, values.STALE_BUTTON)
    return ShowForm(_form(ctx, language))


async def submit(ctx: FlowContext, submission: FormSubmission) -> Outcome:
    actor = submission.actor
    _, language = await _paused(ctx, actor, values.STALE_FORM)
    today = _today(ctx)
    raw = submission.values.get(UNTIL)
    empty = raw in (None, "", [])
    until = None if empty else values.day(raw)
    if not empty and (until is None or not today < until <= today + LONGEST):
        return FormInvalid(_form(ctx, language), {UNTIL: t(language, "pause.bad_date")},
                           dict(submission.values))
    now = ctx.clock.now()
    resume_at = (None if until is None else
                 local_instant(until, ctx.config.rhythm.lifecycle_time, ctx.config.timezone))
    async with ctx.db.session() as session:
        person = await participants.participant_for(session, actor.platform, actor.user_id)
        if person is None or person.status != ParticipantStatus.PAUSED:
            raise values.Stale("not on a break any more", values.STALE_FORM)
        participants.pause_until(person, resume_at, now)
    cmd = ctx.messenger(actor.platform).command_prefix
    text = (t(language, "membership.now_paused", cmd=cmd) if until is None else
            t(language, "pause.now_paused_until", day=format_day(until, language), cmd=cmd))
    return FormDone(Message.text(text))


def _partner_back(name: str, language: str, _reader: Participant) -> Message:
    return Message.text(t(language, "pause.partner_back", name=name))


async def resume_due(ctx: FlowContext, now: datetime) -> int:
    """Resume everyone whose break ends by ``now``; each resume and its two notes are
    one transaction (the resume is a compare-and-set: once, whoever runs it)."""
    async with ctx.db.session() as session:
        due = await participants.breaks_ending(session, now)
    keys: list[str] = []
    for person_id in due:
        async with ctx.db.session() as session:
            person = await participants.resume_if_due(session, person_id, now)
            if person is None:
                continue
            notes: list[Owed] = for_person(
                ctx, person, person.round_id, "break_over",
                f"break-over:{person.id}:{now:%Y%m%d}",
                lambda lang, _reader: Message.text(t(lang, "pause.over")))
            name = person.display_name or person.user_id
            for tandem in await tandems.tandems_of(session, person):
                other_id = tandem.mentee_id if tandem.mentor_id == person.id else tandem.mentor_id
                other = await participants.participant_by_id(session, other_id)
                if other is not None and other.status in (ParticipantStatus.ACTIVE,
                                                          ParticipantStatus.PAUSED):
                    notes += for_person(
                        ctx, other, tandem.round_id, "partner_back",
                        f"partner-back:{person.id}:{other.id}:{now:%Y%m%d}",
                        partial(_partner_back, name))
            keys += await record(session, notes, now)
    await deliver(ctx, keys)
    return len(keys)
