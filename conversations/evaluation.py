"""The closing evaluation of a round.

Who sees what, in order: at the wrap-up every participant gets a private
invitation with a button; it opens a short form (how useful was the tandem,
1 to 5; what was the most valuable; would you recommend it; do you want to
continue, with the same partner or a new one; until the wrap-up's highlights are
posted, a one-sentence highlight for the programme's channel and whether their name
may be shown with it: ``conversations.highlights``). Answers can be changed until
``EVALUATION_OPEN`` after the end; the coordinators only ever see aggregates, and
the highlights people chose to offer.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.errors import UserError
from bot.core.i18n import t
from conversations import highlights, values
from conversations.audience import coordinator_languages
from conversations.context import FlowContext
from conversations.events import ButtonPress, FormSubmission
from conversations.forms import Choice, Form, SelectInput, TextInput
from conversations.messages import Message
from conversations.outcomes import FormDone, FormInvalid, Outcome, ShowForm
from conversations.owed import deliver, record
from conversations.schedule import RoundDates
from conversations.survey import clean_text
from storage import highlights as stored_highlights
from storage import participants, responses, rounds, tandems
from storage.models import Highlight, Participant, Round

#: The button of the closing evaluation's invitation (declared in ``conversations.scheduled``).
EVALUATE = "evaluation.open"
EVALUATION_FORM = "evaluation"
EVALUATION_OPEN = timedelta(days=30)
CONTINUE = ("same", "new", "no")
TEXT_MAX = 1000


def evaluation_form(language: str, round_id: int, earlier: dict[str, object],
                    highlight: Highlight | None = None, offers: bool = False) -> Form:
    """The form; ``offers``: with the highlight's fields (until the highlights are posted)."""
    def chosen(name: str) -> tuple[str, ...]:
        return (str(earlier[name]),) if earlier.get(name) is not None else ()

    fields = (
        SelectInput("rating", t(language, "evaluation.rating"),
                    tuple(Choice(str(n), t(language, f"reflect.rating.{n}"))
                          for n in range(1, 6)), initial=chosen("rating"), style="radio"),
        TextInput("valuable", t(language, "evaluation.valuable"),
                  str(earlier.get("valuable") or ""), required=False, multiline=True,
                  max_length=TEXT_MAX),
        SelectInput("recommend", t(language, "evaluation.recommend"),
                    (Choice("yes", t(language, "evaluation.yes")),
                     Choice("no", t(language, "evaluation.no"))),
                    initial=chosen("recommend"), style="radio"),
        SelectInput("continue", t(language, "evaluation.continue"),
                    tuple(Choice(c, t(language, f"evaluation.continue.{c}"))
                          for c in CONTINUE), initial=chosen("continue"), style="radio"),
        *(highlights.form_fields(language, highlight) if offers else ()),
    )
    return Form(id=EVALUATION_FORM, context=str(round_id), fields=fields,
                title=t(language, "evaluation.form_title"),
                intro=t(language, "evaluation.intro"),
                submit_label=t(language, "evaluation.submit"),
                cancel_label=t(language, "survey.cancel"))


async def _member(ctx: FlowContext, platform: str, user_id: str, round_text: str,
                  key: str = values.STALE_BUTTON) -> tuple[Participant, Round]:
    async with ctx.db.session() as session:
        current = await values.row(session, rounds.round_by_id, round_text, key=key)
        me = await participants.participant_for(session, platform, user_id, [current.id])
        people = await tandems.people_in_tandems(session, current.id)
    if me is None or me.id not in {p.id for p in people}:
        raise UserError("checkin.not_yours")
    end = RoundDates.of(current, ctx.config.timezone).end_at(ctx.config.rhythm)
    if ctx.clock.now() > end + EVALUATION_OPEN:
        raise UserError("evaluation.closed", round=current.name)
    return me, current


async def open_form(ctx: FlowContext, press: ButtonPress) -> Outcome:
    me, current = await _member(ctx, press.actor.platform, press.actor.user_id, press.value)
    language = ctx.language(press.actor.locale, me.locale)
    async with ctx.db.session() as session:
        earlier = await responses.response_of(session, me.id, current.id, "evaluation", 0)
        offered = await stored_highlights.highlight_of(session, me.id, current.id)
    values = {**earlier.answers, "rating": earlier.rating} if earlier else {}
    return ShowForm(evaluation_form(language, current.id, values, offered,
                                    highlights.open_for_offers(ctx, current)))


async def submit(ctx: FlowContext, submission: FormSubmission) -> Outcome:
    actor = submission.actor
    me, current = await _member(ctx, actor.platform, actor.user_id, submission.context,
                                values.STALE_FORM)
    language = ctx.language(actor.locale, me.locale)
    fields = submission.values
    errors: dict[str, str] = {}
    rating = values.rating(fields.get("rating"))
    if rating is None:
        errors["rating"] = t(language, "reflect.error.rating")
    valuable_raw = fields.get("valuable")
    valuable = clean_text(valuable_raw if isinstance(valuable_raw, str) else "")
    if len(valuable) > TEXT_MAX:
        errors["valuable"] = t(language, "survey.error.too_long", max=TEXT_MAX,
                               length=len(valuable))
    recommend = values.choice(fields.get("recommend"), ("yes", "no"))
    if recommend is None:
        errors["recommend"] = t(language, "evaluation.error.choose")
    keep_going = values.choice(fields.get("continue"), CONTINUE)
    if keep_going is None:
        errors["continue"] = t(language, "evaluation.error.choose")
    offers = highlights.open_for_offers(ctx, current)
    # After the highlights were posted the form has no such field: whatever comes is ignored.
    highlight, show_name = highlights.read(fields, language, errors) if offers else ("", False)
    if errors:
        return FormInvalid(evaluation_form(language, current.id, {}, None, offers), errors,
                           dict(fields))
    # Asked before the transaction: a coordinator's language may come from the platform.
    languages = await coordinator_languages(ctx) if highlight else {}
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        await responses.save_response(
            session, me.id, current.id, "evaluation", 0, now, rating=rating,
            visibility="coordinators",
            answers={"valuable": valuable, "recommend": recommend, "continue": keep_going},
        )
        offered = await stored_highlights.offer(session, me.id, current.id, highlight,
                                                show_name, now) if offers else None
        keys = await record(session, highlights.review_owed(ctx, languages, offered, me, current)
                            if offered is not None else [], now)

    async def send_reviews() -> None:
        await deliver(ctx, keys)

    thanks = "highlight.thanks" if offered is not None else "evaluation.thanks"
    return FormDone(Message.text(t(language, thanks)), then=send_reviews if keys else None)
