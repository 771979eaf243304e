"""Conversation references: what the bot remembers to reach people and channels later.

Three shapes are stored in ``conversation_refs`` (serialised Bot Framework
``ConversationReference`` JSON):
- kind ``user`` with a ``conversation``: the person's personal chat with the bot;
- kind ``user`` without one: only a team membership (id, tenant, serviceUrl), from
  which a personal chat can be created;
- kind ``channel``: a team channel, where a new post starts a new thread.
A membership never replaces a personal chat.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
)
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.teams.identity import (
    PLATFORM,
    channel_id_of,
    is_personal,
    team_id_of,
    tenant_of,
    user_key,
)
from bot.core.clock import Clock
from storage import conversation_refs as repo
from storage.db import Database
from storage.group_commit import group_commit

log = logging.getLogger(__name__)


def serialise(reference: ConversationReference) -> dict[str, Any]:
    data: dict[str, Any] = reference.serialize()  # msrest's models are unannotated
    return data


def deserialise(data: dict[str, Any]) -> ConversationReference:
    return ConversationReference().deserialize(data)


def is_personal_ref(reference: ConversationReference) -> bool:
    return reference.conversation is not None and bool(reference.conversation.id)


def personal_ref(
    user: ChannelAccount, bot: ChannelAccount, conversation_id: str, tenant: str,
    channel_id: str, service_url: str,
) -> ConversationReference:
    return ConversationReference(
        user=ChannelAccount(id=user.id, name=user.name, aad_object_id=user.aad_object_id),
        bot=ChannelAccount(id=bot.id, name=bot.name),
        conversation=ConversationAccount(
            id=conversation_id, is_group=False, conversation_type="personal", tenant_id=tenant
        ),
        channel_id=channel_id,
        service_url=service_url,
    )


def _membership_ref(activity: Activity, member: ChannelAccount) -> ConversationReference:
    bot = activity.recipient or ChannelAccount(id="")
    return ConversationReference(
        user=ChannelAccount(id=member.id, name=member.name, aad_object_id=member.aad_object_id),
        bot=ChannelAccount(id=bot.id, name=bot.name),
        channel_id=activity.channel_id,
        service_url=activity.service_url,
    )


def _channel_ref(activity: Activity, channel: str, tenant: str) -> ConversationReference:
    bot = activity.recipient or ChannelAccount(id="")
    return ConversationReference(
        bot=ChannelAccount(id=bot.id, name=bot.name),
        conversation=ConversationAccount(
            id=channel, is_group=True, conversation_type="channel", tenant_id=tenant
        ),
        channel_id=activity.channel_id,
        service_url=activity.service_url,
    )


def references_in(activity: Activity) -> list[tuple[str, str, ConversationReference]]:
    """Every (kind, key, reference) an inbound activity tells us about."""
    found: list[tuple[str, str, ConversationReference]] = []
    tenant = tenant_of(activity)
    bot_id = activity.recipient.id if activity.recipient else None
    people: list[ChannelAccount] = []
    sender = activity.from_property
    if sender is not None and sender.id and sender.id != bot_id and sender.role != "bot":
        people.append(sender)
    if activity.type == ActivityTypes.conversation_update:
        people += [m for m in activity.members_added or [] if m.id and m.id != bot_id]
    personal = is_personal(activity) and activity.conversation is not None
    for person in people:
        if personal and person is sender:
            reference = personal_ref(
                person, activity.recipient or ChannelAccount(id=""), activity.conversation.id,
                tenant, activity.channel_id, activity.service_url,
            )
            # Their client's locale: how coordinators' alerts find their language.
            reference.locale = activity.locale or None
        else:
            reference = _membership_ref(activity, person)
        found.append(("user", user_key(person), reference))
    if not personal:
        channels = {channel_id_of(activity), team_id_of(activity)} - {None}
        for channel in sorted(c for c in channels if c):
            found.append(("channel", channel, _channel_ref(activity, channel, tenant)))
    return found


class References:
    """The references of one platform in the database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock

    async def remember(self, activity: Activity) -> None:
        """Store what an inbound activity tells us; a membership never replaces a chat."""
        found = references_in(activity)
        if not found:
            return
        tenant = tenant_of(activity)
        now = self.clock.now()

        async def write(session: AsyncSession) -> None:
            for kind, key, reference in found:
                data = serialise(reference)
                existing = await repo.find_ref(session, PLATFORM, kind, key)
                if existing is not None:
                    if existing.reference == data:
                        continue
                    if kind == "user" and not is_personal_ref(reference) and is_personal_ref(
                        deserialise(existing.reference)
                    ):
                        continue
                await repo.save_ref(session, PLATFORM, kind, key, tenant, data, now)

        # Every turn does this: the turns in flight together share one transaction.
        await group_commit(self.db).run(write)

    async def save(self, kind: str, key: str, tenant: str | None,
                   reference: ConversationReference) -> None:
        async with self.db.session() as session:
            await repo.save_ref(
                session, PLATFORM, kind, key, tenant, serialise(reference), self.clock.now()
            )

    async def find(self, kind: str, key: str) -> tuple[ConversationReference, str | None] | None:
        async with self.db.session() as session:
            row = await repo.find_ref(session, PLATFORM, kind, key)
            if row is None:
                return None
            return deserialise(row.reference), row.tenant_id
