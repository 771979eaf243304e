"""Sign-up and the interest survey.

Who sees what, in order:
1. An employee types ``signup`` (Slack ``/tandem signup``, Teams ``signup`` or
   ``anmelden``).
2. Outside the round's sign-up window, and not signed up yet, they get a private
   answer saying when sign-up opens or that it has closed. Otherwise the survey
   form opens at once, pre-filled with their earlier answers when editing.
3. On submit, wrong answers keep the form open with a message next to each
   field, values kept; nothing is stored.
4. Valid answers are stored (one row per person, whatever races), the form
   closes at once, and then the employee gets a confirmation in their DMs with
   a summary (owed in the transaction that stored the answers, so a crash
   between the two does not lose it).
What the company directory already says about the person is shown, not asked;
saying it is wrong tells the coordinators (``directory_survey``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from bot.core.errors import UserError
from bot.core.i18n import t
from conversations import directory_survey, owed, survey, wishes
from conversations.context import FlowContext
from conversations.events import Actor, Command, FormSubmission
from conversations.forms import Form
from conversations.messages import Facts, Message, Paragraph
from conversations.outbox import Sent
from conversations.outcomes import FormDone, FormInvalid, Outcome, ShowForm
from conversations.owed import DIRECT, Owed
from conversations.summary import answer_facts, format_day
from storage.deliveries import Claim
from storage.models import STILL_IN, Participant, ParticipantStatus, Round
from storage.people import SurveyAnswers, people

log = logging.getLogger(__name__)


async def _lookup(ctx: FlowContext, actor: Actor, now: datetime
                  ) -> tuple[int, Round, Participant | None, survey.Known]:
    """Where the answers go (the workspace of the row that stands for the person, so
    that a person in several workspaces keeps one row; theirs for a new person), the
    current round, their earlier answers and what the directory knows of them: asked
    at once, so that they come in one batch."""
    found = people(ctx.db)
    workspace = await found.workspace_id(actor.platform, actor.workspace_id, now)
    current, earlier, known = await asyncio.gather(
        found.current_round(ctx.config.round, now),
        found.participant(actor.platform, actor.user_id),
        directory_survey.known(ctx, actor))
    return (earlier.workspace_id if earlier else workspace), current, earlier, known


async def start(ctx: FlowContext, command: Command) -> Outcome:
    actor = command.actor
    _, current, earlier, known = await _lookup(ctx, actor, ctx.clock.now())
    language = ctx.language(actor.locale, earlier.locale if earlier else None)
    _check_window(ctx, current, earlier, language)
    return ShowForm(await _form(ctx, language, earlier, known))


async def _form(ctx: FlowContext, language: str, earlier: Participant | None,
                known: survey.Known) -> Form:
    """The survey, with the person's private wishes when it asks for them, and what
    the directory says instead of the questions it answers."""
    if "wishes" not in ctx.config.survey.questions or earlier is None:
        return survey.build_form(ctx.config.survey, language, earlier, known=known)
    async with ctx.db.session() as session:
        wished = await wishes.current(session, earlier)
    return survey.build_form(ctx.config.survey, language, earlier, wished, known)


def _check_window(
    ctx: FlowContext, current: Round, earlier: Participant | None, language: str
) -> None:
    """Sign-up is open inside the window; people already in the round may edit
    their answers until the round starts."""
    now = ctx.clock.now()
    zone = ctx.config.timezone
    signed_up = (earlier is not None and earlier.round_id == current.id
                 and earlier.status != ParticipantStatus.LEFT)
    if signed_up and now < current.starts_at:
        return
    if now < current.signup_opens_at:
        raise UserError(
            "signup.not_open_yet",
            round=current.name,
            date=_day(current.signup_opens_at.astimezone(zone), language),
        )
    if now >= current.signup_closes_at:
        raise UserError(
            "signup.closed",
            round=current.name,
            date=_day(current.signup_closes_at.astimezone(zone), language, closing=True),
        )


def _day(moment: datetime, language: str, *, closing: bool = False) -> str:
    # A window that closes at midnight is shown as its last full day.
    if closing and moment.hour == 0 and moment.minute == 0:
        moment -= timedelta(days=1)
    return format_day(moment, language)


async def submit(ctx: FlowContext, submission: FormSubmission) -> Outcome:
    actor = submission.actor
    now = ctx.clock.now()
    workspace, current, earlier, known = await _lookup(ctx, actor, now)
    language = ctx.language(actor.locale, earlier.locale if earlier else None)
    _check_window(ctx, current, earlier, language)
    answers, errors = survey.validate(
        ctx.config.survey, language, actor.user_id, submission.values, known
    )
    asks_wishes = "wishes" in ctx.config.survey.questions
    chosen, wish_error = (await wishes.check(ctx, actor, submission.values.get(wishes.FIELD),
                                             earlier, language)
                          if asks_wishes else ([], None))
    if answers is None or wish_error is not None:
        errors = {**errors, **({wishes.FIELD: wish_error} if wish_error else {})}
        return FormInvalid(await _form(ctx, language, earlier, known), errors,
                           dict(submission.values))
    columns = {
        **answers.as_columns(),
        "platform": actor.platform,
        "display_name": actor.display_name,
        "round_id": current.id,
        # The platform's zone wins; the survey's is for platforms that tell none.
        "timezone": actor.timezone or answers.timezone,
        "locale": language,
        "consent_at": now,  # the first consent is kept on later edits
        "status": ParticipantStatus.ACTIVE,
        "left_at": None,
    }
    editing = earlier is not None and earlier.status != ParticipantStatus.LEFT
    # The summary is owed with the answers: saved in their transaction, sent after.
    summary = Claim(f"summary:{uuid.uuid4().hex}", "summary", actor.platform, actor.user_id,
                    current.id)
    message = _summary(ctx, actor, Participant(**columns), current, language, editing, known)
    # The row keeps how to make the summary, not the summary: the answers are saved
    # beside it, and a restarted sender builds it from them (``_summary_again``).
    owed_summary = Owed(summary, DIRECT, (actor.user_id,), message, render=(SUMMARY, {
        "platform": actor.platform, "workspace": actor.workspace_id, "user": actor.user_id,
        "editing": editing}))
    # "The directory is wrong about me", for the coordinators: owed with the answers.
    flagged = ([] if answers.directory_flag is None or known.facts is None else
               await directory_survey.flag_rows(ctx, actor, known.facts,
                                                answers.directory_flag, current.id, now))
    # Written already claimed by this instance: sent right after the answer without
    # another round trip to claim it; ``run_due`` takes it over if this one died.
    # The wishes are saved with the answers, in their batch and transaction.
    await people(ctx.db).save_survey(SurveyAnswers(
        workspace, actor.user_id, columns, now,
        (owed.claimed(ctx, owed_summary, now), *flagged),
        tuple(chosen) if asks_wishes else None))
    return FormDone(
        Message.text(t(language, "signup.saved_inline")),
        then=lambda: _send_summary(ctx, actor, owed_summary,
                                   [str(row["key"]) for row in flagged]),
    )


#: The sign-up summary's renderer (``owed.RENDERERS``).
SUMMARY = "signup.summary"


async def _summary_again(ctx: FlowContext, args: dict[str, Any]) -> Message | None:
    """The summary of an owed row whose first sender died: built from the answers as
    they are saved now (None for someone no longer signed up)."""
    actor = Actor(str(args["platform"]), str(args["workspace"]), str(args["user"]))
    found = people(ctx.db)
    current, person, known = await asyncio.gather(
        found.current_round(ctx.config.round, ctx.clock.now()),
        found.participant(actor.platform, actor.user_id), directory_survey.known(ctx, actor))
    if person is None or person.status not in STILL_IN:
        return None
    return _summary(ctx, actor, person, current, ctx.language(person.locale),
                    bool(args["editing"]), known)


owed.RENDERERS[SUMMARY] = _summary_again


def _summary(ctx: FlowContext, actor: Actor, participant: Participant, current: Round,
             language: str, editing: bool, known: survey.Known) -> Message:
    """The private confirmation after the survey: the answers, what the directory
    says instead of the questions it answered, and what comes next."""
    prefix = ctx.messenger(actor.platform).command_prefix
    role = t(language, f"role.{participant.role}")
    intro = t(
        language,
        "signup.updated" if editing else "signup.confirmed",
        programme=ctx.config.programme_name,
        round=current.name,
        role=role,
        date=_day(current.signup_closes_at.astimezone(ctx.config.timezone), language, closing=True),
    )
    answered = known.answered(ctx.config.survey.questions)
    directory = ((Paragraph(survey.directory_line(language, known.facts, answered)),)
                 if known.facts is not None and answered else ())
    return Message(
        title=t(language, "signup.confirmed_title"),
        blocks=(
            Paragraph(intro),
            Facts(answer_facts(ctx.config, participant, language)),
            *directory,
            Paragraph(t(language, "signup.next_steps", cmd=prefix)),
        ),
    )


async def _send_summary(ctx: FlowContext, actor: Actor, summary: Owed,
                        also: list[str]) -> None:
    """The summary, then anything else the answers owe (``also``: their keys)."""
    sent = await owed.deliver_claimed(ctx, summary)
    await owed.deliver(ctx, also)
    if sent in (Sent.RETRY, Sent.UNREACHABLE):
        # The answers are saved and the form said so; ``run_due`` tries again later
        # (unless the person cannot be reached), and operators should see it.
        log.warning("sign-up summary not delivered on %s yet: %s", actor.platform, sent.value)
