"""Visible outcomes, by consent: highlights of a round for the programme's channel.

Who sees what, in order:
1. In the closing evaluation (``conversations.evaluation``) a participant may offer
   one sentence for the programme's channel (at most ``HIGHLIGHT_MAX`` characters)
   and say whether their name may be shown with it (no, unless they say yes).
2. Each coordinator gets it privately, owed in the transaction that saves it, with
   "Approve" and "Skip". The name is in it only where the person agreed. A person
   who edits their highlight sends it for review again; the old buttons are stale.
3. ``HIGHLIGHTS_AFTER`` the round's last day (time for the evaluation to come in),
   the wrap-up's highlights go to the programme channels: the approved ones, each
   with the person's name only where they agreed (the scheduled kind ``highlights``,
   under app.yaml's ``rhythm.messages.wrapup``). Skipped ones are never posted; after
   the post no highlight can be offered, approved or skipped any more.
The report never shows a highlight (``storage.highlights.counts`` has counts only).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.core.errors import UserError
from bot.core.i18n import t
from conversations import values
from conversations.audience import Languages
from conversations.context import FlowContext
from conversations.coordination import require_coordinator
from conversations.events import ButtonPress, FormValue
from conversations.forms import Choice, SelectInput, TextInput
from conversations.messages import Button, Message, Paragraph
from conversations.outcomes import Outcome, reply
from conversations.owed import Owed, for_coordinators
from conversations.schedule import RoundDates, in_grace
from conversations.scheduling import Due, Situation
from conversations.survey import clean_text
from storage import audit_log, rounds
from storage import highlights as stored
from storage.db import Session
from storage.models import Highlight, HighlightStatus, Participant, Round

HIGHLIGHT_MAX = 280
#: The wrap-up's highlights go out this long after the round's last day.
HIGHLIGHTS_AFTER = timedelta(days=14)
APPROVE, SKIP = "highlight.approve", "highlight.skip"
DECISIONS = {APPROVE: HighlightStatus.APPROVED, SKIP: HighlightStatus.SKIPPED}
KIND = "highlights"


def post_at(ctx: FlowContext, current: Round) -> datetime:
    """When the round's highlights are posted: after it, no more offers or decisions."""
    dates = RoundDates.of(current, ctx.config.timezone)
    return dates.end_at(ctx.config.rhythm) + HIGHLIGHTS_AFTER


def open_for_offers(ctx: FlowContext, current: Round) -> bool:
    return ctx.clock.now() < post_at(ctx, current)


# -- offered in the evaluation -----------------------------------------------------------

def form_fields(language: str, earlier: Highlight | None) -> tuple[TextInput, SelectInput]:
    shown = "yes" if earlier is not None and earlier.show_name else "no"
    return (
        TextInput("highlight", t(language, "highlight.field"),
                  earlier.text if earlier is not None else "", required=False,
                  max_length=HIGHLIGHT_MAX, hint=t(language, "highlight.hint")),
        SelectInput("highlight_name", t(language, "highlight.name_field"),
                    (Choice("yes", t(language, "highlight.name.yes")),
                     Choice("no", t(language, "highlight.name.no"))),
                    initial=(shown,), required=False, style="radio"),
    )


def read(fields: Mapping[str, FormValue], language: str, errors: dict[str, str]
         ) -> tuple[str, bool]:
    """The offered sentence (one line, trimmed) and the consent to show the name; a
    sentence that is too long is an error for the form."""
    raw = fields.get("highlight")
    text = " ".join(clean_text(raw if isinstance(raw, str) else "").split())
    if len(text) > HIGHLIGHT_MAX:
        errors["highlight"] = t(language, "highlight.too_long", max=HIGHLIGHT_MAX,
                                length=len(text))
    return text, values.choice(fields.get("highlight_name"), ("yes", "no")) == "yes"


def review_owed(ctx: FlowContext, languages: Languages, offered: Highlight, person: Participant,
                current: Round) -> list[Owed]:
    """Each coordinator's review of a (new or edited) highlight, with Approve and Skip."""
    value = f"{current.id}:{offered.id}:{offered.revision}"
    name = person.display_name or person.user_id

    def compose(language: str) -> Message:
        by = t(language, "highlight.review.named", name=name) if offered.show_name \
            else t(language, "highlight.review.anonymous")
        return Message(
            title=t(language, "highlight.review.title", round=current.name),
            blocks=(Paragraph(by), Paragraph(t(language, "highlight.quoted", text=offered.text))),
            buttons=(Button(APPROVE, t(language, "highlight.approve_button"), value, "primary"),
                     Button(SKIP, t(language, "highlight.skip_button"), value)))
    return for_coordinators(ctx, languages, f"highlight:{offered.id}:{offered.revision}",
                            current.id, compose)


# -- the coordinators' review --------------------------------------------------------------

async def review(ctx: FlowContext, press: ButtonPress) -> Outcome:
    """Approve or Skip, once, on the highlight as the coordinator read it."""
    actor = press.actor
    require_coordinator(ctx, actor)
    language = ctx.language(actor.locale)
    round_id, highlight_id, revision = values.numbers(press.value, 3)
    decision = DECISIONS.get(press.action_id)
    if decision is None:
        raise values.Stale(f"not a review action: {press.action_id}")
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        found = await values.row(session, stored.highlight_by_id, str(highlight_id),
                                 lambda h: h.round_id == round_id)
        current = await rounds.round_by_id(session, found.round_id)
        assert current is not None  # a highlight's round is never deleted
        if found.status in (HighlightStatus.POSTED, HighlightStatus.CLOSED) \
                or now >= post_at(ctx, current):
            raise UserError("highlight.too_late", round=current.name)
        if found.revision != revision:
            raise UserError("highlight.edited")
        if not await stored.decide(session, found.id, revision, decision, now):
            raise UserError("highlight.already_decided")
        await audit_log.record(session, actor.platform, actor.user_id, press.action_id,
                               {"highlight": found.id}, now)
    return reply(t(language, f"highlight.{decision}"), replace=True)


# -- posted with the wrap-up ---------------------------------------------------------------

async def post_due(s: Situation) -> list[Due]:
    """The round's highlights post, once its time has come, if any was approved."""
    if not in_grace(post_at(s.ctx, s.round), s.now, s.ctx.config.rhythm):
        return []
    async with s.ctx.db.reading() as session:
        found = await stored.counts(session, s.round.id)
    if not (found.get(HighlightStatus.APPROVED) or found.get(HighlightStatus.POSTED)):
        return []
    return [Due()]


async def decide_post(session: Session, s: Situation, occasions: list[Due]) -> list[Due]:
    """Mark the approved highlights posted, in the transaction that owes the post."""
    shown = [(h.text, h.name) for h in await stored.post_round(session, s.round.id, s.now)]
    return [Due({**due.params, "shown": shown}, channels=due.channels) for due in occasions]


def post_message(s: Situation, due: Due, language: str, _reader: Participant | None) -> Message:
    lines = [t(language, "highlight.quoted", text=text) if name is None
             else t(language, "highlight.quoted_named", text=text, name=name)
             for text, name in due.params.get("shown", ())]
    return Message(
        title=t(language, "highlight.post.title", round=s.round.name),
        blocks=(Paragraph(t(language, "highlight.post.body",
                            programme=s.ctx.config.programme_name, round=s.round.name)),
                *(Paragraph(line) for line in lines)))
