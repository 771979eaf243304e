"""The match_proposals and match_rules tables: matching results shown to
coordinators (at most one per round confirmed) and their pins and blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import MatchProposal, MatchRule, ProposalStatus, Round, RoundStatus
from storage.results import rows_changed


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
    proposal = MatchProposal(round_id=round_id, number=number, status=ProposalStatus.DRAFT,
                             created_by=by, created_at=now, result=result)
    session.add(proposal)
    await session.flush()
    return proposal


async def proposal_by_id(session: AsyncSession, proposal_id: int) -> MatchProposal | None:
    return await session.get(MatchProposal, proposal_id)


async def latest_proposal(session: AsyncSession, round_id: int) -> MatchProposal | None:
    return await session.scalar(
        select(MatchProposal).where(MatchProposal.round_id == round_id)
        .order_by(MatchProposal.number.desc()).limit(1)
    )


async def confirmed_proposal(session: AsyncSession, round_id: int) -> MatchProposal | None:
    return await session.scalar(
        select(MatchProposal)
        .where(MatchProposal.round_id == round_id, MatchProposal.status == ProposalStatus.CONFIRMED)
    )


async def confirm(session: AsyncSession, proposal: MatchProposal, by: str, now: datetime) -> bool:
    """Compare-and-set: the round goes from open to matched exactly once, whoever
    presses Confirm, however often, on whichever instance."""
    won = await session.execute(
        update(Round).where(Round.id == proposal.round_id, Round.status == RoundStatus.OPEN)
        .values(status=RoundStatus.MATCHED)
    )
    if rows_changed(won) != 1:
        return False
    await session.execute(
        update(MatchProposal).where(MatchProposal.id == proposal.id)
        .values(status=ProposalStatus.CONFIRMED, confirmed_by=by, confirmed_at=now)
    )
    return True
