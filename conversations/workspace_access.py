"""A workspace the bot lost, or got back (on Slack: ``app_uninstalled``,
``tokens_revoked``, ``team_access_revoked`` and ``team_access_granted``).

Who sees what, in order: everyone of the lost workspace still in the programme
is marked unreachable; each of their tandem partners who can still be reached
gets one private note that their partner cannot be reached for now; the
coordinators get one note naming the workspace and how many people it holds.
All of it is owed in the transaction that marks them. People already marked
are not counted again, so a repeated event tells nobody twice. When the
workspace is back, its people are reachable again, silently: the next nudge
reaches them.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.i18n import t
from conversations.audience import Compose, coordinator_languages
from conversations.context import FlowContext
from conversations.messages import Message
from conversations.owed import Owed, for_coordinators, for_person, record
from storage import participants, reachability, tandems
from storage.models import STILL_IN, Participant

KIND = "workspace_removed"


async def workspace_removed(ctx: FlowContext, platform: str, user_ids: Sequence[str],
                            workspace: str) -> list[str]:
    """Mark the workspace's people unreachable and owe the notes; returns the keys
    of what is owed (the caller sends them, ``owed.deliver``)."""
    if not user_ids:
        return []
    languages = await coordinator_languages(ctx)
    now = ctx.clock.now()
    stamp = now.strftime("%Y%m%d%H%M%S")
    gone = set(user_ids)
    async with ctx.db.session() as session:
        people = await reachability.reachable_people(session, platform, list(user_ids))
        if not people:
            return []
        owed: list[Owed] = []
        for person in people:
            await participants.mark_unreachable(session, person.id, now)
            partner = (await tandems.partner_of(session, person.id, person.round_id)
                       if person.round_id is not None else None)
            if not _told(partner, gone):
                continue
            assert partner is not None
            owed += for_person(ctx, partner, person.round_id, KIND,
                               f"{KIND}:{person.id}:{partner.id}:{stamp}",
                               _partner_note(person.display_name or person.user_id))
        owed += for_coordinators(
            ctx, languages, f"{KIND}:{platform}:{workspace}:{stamp}", None,
            lambda language: Message.text(t(language, "access.coordinators_removed",
                                            workspace=workspace, count=len(people))))
        return await record(session, owed, now)


def _partner_note(name: str) -> Compose:
    def compose(language: str, _reader: Participant) -> Message:
        return Message.text(t(language, "access.partner_removed", name=name))

    return compose


def _told(partner: Participant | None, gone: set[str]) -> bool:
    """Whether a partner gets the note: still in, reachable, not in the lost workspace."""
    return (partner is not None and partner.unreachable_at is None
            and partner.status in STILL_IN and partner.user_id not in gone)


async def workspace_restored(ctx: FlowContext, platform: str, user_ids: Sequence[str]) -> int:
    """The workspace is back: its people are reachable again; returns how many."""
    if not user_ids:
        return 0
    async with ctx.db.session() as session:
        return await reachability.restore(session, platform, list(user_ids), ctx.clock.now())
