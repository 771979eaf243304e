"""Answers to the monthly nudge, the reflection prompt and the half-way pulse.

Who sees what, in order:
1. A partner presses a nudge button. Only the two partners may answer; after
   the round has ended, or for a tandem that ended, the answer is a kind "this
   has closed" and nothing changes. Pressing the same answer again says it is
   already recorded.
   - "We met": recorded for the month; each partner then gets a private
     reflection prompt with a "Reflect" button.
   - "Not yet, remind me in a week": one reminder is scheduled (pressing again
     changes nothing) and the presser is told when it comes.
   - "We need help": the coordinators are alerted privately, once per month.
2. "Reflect" opens a private form: what did you learn or teach, what will you
   try, how useful was it (1 to 5), and who may see it (only me, by default;
   my partner; the coordinators). Late answers are fine; a second answer for
   the same month replaces the first. Shared with the partner, it is sent to
   them privately.
3. The pulse buttons record how it is going; "We need help" alerts the
   coordinators as above.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import UserError
from bot.core.i18n import t
from conversations import values
from conversations.audience import Languages, coordinator_languages
from conversations.context import FlowContext
from conversations.events import Actor, ButtonPress, FormSubmission
from conversations.forms import Choice, Form, SelectInput, TextInput
from conversations.messages import Button, Message, Paragraph
from conversations.outcomes import FormDone, FormInvalid, Outcome, ShowForm, reply
from conversations.owed import Owed, deliver, for_coordinators, for_person, record
from conversations.schedule import RoundDates
from conversations.summary import format_day
from conversations.survey import clean_text
from storage import checkins, participants, responses, rounds, tandems
from storage.models import Participant, Round, RoundStatus, TandemStatus
from storage.tandems import TandemPeople

#: The buttons of the nudge and the reminder (declared in ``conversations.scheduled``).
CHECKIN_MET, CHECKIN_LATER, CHECKIN_HELP = "checkin.met", "checkin.later", "checkin.help"
#: The buttons of the half-way pulse.
PULSE_GOOD, PULSE_MEH, PULSE_HELP = "pulse.good", "pulse.meh", "pulse.help"
REFLECT = "reflect.open"
REFLECTION_FORM = "reflection"
VISIBILITIES = ("private", "partner", "coordinators")
TEXT_MAX = 1000


@dataclass(frozen=True)
class Place:
    """A tandem and month a button or form is about, checked against who pressed it."""

    pair: TandemPeople
    period: int
    me: Participant
    partner: Participant
    current: Round


async def _place(ctx: FlowContext, actor: Actor, value: str, key: str = values.STALE_BUTTON
                 ) -> tuple[Place, str]:
    """The tandem and month a check-in button (or reflection form) names, if it is
    the presser's tandem and a month of its round that has begun."""
    tandem_id, period = values.numbers(value, 2, key=key)
    async with ctx.db.session() as session:
        pair = await tandems.tandem_people(session, tandem_id)
        current = await rounds.round_by_id(session, pair.tandem.round_id) if pair else None
    if pair is None or current is None:
        raise values.Stale(f"no tandem {tandem_id}", key)
    me = next((p for p in pair.people
               if p.platform == actor.platform and p.user_id == actor.user_id), None)
    if me is None:
        raise UserError("checkin.not_yours")
    language = ctx.language(actor.locale, me.locale)
    dates = RoundDates.of(current, ctx.config.timezone)
    now = ctx.clock.now()
    if period > dates.periods or now < dates.period_begins_at(period):
        raise values.Stale(f"period {period} of round {current.id} has not begun or is none",
                           key)
    if pair.tandem.status != TandemStatus.ACTIVE or current.status == RoundStatus.ENDED or \
            now >= dates.end_at(ctx.config.rhythm):
        raise UserError("checkin.closed", round=current.name)
    partner = pair.mentee if me is pair.mentor else pair.mentor
    return Place(pair, period, me, partner, current), language


async def answer(ctx: FlowContext, press: ButtonPress) -> Outcome:
    place, language = await _place(ctx, press.actor, press.value)
    kind = {CHECKIN_MET: "met", CHECKIN_LATER: "not_yet", CHECKIN_HELP: "help"}[press.action_id]
    now = ctx.clock.now()
    languages = await coordinator_languages(ctx) if kind == "help" else {}
    async with ctx.db.session() as session:
        before = await checkins.record_checkin(session, place.pair.tandem.id, place.period, kind,
                                               place.me.id, now)
        due = None
        ends = RoundDates.of(place.current, ctx.config.timezone).end_at(ctx.config.rhythm)
        wanted = now + ctx.config.rhythm.reminder_after
        if kind == "not_yet" and before != "met" and wanted < ends:
            due = await checkins.add_reminder(session, place.pair.tandem.id, place.period,
                                              wanted, now)
        # What the answer owes is recorded with it: prompts after "met", the alert.
        owed = []
        if kind == "met" and before != "met":
            owed = _reflection_prompts(ctx, place)
        elif kind == "help" and before not in ("help", "met"):
            owed = _help_alert(ctx, languages, place.pair, place.current, f"{place.period}")
        keys = await record(session, owed, now)
    await deliver(ctx, keys)
    if before == "met":
        return reply(t(language, "checkin.already_met", month=place.period))
    if before == kind and kind != "not_yet":
        return reply(t(language, f"checkin.already_{kind}", month=place.period))
    if kind == "met":
        return reply(t(language, "checkin.met_thanks", month=place.period))
    if kind == "not_yet":
        if due is None:
            return reply(t(language, "checkin.later_round_ends"))
        day = format_day(due.astimezone(ctx.config.timezone), language)
        return reply(t(language, "checkin.later_ok", date=day))
    return reply(t(language, "checkin.help_ok"))


def _reflection_prompts(ctx: FlowContext, place: Place) -> list[Owed]:
    value = f"{place.pair.tandem.id}:{place.period}"
    return [owed for person in place.pair.people for owed in for_person(
        ctx, person, place.current.id, "reflection", f"reflect:{person.id}:{place.period}",
        lambda lang, _reader: Message(
            title=t(lang, "reflect.title", month=place.period),
            blocks=(Paragraph(t(lang, "reflect.prompt")),),
            buttons=(Button(REFLECT, t(lang, "reflect.button"), value, "primary"),),
        ),
    )]


def _help_alert(ctx: FlowContext, languages: Languages, pair: TandemPeople, current: Round,
                when: str) -> list[Owed]:
    """"We need help", to every coordinator in their language, once per tandem and when."""
    mentor, mentee = pair.people
    return for_coordinators(
        ctx, languages, f"help:{pair.tandem.id}:{when}", current.id,
        lambda lang: Message.text(t(lang, "checkin.help_alert", round=current.name,
                                    mentor=mentor.display_name or mentor.user_id,
                                    mentee=mentee.display_name or mentee.user_id)),
    )


def reflection_form(language: str, context: str, earlier: dict[str, object] | None,
                    period: int) -> Form:
    earlier = earlier or {}
    return Form(
        id=REFLECTION_FORM,
        title=t(language, "reflect.form_title"),
        submit_label=t(language, "reflect.submit"),
        cancel_label=t(language, "survey.cancel"),
        intro=t(language, "reflect.intro", month=period),
        context=context,
        fields=(
            TextInput("learned", t(language, "reflect.learned"), str(earlier.get("learned", "")),
                      required=False, multiline=True, max_length=TEXT_MAX),
            TextInput("try_next", t(language, "reflect.try_next"),
                      str(earlier.get("try_next", "")), required=False, multiline=True,
                      max_length=TEXT_MAX),
            SelectInput("usefulness", t(language, "reflect.usefulness"),
                        tuple(Choice(str(n), t(language, f"reflect.rating.{n}"))
                              for n in range(1, 6)),
                        initial=(str(earlier["usefulness"]),) if "usefulness" in earlier else (),
                        style="radio"),
            SelectInput("visibility", t(language, "reflect.visibility"),
                        tuple(Choice(v, t(language, f"reflect.visibility.{v}"))
                              for v in VISIBILITIES),
                        initial=(str(earlier.get("visibility", "private")),), style="radio"),
        ),
    )


async def open_reflection(ctx: FlowContext, press: ButtonPress) -> Outcome:
    place, language = await _place(ctx, press.actor, press.value)
    async with ctx.db.session() as session:
        earlier = await responses.response_of(session, place.me.id, place.current.id, "reflection",
                                              place.period)
    shown = None
    if earlier is not None:
        shown = {**earlier.answers, "usefulness": earlier.rating,
                 "visibility": earlier.visibility}
    return ShowForm(reflection_form(language, press.value, shown, place.period))


async def submit_reflection(ctx: FlowContext, submission: FormSubmission) -> Outcome:
    place, language = await _place(ctx, submission.actor, submission.context,
                                   values.STALE_FORM)
    fields = submission.values
    errors: dict[str, str] = {}
    texts = {}
    for name in ("learned", "try_next"):
        raw = fields.get(name)
        text = clean_text(raw if isinstance(raw, str) else "")
        if len(text) > TEXT_MAX:
            errors[name] = t(language, "survey.error.too_long", max=TEXT_MAX, length=len(text))
        texts[name] = text
    rating = values.rating(fields.get("usefulness"))
    if rating is None:
        errors["usefulness"] = t(language, "reflect.error.rating")
    chosen = fields.get("visibility")
    visibility = values.choice(chosen, VISIBILITIES) if chosen else "private"
    if visibility is None:
        errors["visibility"] = t(language, "reflect.error.visibility")
    if errors:
        form = reflection_form(language, submission.context, None, place.period)
        return FormInvalid(form, errors, dict(fields))
    assert rating is not None and visibility is not None
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        await responses.save_response(
            session, place.me.id, place.current.id, "reflection", place.period, now,
            tandem_id=place.pair.tandem.id, rating=rating, visibility=str(visibility),
            answers=texts,
        )
        shared = _shared_with_partner(ctx, place, texts, rating, now.isoformat()) \
            if visibility == "partner" else []
        keys = await record(session, shared, now)
    await deliver(ctx, keys)
    return FormDone(Message.text(t(language, f"reflect.saved.{visibility}")))


def _shared_with_partner(ctx: FlowContext, place: Place, texts: dict[str, str],
                         rating: int, version: str) -> list[Owed]:
    author = place.me.display_name or place.me.user_id
    return for_person(
        ctx, place.partner, place.current.id, "reflection_shared",
        f"shared:{place.me.id}:{place.period}:{version}",
        lambda lang, _reader: Message(
            title=t(lang, "reflect.shared_title", name=author, month=place.period),
            blocks=(
                Paragraph(t(lang, "reflect.learned") + "\n" + (texts["learned"] or "–")),
                Paragraph(t(lang, "reflect.try_next") + "\n" + (texts["try_next"] or "–")),
                Paragraph(t(lang, "reflect.usefulness") + f": {rating}/5"),
            ),
        ),
    )


async def pulse_answer(ctx: FlowContext, press: ButtonPress) -> Outcome:
    actor = press.actor
    language = ctx.language(actor.locale)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        current = await values.row(session, rounds.round_by_id, press.value)
        me = await participants.participant_for(session, actor.platform, actor.user_id,
                                                [current.id])
        pairs = await tandems.active_tandems(session, current.id)
    pair = next((p for p in pairs if me is not None and me.id in (p.mentor.id, p.mentee.id)),
                None)
    if me is None or pair is None:
        raise UserError("checkin.not_yours")
    if current.status == RoundStatus.ENDED:
        raise UserError("checkin.closed", round=current.name)
    mood = {PULSE_GOOD: "good", PULSE_HELP: "help"}.get(press.action_id, "meh")
    languages = await coordinator_languages(ctx) if mood == "help" else {}
    async with ctx.db.session() as session:
        await responses.save_response(session, me.id, current.id, "pulse", 0, now,
                                      tandem_id=pair.tandem.id, answers={"mood": mood})
        keys = await record(session, _help_alert(ctx, languages, pair, current, "pulse")
                            if mood == "help" else [], now)
    await deliver(ctx, keys)
    if mood == "help":
        return reply(t(ctx.language(actor.locale, me.locale), "checkin.help_ok"))
    return reply(t(language, f"pulse.thanks.{mood}"))
