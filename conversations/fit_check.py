"""The fit check: a few days after a tandem's first meeting, each partner is asked
privately whether the pairing works; a "no" can end it kindly and re-match both.

Who sees what, in order:
1. ``FIT_AFTER`` after the tandem first said "we met", each partner gets a private
   question "Does this pairing work for you?" with Yes / Not sure / No (the
   scheduled kind ``fit``). The answer is private: the partner never sees it.
2. A "No" goes to the coordinators privately (who said it, about which tandem),
   with a "Re-match both" button. The person is thanked privately.
3. "Re-match both" (once, however often pressed) ends the tandem; each partner is
   told privately, in the same neutral words, that the tandem ends and that they
   will get a new partner: neither learns who said no. Both wait for a tandem
   again (``conversations.running_round``), never to be paired with each other
   again in the round. The coordinator is told to run ``match``.
The report counts the answers in aggregate only (``conversations.figures``).
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.errors import UserError
from bot.core.i18n import t
from conversations import values
from conversations.audience import coordinator_languages
from conversations.context import FlowContext
from conversations.coordination import require_coordinator
from conversations.events import ButtonPress
from conversations.messages import Button, Message, Paragraph
from conversations.outcomes import Outcome, reply
from conversations.owed import deliver, for_coordinators, for_person, record
from conversations.scheduling import Due, Situation
from storage import audit_log, checkins, responses, tandems
from storage.models import Participant, TandemStatus

FIT_YES, FIT_UNSURE, FIT_NO = "fit.yes", "fit.unsure", "fit.no"
ANSWERS = {FIT_YES: "yes", FIT_UNSURE: "unsure", FIT_NO: "no"}
REMATCH = "fit.rematch"
#: How long after the first meeting the question comes.
FIT_AFTER = timedelta(days=3)
#: Asked late (the bot was down) only within this time.
LATE_BY_AT_MOST = timedelta(days=14)
KIND = "fit"


async def fit_due(s: Situation) -> list[Due]:
    """Each partner of each tandem whose first meeting was ``FIT_AFTER`` ago."""
    if not s.pairs:
        return []
    async with s.ctx.db.session() as session:
        first = await checkins.first_meetings(session, s.round.id)
    return [Due(pair=pair, person=person) for pair in s.pairs
            if pair.tandem.id in first
            and first[pair.tandem.id] + FIT_AFTER <= s.now
            <= first[pair.tandem.id] + FIT_AFTER + LATE_BY_AT_MOST
            for person in pair.people]


def fit_message(s: Situation, due: Due, language: str, _reader: Participant | None) -> Message:
    return Message(title=t(language, "fit.title"),
                   blocks=(Paragraph(t(language, "fit.question")),))


async def answer(ctx: FlowContext, press: ButtonPress) -> Outcome:
    actor = press.actor
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        pair = await values.row(session, tandems.tandem_people, press.value)
        me = next((p for p in pair.people
                   if (p.platform, p.user_id) == (actor.platform, actor.user_id)), None)
    if me is None:
        raise UserError("checkin.not_yours")
    language = ctx.language(actor.locale, me.locale)
    if pair.tandem.status != TandemStatus.ACTIVE:
        raise values.Stale("the tandem has ended")
    fit = ANSWERS.get(press.action_id, "unsure")
    languages = await coordinator_languages(ctx) if fit == "no" else {}
    partner = pair.mentee if me.id == pair.mentor.id else pair.mentor
    async with ctx.db.session() as session:
        await responses.save_response(session, me.id, pair.tandem.round_id, KIND, 0, now,
                                      tandem_id=pair.tandem.id, answers={"fit": fit})
        owed = [] if fit != "no" else for_coordinators(
            ctx, languages, f"fit-no:{pair.tandem.id}:{me.id}", pair.tandem.round_id,
            lambda lang: Message(
                blocks=(Paragraph(t(lang, "fit.no_alert",
                                    name=me.display_name or me.user_id,
                                    partner=partner.display_name or partner.user_id)),),
                buttons=(Button(REMATCH, t(lang, "fit.rematch_button"), str(pair.tandem.id),
                                "primary"),)))
        keys = await record(session, owed, now)
    await deliver(ctx, keys)
    return reply(t(language, f"fit.thanks.{fit}"), replace=True)


async def rematch(ctx: FlowContext, press: ButtonPress) -> Outcome:
    actor = press.actor
    require_coordinator(ctx, actor)
    language = ctx.language(actor.locale)
    now = ctx.clock.now()
    cmd = ctx.messenger(actor.platform).command_prefix
    async with ctx.db.session() as session:
        pair = await values.row(session, tandems.tandem_people, press.value)
        if not await tandems.end_tandem(session, pair.tandem.id):
            return reply(t(language, "fit.already_rematched"), replace=True)
        notes = [owed for person in pair.people for owed in for_person(
            ctx, person, pair.tandem.round_id, "rematch", f"rematch:{pair.tandem.id}:{person.id}",
            lambda lang, _reader: Message.text(t(lang, "fit.ended_kindly")))]
        await audit_log.record(session, actor.platform, actor.user_id, "fit.rematch",
                               {"tandem": pair.tandem.id}, now)
        keys = await record(session, notes, now)
    await deliver(ctx, keys)
    return reply(t(language, "fit.rematched", cmd=cmd), replace=True)

