"""Sending on Teams on the bot's own initiative: personal chats and channel posts.

Who sees what: ``send_direct`` lands in the person's personal chat with the bot
(created on first use when the bot only knows them from a team); Teams has no
group chats for bots, so ``send_group`` sends the same message to each person
privately; ``post_channel`` starts a new thread in a team channel the bot has
seen. People and channels the bot has never seen cannot be reached.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError, HttpOperationError
from msrest.universal_http.requests import ClientRetryPolicy
from requests.exceptions import RequestException

from adapters.teams.cards import attachment, message_card
from adapters.teams.identity import PLATFORM
from adapters.teams.references import References, is_personal_ref, personal_ref
from bot.core.errors import PlatformError
from conversations.messages import Message

log = logging.getLogger(__name__)

# botbuilder makes a new Bot Connector client for every message it sends or answers,
# and msrest (0.7.1) builds two retry policies for each, testing ``i not in safe_codes``
# against a 500-item list for every status up to 999: about 10 ms of CPU per message,
# blocking the event loop (a nudge to 1000 people would stall incoming requests for
# ~10 s). A frozenset gives the same policy in microseconds.
if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
    # msrest declares a list; anything that answers ``in`` does.
    ClientRetryPolicy.safe_codes = frozenset(  # type: ignore[assignment]
        ClientRetryPolicy.safe_codes)

UNREACHABLE_STATUS = frozenset({403, 404})
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
FILE_KEY = "tandem_file"
PENDING_FILES_MAX = 200


@dataclass(frozen=True)
class PendingFile:
    """A file offered to someone, waiting for them to accept it (kept in memory)."""

    user_id: str
    filename: str
    content: bytes


def message_activity(message: Message) -> Activity:
    """A message as an activity with one Adaptive Card; ``summary`` feeds notifications."""
    return Activity(
        type=ActivityTypes.message,
        summary=message.plain()[:200],
        attachments=[attachment(message_card(message))],
    )


def card_activity(content: dict[str, Any], summary: str) -> Activity:
    return Activity(
        type=ActivityTypes.message, summary=summary[:200], attachments=[attachment(content)]
    )


def platform_error(error: BaseException, what: str) -> PlatformError:
    """A failed Bot Connector call as a PlatformError: 403/404 unreachable, 429/5xx retry."""
    if isinstance(error, PlatformError):
        return error
    if isinstance(error, HttpOperationError):
        status = getattr(error.response, "status_code", 0) or 0
        return PlatformError(
            f"teams: {what} failed with HTTP {status}",
            unreachable=status in UNREACHABLE_STATUS,
            retry=status == 429 or status >= 500,
        )
    if isinstance(error, (ClientRequestError, RequestException, OSError)):
        return PlatformError(f"teams: {what} failed: {type(error).__name__}", retry=True)
    return PlatformError(f"teams: {what} failed: {type(error).__name__}: {error}")


def message_ref(conversation_id: str, activity_id: str | None) -> str:
    return f"{conversation_id}|{activity_id or ''}"


class TeamsMessenger:
    platform = PLATFORM
    command_prefix = ""
    supports_group = False
    #: Teams bots cannot add people to channels: the juniors get the channel's link.
    supports_channel_invite = False

    def __init__(self, cloud: CloudAdapter, references: References, app_id: str | None) -> None:
        self.cloud, self.references, self.app_id = cloud, references, app_id or ""
        self.pending_files: OrderedDict[str, PendingFile] = OrderedDict()

    async def send_direct(self, user_id: str, message: Message) -> str:
        return await self.send_to_user(user_id, message_activity(message))

    async def send_group(self, user_ids: Sequence[str], message: Message) -> list[str]:
        """One private message per person (Teams has no group chats for bots).

        If the first person cannot be reached the error is raised: nothing was sent,
        so a retry sends nothing twice. A failure after that is logged and the ids
        sent so far are returned, for the same reason.
        """
        sent: list[str] = []
        for user_id in user_ids:
            try:
                sent.append(await self.send_direct(user_id, message))
            except PlatformError as error:
                if not sent:
                    raise
                log.warning("teams: group message not delivered to one member: %s", error)
        return sent

    async def invite_to_channel(self, channel_id: str, user_id: str) -> str:
        raise PlatformError("Teams bots cannot add people to channels")

    async def locale_of(self, user_id: str) -> str | None:
        """The locale of the person's last message to the bot, kept with their
        conversation reference (None for someone who never wrote)."""
        found = await self.references.find("user", user_id)
        return found[0].locale if found is not None else None

    async def knows(self, user_id: str) -> bool:
        """Someone who wrote to the bot (the bot cannot look up a tenant's users
        without Microsoft Graph; the company directory's accounts are checked by the
        flow)."""
        return await self.references.find("user", user_id) is not None

    async def find_sent(self, targets: Sequence[str], key: str) -> str | None:
        # Bots cannot read a Teams chat's history, so a message whose sender died
        # after sending and before recording it cannot be found; it is sent again.
        return None

    async def find_file(self, user_id: str, filename: str) -> str | None:
        # As for messages: a chat's history is closed to bots; a file offer whose
        # sender died after sending it is offered again.
        return None

    async def send_file(
        self, user_id: str, filename: str, content: bytes, message: Message
    ) -> str:
        """Bots cannot attach files in Teams: the person gets the message and a
        file-consent card; on "Allow" Teams gives an upload URL in their OneDrive
        (see ``TeamsBot``). Offers live in memory: after a restart they expire."""
        token = uuid.uuid4().hex
        self.pending_files[token] = PendingFile(user_id, filename, content)
        while len(self.pending_files) > PENDING_FILES_MAX:
            self.pending_files.popitem(last=False)
        consent = {
            "contentType": FILE_CONSENT,
            "name": filename,
            "content": {
                "description": message.plain()[:500],
                "sizeInBytes": len(content),
                "acceptContext": {FILE_KEY: token},
                "declineContext": {FILE_KEY: token},
            },
        }
        activity = message_activity(message)
        activity.attachments = [*activity.attachments, consent]
        try:
            return await self.send_to_user(user_id, activity)
        except PlatformError:
            self.pending_files.pop(token, None)
            raise

    def take_file(self, token: object, user_id: str) -> PendingFile | None:
        """The pending file behind a consent answer, if it is this person's."""
        if not isinstance(token, str):
            return None
        pending = self.pending_files.get(token)
        if pending is None or pending.user_id != user_id:
            return None
        return self.pending_files.pop(token)

    async def post_channel(self, channel_id: str, message: Message) -> str:
        found = await self.references.find("channel", channel_id)
        if found is None:
            raise PlatformError(
                f"teams: channel {channel_id} not known; add the bot to its team",
                unreachable=True,
            )
        return await self.send_to_reference(found[0], message_activity(message))

    async def send_to_user(self, user_id: str, activity: Activity) -> str:
        """Any activity (a message, a form card) to a person's personal chat."""
        found = await self.references.find("user", user_id)
        if found is None:
            raise PlatformError(
                f"teams: user {user_id} not known; they must install the app or be in a "
                "team with the bot",
                unreachable=True,
            )
        reference, tenant = found
        if not is_personal_ref(reference):
            reference = await self._open_chat(user_id, reference, tenant)
        return await self.send_to_reference(reference, activity)

    async def send_to_reference(self, reference: ConversationReference, activity: Activity) -> str:
        sent: list[str] = []

        async def send(turn: TurnContext) -> None:
            # Straight to the connector: TurnContext.send_activity would make this a reply
            # to the continuation activity's made-up id.
            client = turn.turn_state[turn.adapter.BOT_CONNECTOR_CLIENT_KEY]
            outgoing = TurnContext.apply_conversation_reference(activity, reference)
            outgoing.reply_to_id = None
            response = await client.conversations.send_to_conversation(
                reference.conversation.id, outgoing
            )
            sent.append(response.id if response and response.id else "")

        try:
            await self.cloud.continue_conversation(reference, send, bot_app_id=self.app_id)
        except Exception as error:
            raise platform_error(error, "sending a message") from error
        return message_ref(reference.conversation.id, sent[0] if sent else None)

    async def _open_chat(
        self, user_id: str, membership: ConversationReference, tenant: str | None
    ) -> ConversationReference:
        """Create the personal chat with someone known from a team, and remember it."""
        user = membership.user or ChannelAccount(id=user_id)
        bot = membership.bot or ChannelAccount(id=self.app_id)
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot.id, name=bot.name),
            members=[ChannelAccount(id=user.id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        created: list[str] = []

        async def opened(turn: TurnContext) -> None:
            created.append(turn.activity.conversation.id)

        try:
            await self.cloud.create_conversation(
                self.app_id, opened, parameters,
                channel_id=membership.channel_id or "msteams",
                service_url=membership.service_url,
            )
        except Exception as error:
            raise platform_error(error, "opening a personal chat") from error
        if not created or not created[0]:
            raise PlatformError("teams: opening a personal chat returned no conversation id")
        reference = personal_ref(
            user, bot, created[0], tenant or "", membership.channel_id or "msteams",
            membership.service_url,
        )
        await self.references.save("user", user_id, tenant, reference)
        return reference
