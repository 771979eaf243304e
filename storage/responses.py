"""The responses table: what a person answered to a prompt (a reflection, the pulse,
the evaluation) and their answer to "do you want to continue?", at most one per
person, round, kind and period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Participant, Response

CONTINUE = "continue"


async def save_response(session: AsyncSession, participant_id: int, round_id: int,
                        kind: str, period: int, now: datetime, *, tandem_id: int | None = None,
                        rating: int | None = None, visibility: str = "private",
                        answers: dict[str, Any] | None = None) -> bool:
    """Create or update (never duplicate) a response; True if it is new."""
    existing = await session.scalar(
        select(Response.id).where(
            Response.participant_id == participant_id, Response.round_id == round_id,
            Response.kind == kind, Response.period == period,
        )
    )
    values = {"tandem_id": tandem_id, "rating": rating, "visibility": visibility,
              "answers": answers or {}, "updated_at": now}
    await session.execute(
        dialect_insert(session, Response)
        .values(participant_id=participant_id, round_id=round_id, kind=kind, period=period,
                created_at=now, **values)
        .on_conflict_do_update(
            index_elements=["participant_id", "round_id", "kind", "period"], set_=values
        )
    )
    return existing is None


async def response_of(session: AsyncSession, participant_id: int, round_id: int, kind: str,
                      period: int) -> Response | None:
    return await session.scalar(select(Response).where(
        Response.participant_id == participant_id, Response.round_id == round_id,
        Response.kind == kind, Response.period == period,
    ))


async def round_responses(session: AsyncSession, round_id: int) -> list[Response]:
    return list(await session.scalars(
        select(Response).where(Response.round_id == round_id).order_by(Response.id)))


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
