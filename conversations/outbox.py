"""Send a message at most once per key, and never lose it: the outbox protocol.

Every message the bot sends on its own (introductions, announcements, nudges)
goes through ``send_once``: claim the key in the delivery table, send, then
mark it sent with the platform's message id. A second caller, a retried
trigger or another instance finds the key taken and sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import Enum

from bot.errors import PlatformError
from conversations.context import FlowContext
from storage import deliveries
from storage.deliveries import Claim

log = logging.getLogger(__name__)

#: Longer than the slowest send, retries and rate-limit waits included.
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=2)


class Sent(Enum):
    SENT = "sent"
    ALREADY = "already"          # someone else claimed or sent it
    UNREACHABLE = "unreachable"  # given up for good; recorded
    RETRY = "retry"              # released; a later run tries again


async def send_once(
    ctx: FlowContext, item: Claim, send: Callable[[], Awaitable[str | list[str]]]
) -> Sent:
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        if not await deliveries.claim(session, item, now, LEASE):
            return Sent.ALREADY
    try:
        ref = await send()
    except PlatformError as error:
        async with ctx.db.session() as session:
            if error.unreachable:
                await deliveries.mark_failed(session, item.key, str(error))
                return Sent.UNREACHABLE
            await deliveries.release(session, item.key, str(error), now + RETRY_AFTER)
        log.warning("delivery %s postponed: %s", item.kind, error)
        return Sent.RETRY
    message_ref = ",".join(ref) if isinstance(ref, list) else ref
    async with ctx.db.session() as session:
        await deliveries.mark_sent(session, item.key, message_ref, ctx.clock.now())
    return Sent.SENT
