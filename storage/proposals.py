"""The match_proposals and match_rules tables: matching results shown to
coordinators (at most one per round confirmed) and their pins and blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
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
    """The round's first confirmed proposal (later ones matched people into it running)."""
    return await session.scalar(
        select(MatchProposal)
        .where(MatchProposal.round_id == round_id, MatchProposal.status == ProposalStatus.CONFIRMED)
        .order_by(MatchProposal.number).limit(1)
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
    await _forget_adjustments(session, proposal.round_id)
    return True


async def confirm_running(session: AsyncSession, proposal: MatchProposal, by: str,
                          now: datetime) -> bool:
    """Compare-and-set for a proposal that matches people into a running round: the
    draft becomes confirmed exactly once, and only while its round is matched."""
    running = select(Round.id).where(Round.id == proposal.round_id,
                                     Round.status == RoundStatus.MATCHED)
    won = await session.execute(
        update(MatchProposal)
        .where(MatchProposal.id == proposal.id, MatchProposal.status == ProposalStatus.DRAFT,
               MatchProposal.round_id.in_(running))
        .values(status=ProposalStatus.CONFIRMED, confirmed_by=by, confirmed_at=now)
    )
    if rows_changed(won) != 1:
        return False
    await _forget_adjustments(session, proposal.round_id)
    return True


async def _forget_adjustments(session: AsyncSession, round_id: int) -> None:
    """Pins and blocks serve one review: the next matching into the round starts afresh."""
    await session.execute(delete(MatchRule).where(MatchRule.round_id == round_id,
                                                  MatchRule.kind.in_(("pin", "block"))))
