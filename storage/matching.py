"""Reading a round for matching, and storing proposals, pins, blocks and tandems."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, MatchProposal, MatchRule, Participant, Round, Tandem
from storage.participants import dialect_insert


async def round_participants(session: AsyncSession, round_id: int) -> list[Participant]:
    """Everyone signed up for the round, whatever their status (the engine filters)."""
    return list(await session.scalars(
        select(Participant)
        .where(Participant.round_id == round_id, Participant.status != "left")
        .order_by(Participant.id)
    ))


async def all_participants(session: AsyncSession) -> list[Participant]:
    return list(await session.scalars(select(Participant).order_by(Participant.id)))


async def earlier_pairs(session: AsyncSession, round_id: int) -> list[tuple[int, int]]:
    rows = await session.execute(
        select(Tandem.mentor_id, Tandem.mentee_id).where(Tandem.round_id != round_id)
    )
    return [(m, s) for m, s in rows]


async def rules(session: AsyncSession, round_id: int) -> list[MatchRule]:
    return list(await session.scalars(
        select(MatchRule).where(MatchRule.round_id == round_id).order_by(MatchRule.id)
    ))


async def add_rule(session: AsyncSession, round_id: int, kind: str, mentor_id: int,
                   mentee_id: int, by: str, now: datetime) -> None:
    await session.execute(
        dialect_insert(session, MatchRule)
        .values(round_id=round_id, kind=kind, mentor_id=mentor_id, mentee_id=mentee_id,
                created_by=by, created_at=now)
        .on_conflict_do_nothing(index_elements=["round_id", "kind", "mentor_id", "mentee_id"])
    )


async def clear_rules(session: AsyncSession, round_id: int) -> None:
    for rule in await rules(session, round_id):
        await session.delete(rule)


async def save_proposal(session: AsyncSession, round_id: int, by: str, now: datetime,
                        result: dict[str, Any]) -> MatchProposal:
    number = (await session.scalar(
        select(func.max(MatchProposal.number)).where(MatchProposal.round_id == round_id)
    ) or 0) + 1
    proposal = MatchProposal(round_id=round_id, number=number, status="draft", created_by=by,
                             created_at=now, result=result)
    session.add(proposal)
    await session.flush()
    return proposal


async def latest_proposal(session: AsyncSession, round_id: int) -> MatchProposal | None:
    return await session.scalar(
        select(MatchProposal).where(MatchProposal.round_id == round_id)
        .order_by(MatchProposal.number.desc()).limit(1)
    )


async def confirmed_proposal(session: AsyncSession, round_id: int) -> MatchProposal | None:
    return await session.scalar(
        select(MatchProposal)
        .where(MatchProposal.round_id == round_id, MatchProposal.status == "confirmed")
    )


async def confirm(session: AsyncSession, proposal: MatchProposal, by: str, now: datetime) -> bool:
    """Compare-and-set: the round goes from open to matched exactly once, whoever
    presses Confirm, however often, on whichever instance."""
    won = await session.execute(
        update(Round).where(Round.id == proposal.round_id, Round.status == "open")
        .values(status="matched")
    )
    if won.rowcount != 1:
        return False
    await session.execute(
        update(MatchProposal).where(MatchProposal.id == proposal.id)
        .values(status="confirmed", confirmed_by=by, confirmed_at=now)
    )
    return True


async def create_tandems(session: AsyncSession, round_id: int, pairs: list[dict[str, Any]],
                         now: datetime) -> list[Tandem]:
    for pair in pairs:
        await session.execute(
            dialect_insert(session, Tandem)
            .values(round_id=round_id, mentor_id=pair["mentor"], mentee_id=pair["mentee"],
                    score=pair["score"], explanation=pair["explanation"], status="active",
                    created_at=now)
            .on_conflict_do_nothing(index_elements=["round_id", "mentor_id", "mentee_id"])
        )
    return list(await session.scalars(
        select(Tandem).where(Tandem.round_id == round_id).order_by(Tandem.id)
    ))


async def audit(session: AsyncSession, platform: str, user_id: str, action: str,
                detail: dict[str, Any], now: datetime) -> None:
    session.add(AuditEntry(at=now, platform=platform, user_id=user_id, action=action,
                           detail=detail))
