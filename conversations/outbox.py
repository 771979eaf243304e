"""Send a message at most once per key, and never lose it: the outbox protocol.

Every message the bot sends on its own (introductions, announcements, nudges)
goes through here: claim the key in the delivery table, send, then mark it
sent with the platform's message id. A second caller, a retried trigger or
another instance finds the key taken and sends nothing. When a sender died
between sending and marking, the next one asks the platform whether the
message (tagged with its key) is already there before sending again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import replace
from datetime import timedelta
from enum import Enum

from bot.core import metrics
from bot.core.errors import PlatformError
from conversations.context import FlowContext, Messenger
from conversations.messages import Message
from storage import deliveries
from storage.deliveries import TAKEOVER, Claim
from storage.group_commit import group_commit
from storage.sent_marks import sent_marks

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=2)


class Sent(Enum):
    SENT = "sent"
    ALREADY = "already"          # someone else claimed or sent it
    UNREACHABLE = "unreachable"  # given up for good; recorded
    RETRY = "retry"              # released; a later run tries again


#: Keys known to be settled when a batch started: skipped without touching the
#: database again (a tick re-examines everything within the grace window).
settled: ContextVar[frozenset[str]] = ContextVar("settled", default=frozenset())

Send = Callable[[], Awaitable[str | list[str]]]
Recover = Callable[[], Awaitable[str | None]]


Take = Callable[[], Awaitable[str | None]]


@metrics.counts_deliveries
async def send_once(
    ctx: FlowContext, item: Claim, send: Send, recover: Recover | None = None,
    take: Take | None = None,
) -> Sent:
    """Claim ``item`` (or ``take()`` it: an owed message, see ``conversations.owed``),
    send, mark sent. ``recover`` finds a message an earlier sender sent and died."""
    if item.key in settled.get():
        return Sent.ALREADY
    now = ctx.clock.now()
    lease = ctx.config.rhythm.claim_lease
    writes = group_commit(ctx.db)
    claimed = await (take() if take is not None else writes.run(
        lambda session: deliveries.claim(session, item, now, lease)))
    if claimed is None:
        return Sent.ALREADY
    try:
        found = await recover() if claimed == TAKEOVER and recover is not None else None
        ref = found if found is not None else await send()
    except PlatformError as error:
        async with ctx.db.session() as session:
            if error.unreachable:
                await deliveries.mark_failed(session, item.key, str(error))
                return Sent.UNREACHABLE
            await deliveries.release(session, item.key, str(error), now + RETRY_AFTER)
        log.warning("delivery of a %s postponed: %s", item.kind, error)
        return Sent.RETRY
    message_ref = ",".join(ref) if isinstance(ref, list) else ref
    sent_at = ctx.clock.now()
    # Marked at once, in its own small transaction: on Teams, where a sent message
    # cannot be found again, this is the only window in which one can go out twice.
    await sent_marks(ctx.db).mark(item.key, message_ref, sent_at)
    return Sent.SENT if found is None else Sent.ALREADY


async def direct(ctx: FlowContext, item: Claim, user_id: str, message: Message) -> Sent:
    return await _tagged(ctx, item, [user_id], message,
                         lambda messenger, tagged: messenger.send_direct(user_id, tagged))


async def group(ctx: FlowContext, item: Claim, user_ids: Sequence[str], message: Message
                ) -> Sent:
    return await _tagged(ctx, item, list(user_ids), message,
                         lambda messenger, tagged: messenger.send_group(list(user_ids), tagged))


async def channel(ctx: FlowContext, item: Claim, channel_id: str, message: Message) -> Sent:
    return await _tagged(ctx, item, [channel_id], message,
                         lambda messenger, tagged: messenger.post_channel(channel_id, tagged))


async def _tagged(ctx: FlowContext, item: Claim, targets: list[str], message: Message,
                  post: Callable[[Messenger, Message], Awaitable[str | list[str]]]) -> Sent:
    """Send once, the message carrying its delivery key (Slack finds it again by it)."""
    messenger = ctx.messenger(item.platform)
    tagged = replace(message, key=item.key)
    return await send_once(ctx, item, lambda: post(messenger, tagged),
                           _recover(messenger, targets, item.key))


def _recover(messenger: Messenger, targets: list[str], key: str) -> Recover:
    async def look() -> str | None:
        return await messenger.find_sent(targets, key)

    return look
