"""Teams activities in, neutral events to the router, its outcomes back as Adaptive Cards.

Who sees what:
- In the personal chat with the bot, a typed command (``signup``, ``status``,
  ``anmelden``, …) is answered in that chat: a message, or the survey card.
- Pressing a card's button or submitting the survey card replaces that card
  with the answer: the survey again with the values kept and a red message
  under each wrong field, or the confirmation (the summary arrives as its own
  message). "Cancel" replaces the survey card with a short note.
- In a team channel or group chat (the bot @-mentioned), the answer goes to the
  person's personal chat, never to the channel; the channel only gets a short
  note that the answer was sent privately.
- When someone installs the app personally, they get the help message.
Every activity's people and channels are remembered (see ``references``).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from adapters.teams.cards import (
    ACTION_KEY,
    CANCEL_KEY,
    CONTENT_TYPE,
    CONTEXT_KEY,
    FORM_KEY,
    VALUE_KEY,
    form_card,
    message_card,
    search_response,
    submitted_values,
)
from adapters.teams.identity import actor_of, command_text, is_personal
from adapters.teams.messenger import (
    FILE_INFO,
    FILE_KEY,
    TeamsMessenger,
    card_activity,
    message_activity,
)
from adapters.teams.references import References
from adapters.teams.shapes import CARD_ACTION_INVOKE, FILE_CONSENT_INVOKE, SEARCH_INVOKE
from bot.core.errors import PlatformError
from bot.core.i18n import t
from bot.host.runtime import Runtime
from conversations import directory_survey, outcomes, router
from conversations.events import Actor, ButtonPress, Command, FormSubmission
from conversations.messages import Message
from conversations.survey import DEPARTMENTS_SEARCH

log = logging.getLogger(__name__)
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=60)
Card = tuple[dict[str, Any], str]


class TeamsBot:
    """The bot logic for one turn: remember references, run the flow, answer."""

    def __init__(self, runtime: Runtime, messenger: TeamsMessenger, references: References):
        self.runtime, self.messenger, self.references = runtime, messenger, references

    def _finish(self, outcome: outcomes.Outcome | None) -> None:
        """Slow work (``Working``, a ``FormDone`` follow-up) runs after the turn has
        answered, so Teams gets its HTTP response at once; failures are reported by
        the router's guard."""
        then = outcomes.followup(outcome) if outcome is not None else None
        if then is not None:
            self.runtime.background.start(then(), "teams: after an answer")

    async def idle(self, grace_seconds: float | None = None) -> bool:
        """Wait until the follow-ups of answered turns are done (tests wait so);
        False if some were still running after ``grace_seconds``."""
        return await self.runtime.background.idle(grace_seconds)

    async def on_turn(self, turn: TurnContext) -> None:
        activity = turn.activity
        try:
            await self.references.remember(activity)
        except Exception:
            log.exception("teams: could not store conversation references")
        try:
            if activity.type == ActivityTypes.message:
                await self._on_message(turn)
            elif activity.type == ActivityTypes.invoke and activity.name == CARD_ACTION_INVOKE:
                await self._on_card_action(turn)
            elif activity.type == ActivityTypes.invoke and activity.name == FILE_CONSENT_INVOKE:
                await self._on_file_consent(turn)
            elif activity.type == ActivityTypes.invoke and activity.name == SEARCH_INVOKE:
                await self._on_search(turn)
            elif activity.type == ActivityTypes.conversation_update:
                await self._on_conversation_update(turn)
            elif activity.type == ActivityTypes.invoke:
                # Not an invoke Tandem offers: botbuilder would answer 501.
                await _answer_invoke(turn, 400)
        except PlatformError as error:
            log.warning("teams: could not answer a %s activity: %s", activity.type, error)

    # -- inbound -----------------------------------------------------------------------

    async def _on_message(self, turn: TurnContext) -> None:
        activity = turn.activity
        if activity.from_property is not None and activity.from_property.role == "bot":
            return
        actor = actor_of(activity)
        data = activity.value if isinstance(activity.value, dict) else None
        if data is not None and _is_card_data(data):
            outcome = await self._card_outcome(actor, data)
            await self._answer(turn, actor, outcome, card_id=activity.reply_to_id)
        else:
            outcome = await router.on_command(
                self.runtime.ctx, Command(actor, command_text(activity))
            )
            await self._answer(turn, actor, outcome, card_id=None)

    async def _on_card_action(self, turn: TurnContext) -> None:
        """Action.Execute (Universal Actions): the answer is the invoke's response card."""
        activity = turn.activity
        value = _mapping(activity.value)
        data = _mapping(_mapping(value.get("action")).get("data"))
        actor = actor_of(activity)
        body: dict[str, Any]
        outcome: outcomes.Outcome | None = None
        if not _is_card_data(data):
            body = {"statusCode": 400, "type": "application/vnd.microsoft.error",
                    "value": {"code": "BadRequest", "message": "not a Tandem card action"}}
        else:
            outcome = await self._card_outcome(actor, data)
            card = self._card(actor, outcome)
            if card is None or not is_personal(activity):
                if card is not None:
                    await self._send_privately(turn, actor, card, notice=False)
                body = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                        "value": t(self._language(actor), "teams.answered_privately")}
            else:
                body = {"statusCode": 200, "type": CONTENT_TYPE, "value": card[0]}
        response = InvokeResponse(status=200, body=body)
        try:
            await turn.send_activity(Activity(type=ActivityTypes.invoke_response,
                                              value=response))
        finally:
            self._finish(outcome)

    async def _on_search(self, turn: TurnContext) -> None:
        """A card's type-ahead asks for choices: the survey's departments matching
        what was typed (the body is serialised by the adapter, see ``adapter``)."""
        value = _mapping(turn.activity.value)
        if value.get("dataset") != DEPARTMENTS_SEARCH:
            await _answer_invoke(turn, 400)
            return
        query = value.get("queryText")
        found = await directory_survey.department_choices(
            self.runtime.ctx, query if isinstance(query, str) else "")
        response = InvokeResponse(status=200, body=search_response(found))
        await turn.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))

    async def _on_file_consent(self, turn: TurnContext) -> None:
        """The person allowed (or declined) a file: upload it to the URL Teams gave,
        then show it in the chat as a file card."""
        activity = turn.activity
        value = _mapping(activity.value)
        context = _mapping(value.get("context"))
        actor = actor_of(activity)
        pending = self.messenger.take_file(context.get(FILE_KEY), actor.user_id)
        upload = _mapping(value.get("uploadInfo"))
        if value.get("action") == "accept":
            if pending is None or not isinstance(upload.get("uploadUrl"), str):
                notice = Message.text(t(self._language(actor), "teams.file_expired"))
                await turn.send_activity(message_activity(notice))
            else:
                size = len(pending.content)
                try:
                    async with aiohttp.ClientSession(timeout=UPLOAD_TIMEOUT) as http:
                        response = await http.put(
                            upload["uploadUrl"], data=pending.content,
                            headers={"Content-Range": f"bytes 0-{size - 1}/{size}"},
                        )
                        response.raise_for_status()
                except (aiohttp.ClientError, TimeoutError) as error:
                    log.warning("teams: file upload failed: %s", error)
                    notice = Message.text(t(self._language(actor), "error.platform"))
                    await turn.send_activity(message_activity(notice))
                    await _answer_invoke(turn)
                    return
                info = {
                    "contentType": FILE_INFO,
                    "contentUrl": upload.get("contentUrl"),
                    "name": upload.get("name") or pending.filename,
                    "content": {"uniqueId": upload.get("uniqueId"),
                                "fileType": upload.get("fileType") or "csv"},
                }
                await turn.send_activity(Activity(type=ActivityTypes.message, attachments=[info]))
        await _answer_invoke(turn)

    async def _on_conversation_update(self, turn: TurnContext) -> None:
        activity = turn.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = {m.id for m in activity.members_added or []}
        if bot_id in added and is_personal(activity) and activity.from_property is not None:
            # Installed in the personal scope: say hello with the help.
            actor = actor_of(activity)
            outcome = await router.on_command(self.runtime.ctx, Command(actor, "help"))
            await self._answer(turn, actor, outcome, card_id=None)

    async def _card_outcome(self, actor: Actor, data: dict[str, Any]) -> outcomes.Outcome:
        ctx = self.runtime.ctx
        if FORM_KEY in data:
            submission = FormSubmission(actor, str(data[FORM_KEY]), submitted_values(data),
                                        str(data.get(CONTEXT_KEY) or ""))
            return await router.on_form(ctx, submission)
        if CANCEL_KEY in data:
            return outcomes.FormDone(Message.text(t(self._language(actor), "teams.form_cancelled")))
        value = data.get(VALUE_KEY)
        press = ButtonPress(actor, str(data[ACTION_KEY]), "" if value is None else str(value))
        return await router.on_button(ctx, press)

    # -- outbound ----------------------------------------------------------------------

    def _language(self, actor: Actor) -> str:
        return self.runtime.ctx.language(actor.locale)

    def _card(self, actor: Actor, outcome: outcomes.Outcome) -> Card | None:
        """An outcome as a card and its notification summary."""
        if isinstance(outcome, (outcomes.Reply, outcomes.Working)):
            return message_card(outcome.message), outcome.message.plain()
        if isinstance(outcome, outcomes.ShowForm):
            return form_card(outcome.form), outcome.form.title
        if isinstance(outcome, outcomes.FormInvalid):
            return form_card(outcome.form, outcome.errors, outcome.values), outcome.form.title
        if isinstance(outcome, outcomes.FormDone):
            message = outcome.message or Message.text(
                t(self._language(actor), "teams.form_closed")
            )
            return message_card(message), message.plain()
        return None

    async def _answer(
        self, turn: TurnContext, actor: Actor, outcome: outcomes.Outcome, card_id: str | None
    ) -> None:
        try:
            await self._show(turn, actor, outcome, card_id)
        finally:
            # The follow-up (a summary DM, a matching run) does not depend on the card.
            self._finish(outcome)

    async def _show(
        self, turn: TurnContext, actor: Actor, outcome: outcomes.Outcome, card_id: str | None
    ) -> None:
        card = self._card(actor, outcome)
        if card is None:
            return
        if not is_personal(turn.activity):
            await self._send_privately(turn, actor, card, notice=card_id is None)
            return
        if card_id and not isinstance(outcome, outcomes.ShowForm):
            # The answer to a card replaces it, so its buttons cannot be pressed twice.
            update = card_activity(*card)
            update.id = card_id
            try:
                await turn.update_activity(update)
                return
            except Exception as error:
                log.info("teams: could not update a card, sending a new one: %s", error)
        await turn.send_activity(card_activity(*card))

    async def _send_privately(
        self, turn: TurnContext, actor: Actor, card: Card, *, notice: bool
    ) -> None:
        """Answer in the personal chat; the channel only hears that it happened."""
        language = self._language(actor)
        try:
            await self.messenger.send_to_user(actor.user_id, card_activity(*card))
            key = "teams.answered_privately"
        except PlatformError as error:
            log.warning("teams: could not answer privately: %s", error)
            key, notice = "teams.cannot_answer_privately", True
        if notice:
            await turn.send_activity(message_activity(Message.text(t(language, key))))


async def _answer_invoke(turn: TurnContext, status: int = 200) -> None:
    response = InvokeResponse(status=status)
    await turn.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))


def _mapping(value: object) -> dict[str, Any]:
    """A JSON object from an activity, or an empty one for anything else (untrusted)."""
    return value if isinstance(value, dict) else {}


def _is_card_data(data: dict[str, Any]) -> bool:
    return any(key in data for key in (FORM_KEY, CANCEL_KEY, ACTION_KEY))
