"""Who sent a Teams activity, and what they typed, as the flows see it."""

from __future__ import annotations

import html
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount

from conversations.events import Actor

PLATFORM = "teams"
DEFAULT_TENANT = "default"
DISPLAY_NAME_MAX = 200


def tenant_of(activity: Activity) -> str:
    """The tenant (the workspace on Teams): from channelData, else the conversation."""
    tenant = _channel_data_id(activity, "tenant")
    if tenant is not None:
        return tenant
    conversation = activity.conversation
    if conversation is not None:
        found = conversation.tenant_id or _extra(conversation, "tenantId")
        if isinstance(found, str) and found:
            return found
    return DEFAULT_TENANT


def _channel_data_id(activity: Activity, key: str) -> str | None:
    """``channelData[key].id`` when it is a non-empty text (tenant, channel, team)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    entry = data.get(key)
    found = entry.get("id") if isinstance(entry, dict) else None
    return found if isinstance(found, str) and found else None


def _extra(model: Any, key: str) -> object:
    extra = getattr(model, "additional_properties", None)
    return extra.get(key) if isinstance(extra, dict) else None


def user_key(account: ChannelAccount) -> str:
    """A person's id: the Entra (AAD) object id where Teams gives one, as the
    people picker does; the Bot Framework id (``29:…``) otherwise (Emulator)."""
    key: str = account.aad_object_id or account.id  # botbuilder's models are unannotated
    return key


def actor_of(activity: Activity) -> Actor:
    sender = activity.from_property or ChannelAccount(id="")
    return Actor(
        platform=PLATFORM,
        workspace_id=tenant_of(activity),
        user_id=user_key(sender),
        # Names are shown, not matched on: a very long one is cut to what is stored.
        display_name=(sender.name or "")[:DISPLAY_NAME_MAX] or None,
        locale=activity.locale or None,
        timezone=activity.local_timezone or None,
    )


def conversation_type(activity: Activity) -> str:
    conversation = activity.conversation
    kind: str | None = conversation.conversation_type if conversation else None
    if not kind:
        # The Emulator sends no conversationType: a chat that is not a group is personal.
        return "groupChat" if conversation is not None and conversation.is_group else "personal"
    return kind


def is_personal(activity: Activity) -> bool:
    return conversation_type(activity) == "personal"


def channel_id_of(activity: Activity) -> str | None:
    """The team channel an activity came from (``19:…@thread.tacv2``), if any."""
    channel = _channel_data_id(activity, "channel")
    if channel is not None:
        return channel
    if conversation_type(activity) == "channel" and activity.conversation:
        conversation_id: str = activity.conversation.id
        return conversation_id.split(";")[0]
    return None


def team_id_of(activity: Activity) -> str | None:
    return _channel_data_id(activity, "team")


def command_text(activity: Activity) -> str:
    """The typed text without the @-mention of the bot (channels, group chats)."""
    text = activity.text or ""
    if activity.recipient is not None and activity.entities:
        try:
            text = TurnContext.remove_recipient_mention(activity) or ""
        except (KeyError, TypeError, AttributeError):
            pass
    text = html.unescape(text).replace("<at>", " ").replace("</at>", " ")
    return " ".join(text.split())
