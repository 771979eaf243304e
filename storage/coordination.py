"""Coordinator actions waiting for a button, chat overrides of rounds, and the
answers to "do you want to continue?"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CoordinatorAction, Participant, Response, Round, Tandem
from storage.participants import OVERRIDABLE, dialect_insert, encode_overrides

PENDING, DONE, CANCELLED = "pending", "done", "cancelled"
CONTINUE = "continue"


async def create_action(session: AsyncSession, kind: str, platform: str, by: str,
                        round_id: int | None, payload: dict[str, Any], now: datetime
                        ) -> CoordinatorAction:
    action = CoordinatorAction(kind=kind, platform=platform, created_by=by, round_id=round_id,
                               payload=payload, status=PENDING, created_at=now)
    session.add(action)
    await session.flush()
    return action


async def update_payload(session: AsyncSession, action_id: int, payload: dict[str, Any]
                         ) -> bool:
    """Change a pending action (an edited draft); False once it was decided."""
    changed = await session.execute(
        update(CoordinatorAction)
        .where(CoordinatorAction.id == action_id, CoordinatorAction.status == PENDING)
        .values(payload=payload)
    )
    return changed.rowcount == 1


async def decide(session: AsyncSession, action_id: int, status: str, by: str, now: datetime
                 ) -> bool:
    """Compare-and-set from pending: True for exactly one caller."""
    won = await session.execute(
        update(CoordinatorAction)
        .where(CoordinatorAction.id == action_id, CoordinatorAction.status == PENDING)
        .values(status=status, decided_by=by, decided_at=now)
    )
    return won.rowcount == 1


async def override_round(session: AsyncSession, round_id: int, changes: dict[str, Any]
                         ) -> Round:
    """Set round fields and remember them as chat overrides, which app.yaml syncs keep."""
    current = await session.get(Round, round_id, populate_existing=True)
    assert current is not None
    remembered = {k: v for k, v in changes.items() if k in OVERRIDABLE}
    overrides = {**(current.overrides or {}), **encode_overrides(remembered)}
    await session.execute(
        update(Round).where(Round.id == round_id).values(overrides=overrides, **changes)
    )
    refreshed = await session.get(Round, round_id, populate_existing=True)
    assert refreshed is not None
    return refreshed


async def round_by_name(session: AsyncSession, name: str) -> Round | None:
    return await session.scalar(select(Round).where(Round.name == name))


async def create_following_round(session: AsyncSession, previous: Round, values: dict[str, Any],
                                 now: datetime) -> Round:
    following = Round(status="open", created_at=now, **values)
    session.add(following)
    await session.flush()
    await session.execute(
        update(Round).where(Round.id == previous.id).values(followed_by=following.id)
    )
    return following


async def end_tandems(session: AsyncSession, round_id: int) -> None:
    await session.execute(
        update(Tandem).where(Tandem.round_id == round_id, Tandem.status == "active")
        .values(status="ended")
    )


async def round_people(session: AsyncSession, round_id: int) -> list[Participant]:
    """Everyone still in a round (not left, not erased)."""
    return list(await session.scalars(
        select(Participant)
        .where(Participant.round_id == round_id,
               Participant.status.in_(("active", "paused")))
        .order_by(Participant.id)
    ))


async def partner_of(session: AsyncSession, participant_id: int, round_id: int
                     ) -> Participant | None:
    tandem = await session.scalar(
        select(Tandem).where(
            Tandem.round_id == round_id,
            (Tandem.mentor_id == participant_id) | (Tandem.mentee_id == participant_id),
        ).order_by(Tandem.id.desc()).limit(1)
    )
    if tandem is None:
        return None
    other = tandem.mentee_id if tandem.mentor_id == participant_id else tandem.mentor_id
    return await session.get(Participant, other)


async def record_continuation(session: AsyncSession, participant: Participant, round_id: int,
                              choice: str, now: datetime) -> None:
    values = {"answers": {"choice": choice}, "updated_at": now}
    await session.execute(
        dialect_insert(session, Response)
        .values(participant_id=participant.id, round_id=round_id, kind=CONTINUE, period=0,
                visibility="coordinators", created_at=now, **values)
        .on_conflict_do_update(
            index_elements=["participant_id", "round_id", "kind", "period"], set_=values)
    )


async def continuation_of(session: AsyncSession, participant_id: int, round_id: int
                          ) -> str | None:
    response = await session.scalar(
        select(Response).where(Response.participant_id == participant_id,
                               Response.round_id == round_id, Response.kind == CONTINUE)
    )
    return None if response is None else response.answers.get("choice")


async def continuation_counts(session: AsyncSession, round_id: int) -> dict[str, int]:
    """How many answered "new partner", "same partner" and "not this time"."""
    rows = await session.scalars(
        select(Response.answers).where(Response.round_id == round_id, Response.kind == CONTINUE)
    )
    counts: dict[str, int] = {}
    for answers in rows:
        choice = str((answers or {}).get("choice"))
        counts[choice] = counts.get(choice, 0) + 1
    return counts
