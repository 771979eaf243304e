"""Slack events in, neutral events to the router, its outcomes back as Block Kit.

Over HTTP, bodies reach the listeners only after ``shapes`` checked every field
read here (``adapter.handle``), so a missing key or a wrong type cannot raise
(in Socket Mode they come from Slack itself, over the app's own connection).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import (
    fallback_text,
    form_values,
    message_blocks,
    modal,
    notice_modal,
    options,
)
from adapters.slack.clients import Installations
from adapters.slack.directory import Directory, NotInWorkspace
from bot.core.i18n import t
from bot.host.runtime import Runtime
from conversations import dashboard, directory_survey, outcomes, router
from conversations.events import Actor, ButtonPress, Command, FormSubmission
from conversations.messages import Button, Message, command_button

log = logging.getLogger(__name__)
ANY = re.compile(r".+")
#: Slack shows at most 100 blocks on a Home tab.
HOME_BLOCKS_MAX = 100


def register(app: AsyncApp, runtime: Runtime, directory: Directory,
             installations: Installations | None = None) -> None:
    """Listeners answer within the request (bolt's ``process_before_response``):
    the answer goes back as soon as the listener returns, and anything slower
    than building the answer starts in ``runtime.background`` after it.

    In OAuth mode a person's workspace is their organisation when there is one
    (Enterprise Grid ids are org-wide, so one person is one participant whichever
    workspace they write from), and where they were seen is remembered, so that
    later messages go through the installation that reaches them."""
    later = runtime.background.start

    async def actor_or_refuse(team_id: str, user_id: str,
                              context: AsyncBoltContext | None = None) -> Actor | None:
        if installations is not None and context is not None:
            enterprise = context.enterprise_id
            await installations.learn(user_id, enterprise, context.team_id or team_id or None)
            team_id = enterprise or team_id
        try:
            return await directory.actor(team_id, user_id)
        except NotInWorkspace:
            return None

    def not_in_workspace() -> Message:
        return Message.text(t(runtime.config.default_language, "error.not_in_workspace"))

    def follow_up(outcome: outcomes.Outcome, what: str) -> None:
        then = outcomes.followup(outcome)
        if then is not None:
            later(then(), what)

    @app.command("/tandem")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                         context: AsyncBoltContext) -> None:
        actor = await actor_or_refuse(body.get("team_id", ""), body.get("user_id", ""), context)
        if actor is None:
            await _ack_message(ack, not_in_workspace())
            return
        outcome = await router.on_command(runtime.ctx, Command(actor, body.get("text", "")))
        trigger = body.get("trigger_id")
        if isinstance(outcome, outcomes.ShowForm) and trigger:
            # The trigger id is only good for 3 s: the modal opens right after the ack.
            view = modal(outcome.form)
            await ack()
            later(client.views_open(trigger_id=trigger, view=view), "slack: open a modal")
        elif isinstance(outcome, outcomes.ShowForm):
            # No trigger id (not one Slack would send): the form's button instead.
            await _ack_message(ack, _as_message(runtime, actor, outcome) or Message())
        elif isinstance(outcome, (outcomes.Reply, outcomes.Working)):
            await _ack_message(ack, outcome.message)
        else:
            await ack()
        follow_up(outcome, "slack: after a command")

    @app.view(ANY)
    async def on_view(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        user = body.get("user") or {}
        actor = await actor_or_refuse(
            (body.get("team") or {}).get("id") or user.get("team_id") or "", user.get("id", ""),
            context)
        if actor is None:
            await _ack_notice(ack, runtime.config.default_language, not_in_workspace())
            return
        view = body.get("view") or {}
        submission = FormSubmission(actor, view.get("callback_id", ""), form_values(view),
                                    str(view.get("private_metadata") or ""))
        outcome = await router.on_form(runtime.ctx, submission)
        language = runtime.ctx.language(actor.locale)
        if isinstance(outcome, outcomes.FormInvalid):
            present = {f.id for f in outcome.form.fields}
            errors = {k: v for k, v in outcome.errors.items() if k in present}
            await ack(response_action="errors", errors=errors)
        elif isinstance(outcome, outcomes.FormDone) and outcome.message is None:
            await ack()
        else:
            message = (outcome.message if isinstance(outcome, (outcomes.FormDone, outcomes.Reply))
                       else None)
            await _ack_notice(ack, language, message or Message())
        follow_up(outcome, "slack: after a form")

    @app.options("department")
    async def on_department_search(ack: AsyncAck, body: dict[str, Any]) -> None:
        """The survey's department search: the known departments matching what was
        typed (Slack asks as the person types; the request was signed and shaped)."""
        found = await directory_survey.department_choices(runtime.ctx, body.get("value", ""))
        await ack(options=options(found))

    @app.action(ANY)
    async def on_action(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        # A button's answer goes to its response_url or the DMs, never in the ack.
        await ack()
        later(on_press(body, client, respond, context), "slack: a button")

    async def on_press(body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond,
                       context: AsyncBoltContext) -> None:
        user = body.get("user") or {}
        actor = await actor_or_refuse(
            (body.get("team") or {}).get("id") or user.get("team_id") or "", user.get("id", ""),
            context)
        action = (body.get("actions") or [{}])[0]
        if actor is None:
            return
        press = ButtonPress(actor, action.get("action_id", ""), action.get("value") or "")
        outcome = await router.on_button(runtime.ctx, press)
        if isinstance(outcome, outcomes.ShowForm) and body.get("trigger_id"):
            await client.views_open(trigger_id=body["trigger_id"], view=modal(outcome.form))
        elif isinstance(outcome, (outcomes.Reply, outcomes.Working)):
            if body.get("response_url"):
                await respond(
                    text=fallback_text(outcome.message), blocks=message_blocks(outcome.message),
                    replace_original=isinstance(outcome, outcomes.Reply) and outcome.replace,
                    response_type="ephemeral",
                )
            else:
                await runtime.messengers["slack"].send_direct(actor.user_id, outcome.message)
        await outcomes.follow_through(outcome)

    @app.event("message")
    async def on_direct_message(event: dict[str, Any], client: AsyncWebClient,
                                context: AsyncBoltContext) -> None:
        # People may also type commands in their DM with the bot, as on Teams.
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        later(on_typed(event, client, context), "slack: a direct message")

    async def on_typed(event: dict[str, Any], client: AsyncWebClient,
                       context: AsyncBoltContext) -> None:
        user = event.get("user")
        actor = await actor_or_refuse(event.get("team") or "", user, context) if isinstance(
            user, str) else None
        if actor is None:
            return
        outcome = await router.on_command(runtime.ctx, Command(actor, event.get("text") or ""))
        message = _as_message(runtime, actor, outcome)
        channel = event.get("channel")
        if message is not None and isinstance(channel, str):
            await client.chat_postMessage(
                channel=channel, text=fallback_text(message),
                blocks=message_blocks(message),
            )
        await outcomes.follow_through(outcome)

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
        if event.get("tab") == "home":
            later(show_home(event, client, context), "slack: App Home")

    async def show_home(event: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
        user = event.get("user")
        team_id = context.get("team_id") or ""
        actor = await actor_or_refuse(team_id, user, context) if isinstance(user, str) else None
        if actor is None:
            return
        try:
            message = await dashboard.home(runtime.ctx, actor)
        except Exception:  # the tab keeps what it showed before; nothing to answer to
            log.exception("slack: could not build the App Home for %s", actor.user_id)
            return
        blocks = message_blocks(message)[:HOME_BLOCKS_MAX]
        await client.views_publish(user_id=actor.user_id, view={"type": "home", "blocks": blocks})


def _as_message(runtime: Runtime, actor: Actor, outcome: outcomes.Outcome) -> Message | None:
    """An outcome as a chat message, where no modal can open (a DM has no trigger id)."""
    if isinstance(outcome, (outcomes.Reply, outcomes.Working)):
        return outcome.message
    if isinstance(outcome, outcomes.ShowForm):
        language = runtime.ctx.language(actor.locale)
        return Message(
            title=outcome.form.title,
            blocks=Message.text(outcome.form.intro or "").blocks,
            buttons=(Button(command_button("signup"), t(language, "slack.open_form"),
                            style="primary"),),
        )
    return None


async def _ack_notice(ack: AsyncAck, language: str, message: Message) -> None:
    """Replace the modal with a message: the answer to a form that cannot just close."""
    view = notice_modal(t(language, "slack.notice_title"), message, t(language, "slack.close"))
    await ack(response_action="update", view=view)


async def _ack_message(ack: AsyncAck, message: Message) -> None:
    await ack(text=fallback_text(message), blocks=message_blocks(message),
              response_type="ephemeral")
