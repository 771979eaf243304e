"""Round control for coordinators: sign-up windows, length, the end, the next round.

Who sees what, in order:
1. A coordinator types ``round`` (Teams also ``runde``): the current round's
   dates, status and chat changes, and how to change them. Anyone else is
   refused and nothing changes.
2. ``round open [YYYY-MM-DD]`` opens sign-up now (until the given last day),
   ``round close`` closes it now, ``round extend N`` adds N months,
   ``round end`` ends the round now, ``round next NAME CLOSES STARTS`` starts
   the next round (sign-up from now to CLOSES, first day STARTS). Each first
   shows privately what will happen, with "Confirm" and "Cancel".
3. Confirm applies it once, however often pressed, and is audited. Dates
   changed here are kept on top of app.yaml (``Round.overrides``).
   Ending sends each participant the closing evaluation and the channels the
   thank-you now. Starting the next round asks every participant of the last
   round privately whether they want to continue: with a new partner, with
   the same partner, or not this time. Their answers are recorded; two
   partners who both want to stay together are pinned for the matching.
   These notices are owed in the transaction that ends or starts the round
   (``conversations.owed``), then sent: a crash loses none, ``run_due`` sends
   what is left, and nobody gets one twice.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.core.errors import UserError
from bot.core.i18n import t
from conversations import owed, rhythm, values
from conversations.context import FlowContext
from conversations.coordination import audit, require_coordinator
from conversations.events import Actor, ButtonPress, Command
from conversations.messages import Button, Facts, Message, Paragraph
from conversations.outcomes import Outcome, Reply, Working, reply
from conversations.owed import Owed
from conversations.schedule import RoundDates, add_months
from conversations.summary import format_day
from storage import audit_log, coordination, participants, proposals, responses, rounds, tandems
from storage.models import (
    STILL_IN,
    ActionStatus,
    CoordinatorAction,
    Participant,
    Round,
    RoundStatus,
)

CONFIRM, CANCEL = "round.confirm", "round.cancel"
CONTINUE_NEW, CONTINUE_SAME, CONTINUE_NO = "continue.new", "continue.same", "continue.no"
CHOICES = {CONTINUE_NEW: "new", CONTINUE_SAME: "same", CONTINUE_NO: "no"}
OPS = {"open": "open", "open-signup": "open", "öffnen": "open", "oeffnen": "open",
       "close": "close", "close-signup": "close", "schließen": "close",
       "schliessen": "close", "extend": "extend", "verlängern": "extend",
       "verlaengern": "extend", "end": "end", "beenden": "end", "next": "next",
       "nächste": "next", "naechste": "next"}
MAX_EXTEND = 12
_NAME = re.compile(r"^[\w.-]{1,100}$")


async def command(ctx: FlowContext, cmd: Command) -> Outcome:
    actor = cmd.actor
    require_coordinator(ctx, actor)
    language = ctx.language(actor.locale)
    words = cmd.text.split()[1:]
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        current = await rounds.sync_round(session, ctx.config.round, now)
        if not words:
            return await _status(ctx, session, actor, current, language)
        op = OPS.get(words[0].lower())
        if op is None:
            raise _usage(ctx, actor)
        payload = _plan(ctx, actor, current, op, words[1:], now)
        action = await coordination.create_action(session, f"round.{op}", actor.platform,
                                                  actor.user_id, current.id, payload, now)
    await audit(ctx, actor, f"round.{op}.requested", round=current.name, **payload)
    value = str(action.id)
    return reply(
        _describe(ctx, current, op, payload, language),
        t(language, "round.confirm_question"),
        title=t(language, "round.confirm_title"),
        buttons=(Button(CONFIRM, t(language, "round.confirm_button"), value, "primary"),
                 Button(CANCEL, t(language, "round.cancel_button"), value)),
    )


def _usage(ctx: FlowContext, actor: Actor) -> UserError:
    return UserError("round.usage", cmd=ctx.messenger(actor.platform).command_prefix)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError("round.bad_date", date=text[:20]) from None


def _plan(ctx: FlowContext, actor: Actor, current: Round, op: str, args: list[str],
          now: datetime) -> dict[str, Any]:
    """What the change will be, checked now and stored with the confirmation."""
    zone = ctx.config.timezone
    if op == "open":
        if len(args) > 1:
            raise _usage(ctx, actor)
        if current.status != RoundStatus.OPEN:
            raise UserError("round.open_after_matching", round=current.name)
        closes = (datetime.combine(_day(args[0]) + timedelta(days=1), time(0), tzinfo=zone)
                  if args else current.signup_closes_at)
        if closes <= now:
            raise UserError("round.open_needs_date", cmd=_prefix(ctx, actor))
        if current.starts_at < closes:
            raise UserError("round.closes_after_start",
                            starts=format_day(current.starts_at.astimezone(zone).date(),
                                              ctx.language(actor.locale)))
        return {"closes": closes.isoformat()}
    if op in ("close", "end"):
        if args:
            raise _usage(ctx, actor)
        if op == "end" and current.status == RoundStatus.ENDED:
            raise UserError("round.already_ended", round=current.name)
        return {}
    if op == "extend":
        months = values.number_or_none(args[0], 1, MAX_EXTEND) if len(args) == 1 else None
        if months is None:
            raise UserError("round.extend_usage", cmd=_prefix(ctx, actor), max=MAX_EXTEND)
        if current.status == RoundStatus.ENDED:
            raise UserError("round.already_ended", round=current.name)
        return {"months": months, "from": current.length_months,
                "to": current.length_months + months}
    # next
    if len(args) != 3 or not _NAME.match(args[0]):
        raise UserError("round.next_usage", cmd=_prefix(ctx, actor))
    dates = RoundDates.of(current, zone)
    if current.status != RoundStatus.ENDED and now < dates.end_at(ctx.config.rhythm):
        raise UserError("round.next_not_ended", round=current.name, cmd=_prefix(ctx, actor))
    closes_on, starts_on = _day(args[1]), _day(args[2])
    if closes_on < now.astimezone(zone).date() or starts_on <= closes_on:
        raise UserError("round.next_bad_dates")
    return {"name": args[0], "closes": closes_on.isoformat(), "starts": starts_on.isoformat()}


def _prefix(ctx: FlowContext, actor: Actor) -> str:
    return ctx.messenger(actor.platform).command_prefix


def _describe(ctx: FlowContext, current: Round, op: str, payload: dict[str, Any],
              language: str) -> str:
    zone = ctx.config.timezone
    if op == "open":
        last = datetime.fromisoformat(payload["closes"]).astimezone(zone).date()
        return t(language, "round.plan.open", round=current.name,
                 last=format_day(last - timedelta(days=1), language))
    if op == "extend":
        end = add_months(current.starts_at.astimezone(zone).date(), payload["to"])
        return t(language, "round.plan.extend", round=current.name, months=payload["months"],
                 end=format_day(end, language))
    if op == "next":
        return t(language, "round.plan.next", round=current.name, name=payload["name"],
                 last=format_day(date.fromisoformat(payload["closes"]), language),
                 starts=format_day(date.fromisoformat(payload["starts"]), language))
    return t(language, f"round.plan.{op}", round=current.name)


async def _status(ctx: FlowContext, session: Any, actor: Actor, current: Round,
                  language: str) -> Outcome:
    zone = ctx.config.timezone
    dates = RoundDates.of(current, zone)

    def day(moment: datetime) -> str:
        return format_day(moment.astimezone(zone).date(), language)

    facts = [
        (t(language, "round.fact.status"), t(language, f"round.status.{current.status}")),
        (t(language, "round.fact.signup"),
         t(language, "round.fact.signup_value", opens=day(current.signup_opens_at),
           last=day(current.signup_closes_at - timedelta(seconds=1)))),
        (t(language, "round.fact.runs"),
         t(language, "round.fact.runs_value", starts=day(current.starts_at),
           end=format_day(dates.end, language), months=current.length_months)),
    ]
    if current.overrides:
        facts.append((t(language, "round.fact.overrides"), ", ".join(sorted(current.overrides))))
    answers = await responses.continuation_counts(session, current.id)
    if answers:
        facts.append((t(language, "round.fact.continuing"),
                      t(language, "round.fact.continuing_value", new=answers.get("new", 0),
                        same=answers.get("same", 0), no=answers.get("no", 0))))
    return Reply(Message(title=t(language, "round.status_title", round=current.name),
                         blocks=(Facts(tuple(facts)),
                                 Paragraph(t(language, "round.usage",
                                             cmd=_prefix(ctx, actor))))))


async def _action(ctx: FlowContext, press: ButtonPress) -> CoordinatorAction:
    require_coordinator(ctx, press.actor)
    async with ctx.db.session() as session:
        return await values.row(session, coordination.action_by_id, press.value,
                                lambda action: action.kind.startswith("round."))


async def cancel(ctx: FlowContext, press: ButtonPress) -> Outcome:
    action = await _action(ctx, press)
    async with ctx.db.session() as session:
        won = await coordination.decide(session, action.id, ActionStatus.CANCELLED,
                                        press.actor.user_id, ctx.clock.now())
    if not won:
        raise UserError("round.already_decided")
    await audit(ctx, press.actor, f"{action.kind}.cancelled", action=action.id)
    return reply(t(ctx.language(press.actor.locale), "round.cancelled"), replace=True)


async def confirm(ctx: FlowContext, press: ButtonPress) -> Outcome:
    actor = press.actor
    language = ctx.language(actor.locale)
    action = await _action(ctx, press)
    op = action.kind.removeprefix("round.")
    now = ctx.clock.now()
    payload = action.payload
    notices: list[Owed] = []
    async with ctx.db.session() as session:
        current = await rounds.round_by_id(session, action.round_id)
        if current is None:
            raise values.Stale(f"round {action.round_id} is gone")
        if not await coordination.decide(session, action.id, ActionStatus.DONE, actor.user_id,
                                         now):
            raise UserError("round.already_decided")
        if op == "extend" and current.length_months != payload["from"]:
            raise UserError("round.changed_meanwhile")  # rolled back: still pending
        if op == "open":
            await rounds.override_round(session, current.id, {
                "signup_opens_at": min(current.signup_opens_at, now),
                "signup_closes_at": datetime.fromisoformat(payload["closes"])})
        elif op == "close":
            await rounds.override_round(session, current.id, {
                "signup_opens_at": min(current.signup_opens_at, now),
                "signup_closes_at": min(current.signup_closes_at, now)})
        elif op == "extend":
            await rounds.override_round(session, current.id, {"length_months": payload["to"]})
        elif op == "end":
            pairs = await tandems.active_tandems(session, current.id)
            people = [p for pair in pairs for p in pair.people
                      if p.unreachable_at is None and p.status in STILL_IN]
            await rounds.override_round(session, current.id, {
                "signup_closes_at": min(current.signup_closes_at, now),
                "status": RoundStatus.ENDED})
            await tandems.end_tandems(session, current.id)
            notices = await rhythm.wrap_up_owed(ctx, session, current, people, pairs)
        elif op == "next":
            following = await _start_next(ctx, session, current, payload, now)
            notices = await _continue_questions(
                ctx, session, current, following,
                await participants.still_in_round(session, current.id))
        await audit_log.record(session, actor.platform, actor.user_id, f"round.{op}",
                               {"round": current.name, "action": action.id, **payload}, now)
        keys = await owed.record(session, notices, now)
    done = Message.text(_describe(ctx, current, op, payload, language),
                        t(language, f"round.done.{op}"))
    if op in ("end", "next"):
        async def send() -> None:
            await owed.deliver(ctx, keys)

        return Working(done, send)
    return reply(*(p.text for p in done.blocks if isinstance(p, Paragraph)), replace=True)


async def _start_next(ctx: FlowContext, session: Any, current: Round, payload: dict[str, Any],
                      now: datetime) -> Round:
    if await rounds.round_by_name(session, payload["name"]) is not None:
        raise UserError("round.name_taken", name=payload["name"])
    zone = ctx.config.timezone
    closes = date.fromisoformat(payload["closes"]) + timedelta(days=1)
    return await rounds.create_following_round(session, current, {
        "name": payload["name"], "signup_opens_at": now,
        "signup_closes_at": datetime.combine(closes, time(0), tzinfo=zone),
        "starts_at": datetime.combine(date.fromisoformat(payload["starts"]), time(0),
                                      tzinfo=zone),
        "length_months": current.length_months,
        "meetings_per_month": current.meetings_per_month,
    }, now)


async def _continue_questions(ctx: FlowContext, session: Any, previous: Round,
                              following: Round, people: list[Participant]) -> list[Owed]:
    """Each reachable participant of ``previous``: will they continue in ``following``?"""
    asked: list[Owed] = []
    for person in people:
        if person.unreachable_at is not None:
            continue
        partner = await tandems.partner_of(session, person.id, previous.id)

        def compose(language: str, _reader: Participant, partner: Participant | None = partner
                    ) -> Message:
            return continue_question(following, language, partner)

        asked += owed.for_person(ctx, person, following.id, "continue",
                                 f"continue:{following.id}:{person.id}", compose)
    return asked


def continue_question(following: Round, language: str, partner: Participant | None
                      ) -> Message:
    value = str(following.id)
    buttons = [Button(CONTINUE_NEW, t(language, "continue.new"), value, "primary")]
    if partner is not None:
        buttons.append(Button(CONTINUE_SAME, t(language, "continue.same",
                                               partner=partner.display_name or "–"), value))
    buttons.append(Button(CONTINUE_NO, t(language, "continue.no"), value))
    return Message(title=t(language, "continue.title", round=following.name),
                   blocks=(Paragraph(t(language, "continue.body", round=following.name)),),
                   buttons=tuple(buttons))


async def continue_answer(ctx: FlowContext, press: ButtonPress) -> Outcome:
    """A participant's answer: recorded; yes moves them into the next round."""
    actor = press.actor
    choice = CHOICES[press.action_id]
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        following = await values.row(session, rounds.round_by_id, press.value)
        previous = await rounds.preceding_round_id(session, following.id)
        person = await participants.participant_for(
            session, actor.platform, actor.user_id,
            [following.id] if previous is None else [following.id, previous])
        if (previous is None or person is None
                or person.round_id not in (following.id, previous)
                or person.status not in STILL_IN):
            raise values.Stale(f"round {following.id} is not {actor.user_id}'s to continue")
        if now >= following.starts_at:
            raise UserError("continue.too_late", round=following.name)
        await responses.record_continuation(session, person, following.id, choice, now)
        participants.move_to_round(person, previous if choice == "no" else following.id, now)
        partner = await tandems.partner_of(session, person.id, previous)
        if choice == "same" and partner is not None and await responses.continuation_of(
                session, partner.id, following.id) == "same":
            mentor, mentee = (person, partner) if person.role == "mentor" else (partner, person)
            await proposals.add_rule(session, following.id, "pin", mentor.id, mentee.id,
                                     actor.user_id, now)
    language = ctx.language(actor.locale, person.locale)
    return reply(t(language, f"continue.thanks_{choice}", round=following.name), replace=True)
