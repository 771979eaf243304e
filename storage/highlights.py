"""The highlights table: one sentence per participant and round for the programme's
channel, whether their name may be shown, and the coordinators' decision.

A highlight is ``pending`` until a coordinator approves or skips it; the wrap-up's
highlights post turns every approved one into ``posted`` (and any still pending
into ``closed``) in one statement, so an approval racing the post is either in it
or refused, never lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Highlight, HighlightStatus, Participant


@dataclass(frozen=True)
class Shown:
    """A posted highlight as the channel sees it: the text, and the name only with consent."""

    text: str
    name: str | None


async def highlight_of(session: AsyncSession, participant_id: int, round_id: int
                       ) -> Highlight | None:
    return await session.scalar(select(Highlight).where(
        Highlight.participant_id == participant_id, Highlight.round_id == round_id))


async def highlight_by_id(session: AsyncSession, highlight_id: int) -> Highlight | None:
    return await session.get(Highlight, highlight_id)


async def offer(session: AsyncSession, participant_id: int, round_id: int, text: str,
                show_name: bool, now: datetime) -> Highlight | None:
    """Save what the person offers (an empty ``text`` withdraws it). Returns the
    highlight when it is new or changed, so it needs a (new) review; None otherwise."""
    found = await highlight_of(session, participant_id, round_id)
    if not text:
        if found is not None:
            await session.delete(found)
            await session.flush()
        return None
    if found is None:
        found = Highlight(participant_id=participant_id, round_id=round_id, text=text,
                          show_name=show_name, status=HighlightStatus.PENDING, revision=1,
                          created_at=now, updated_at=now)
        session.add(found)
    elif (found.text, found.show_name) == (text, show_name):
        return None
    else:
        found.text, found.show_name, found.updated_at = text, show_name, now
        found.status, found.revision = HighlightStatus.PENDING, found.revision + 1
    await session.flush()
    return found


async def decide(session: AsyncSession, highlight_id: int, revision: int,
                 status: HighlightStatus, now: datetime) -> bool:
    """Approve or skip a pending highlight in the revision the coordinator read;
    False when it is no longer that (decided, edited, withdrawn or posted)."""
    done = await session.execute(update(Highlight).where(
        Highlight.id == highlight_id, Highlight.revision == revision,
        Highlight.status == HighlightStatus.PENDING).values(status=status, updated_at=now))
    return bool(getattr(done, "rowcount", 0))


async def post_round(session: AsyncSession, round_id: int, now: datetime) -> list[Shown]:
    """Mark the round's approved highlights posted (and close the pending ones), then
    every posted one in the order they were offered: what the wrap-up shows."""
    await session.execute(update(Highlight).where(
        Highlight.round_id == round_id,
        Highlight.status.in_((HighlightStatus.APPROVED, HighlightStatus.PENDING))).values(
        status=case((Highlight.status == HighlightStatus.APPROVED, HighlightStatus.POSTED),
                    else_=HighlightStatus.CLOSED), updated_at=now))
    rows = await session.execute(
        select(Highlight.text, Highlight.show_name, Participant.display_name)
        .join(Participant, Participant.id == Highlight.participant_id)
        .where(Highlight.round_id == round_id, Highlight.status == HighlightStatus.POSTED)
        .order_by(Highlight.id))
    return [Shown(text, name if show and name else None) for text, show, name in rows]


async def counts(session: AsyncSession, round_id: int) -> dict[str, int]:
    """How many highlights of the round are in each status (for the report: counts only)."""
    rows = await session.execute(
        select(Highlight.status, func.count(Highlight.id))
        .where(Highlight.round_id == round_id).group_by(Highlight.status))
    return {str(status): int(n) for status, n in rows}


async def of_people(session: AsyncSession, participant_ids: Sequence[int]) -> list[Highlight]:
    return list(await session.scalars(select(Highlight).where(
        Highlight.participant_id.in_(participant_ids)).order_by(Highlight.id)))
