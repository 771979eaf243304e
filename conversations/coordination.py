"""What every coordinator command shares: the permission check and the audit log."""

from __future__ import annotations

from typing import Any

from bot.core.errors import NotAllowed
from conversations.context import FlowContext
from conversations.events import Actor
from storage import audit_log


def require_coordinator(ctx: FlowContext, actor: Actor) -> None:
    """Anyone else gets a polite refusal, and nothing happens."""
    if not ctx.config.is_coordinator(actor.platform, actor.user_id):
        raise NotAllowed()


async def audit(ctx: FlowContext, actor: Actor, action: str, /, **detail: Any) -> None:
    async with ctx.db.session() as session:
        await audit_log.record(session, actor.platform, actor.user_id, action, detail,
                               ctx.clock.now())
