"""One entry point per kind of event: finds the flow, and turns errors into text.

Adapters call ``on_command``, ``on_form`` and ``on_button``; this is the one
place where an error becomes words for a person (``bot.core.errors.user_text``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from bot.core.errors import TandemError, user_text
from conversations import (
    announce,
    breaks,
    checkin,
    command_list,
    evaluation,
    fit_check,
    highlights,
    matching,
    meetings,
    membership,
    privacy,
    round_control,
    scheduled,
    signup,
    survey,
    wishes,
)
from conversations import dashboard as dashboard_flow
from conversations import help as help_flow
from conversations import reporting as report_flow
from conversations.context import FlowContext
from conversations.events import Actor, ButtonPress, Command, FormSubmission
from conversations.messages import COMMAND_BUTTON, Message
from conversations.outcomes import FormDone, Outcome, Reply, Working
from conversations.values import Stale

log = logging.getLogger(__name__)

E = TypeVar("E", Command, FormSubmission, ButtonPress)
Handler = Callable[[FlowContext, E], Awaitable[Outcome]]

#: The flow of each command declared in ``conversations.command_list``.
HANDLERS: dict[str, Handler[Command]] = {
    "signup": signup.start,
    "status": membership.status,
    "pause": breaks.pause,  # membership.pause, then "until when?"
    "resume": membership.resume,
    "leave": membership.leave,
    "help": help_flow.show,
    "match": matching.command,
    "announce": announce.command,
    "round": round_control.command,
    "report": report_flow.command,
    "dashboard": dashboard_flow.command,
    "my-data": privacy.my_data,
    "forget-me": privacy.forget_me,
    "wishes": wishes.command,
}
if set(HANDLERS) != set(command_list.NAMES):  # a command declared without a flow, or not declared
    raise RuntimeError(f"commands without a handler or declaration: "
                       f"{sorted(set(HANDLERS) ^ set(command_list.NAMES))}")
COMMANDS: dict[str, Handler[Command]] = {name: HANDLERS[name] for name in command_list.NAMES}
FORMS: dict[str, Handler[FormSubmission]] = {
    survey.FORM_ID: signup.submit,
    checkin.REFLECTION_FORM: checkin.submit_reflection,
    evaluation.EVALUATION_FORM: evaluation.submit,
    announce.FORM_ID: announce.submit,
    breaks.FORM_ID: breaks.submit,
    wishes.FORM_ID: wishes.submit,
}
BUTTONS: dict[str, Handler[ButtonPress]] = {
    membership.LEAVE_CONFIRM: membership.leave_answer,
    membership.LEAVE_CANCEL: membership.leave_answer,
    matching.CONFIRM: matching.confirm,
    checkin.REFLECT: checkin.open_reflection,
    announce.POST: announce.post,
    announce.EDIT: announce.edit,
    announce.CANCEL: announce.cancel,
    round_control.CONFIRM: round_control.confirm,
    round_control.CANCEL: round_control.cancel,
    round_control.CONTINUE_NEW: round_control.continue_answer,
    round_control.CONTINUE_SAME: round_control.continue_answer,
    round_control.CONTINUE_NO: round_control.continue_answer,
    privacy.FORGET_CONFIRM: privacy.forget_answer,
    breaks.SET_END: breaks.open_form,
    fit_check.REMATCH: fit_check.rematch,
    highlights.APPROVE: highlights.review,
    highlights.SKIP: highlights.review,
    privacy.FORGET_CANCEL: privacy.forget_answer,
    meetings.MORE: meetings.find_a_time,
    meetings.PICK: meetings.pick,
    meetings.ACCEPT: meetings.accept,
    meetings.DECLINE: meetings.decline,
    meetings.CANCEL: meetings.cancel,
    # The buttons of scheduled messages (nudge, pulse, evaluation, ...) are declared
    # with their kind.
    **scheduled.button_handlers(),
}


def command_name(text: str) -> tuple[str | None, str]:
    """The command a text names (or None), and the first word as typed."""
    words = text.strip().split()
    if not words:
        return "help", ""
    first = words[0].lower()
    name = command_list.words().get(first, first)
    return (name if name in COMMANDS else None), words[0]


async def on_command(ctx: FlowContext, command: Command) -> Outcome:
    name, typed = command_name(command.text)
    if name is None:
        return help_flow.help_message(ctx, command, unknown=typed)
    return await _guarded(ctx, command.actor, COMMANDS[name], command)


async def on_form(ctx: FlowContext, submission: FormSubmission) -> Outcome:
    handler = FORMS.get(submission.form_id)
    if handler is None:
        return _error_reply(ctx, submission.actor, TandemError("error.stale_form"))
    return await _guarded(ctx, submission.actor, handler, submission)


async def on_button(ctx: FlowContext, press: ButtonPress) -> Outcome:
    if press.action_id.startswith(COMMAND_BUTTON):
        text = press.action_id.removeprefix(COMMAND_BUTTON)
        return await on_command(ctx, Command(press.actor, text))
    handler = BUTTONS.get(press.action_id)
    if handler is None:
        return _error_reply(ctx, press.actor, TandemError("error.stale_button"))
    return await _guarded(ctx, press.actor, handler, press)


async def _guarded(ctx: FlowContext, actor: Actor, handler: Handler[E], event: E) -> Outcome:
    try:
        outcome = await handler(ctx, event)
    except Stale as error:  # a forged or outdated value: worth a line, not a traceback
        log.info("%s on %s refused a value: %s", actor.user_id, actor.platform, error.why)
        return _error_reply(ctx, actor, error)
    except Exception as error:  # the one place errors become words; user_text logs the rest
        return _error_reply(ctx, actor, error)
    if isinstance(outcome, Working):
        return Working(outcome.message, _guarded_later(ctx, actor, outcome.then))
    if isinstance(outcome, FormDone) and outcome.then is not None:
        return replace(outcome, then=_guarded_later(ctx, actor, outcome.then))
    return outcome


def _guarded_later(
    ctx: FlowContext, actor: Actor, work: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """Slow work that fails after the first answer is reported in the person's DMs.

    That note is an answer to the person's request, sent directly, not owed: each
    flow commits its change together with the messages it owes, in one
    transaction, so failed work either changed nothing (the person asks again) or
    its messages are owed already and ``run_due`` sends them; the note owes nobody
    anything."""

    async def run() -> None:
        try:
            await work()
        except Exception as error:
            message = _error_reply(ctx, actor, error).message
            try:
                await ctx.messenger(actor.platform).send_direct(actor.user_id, message)
            except Exception:
                log.exception("could not tell %s about a failed task", actor.platform)

    return run


def _error_reply(ctx: FlowContext, actor: Actor, error: BaseException) -> Reply:
    return Reply(Message.text(user_text(error, ctx.language(actor.locale))))
