"""Reading and writing workspaces, rounds and participants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ensure_aware
from bot.core.config import RoundSettings
from storage.models import Participant, Round, Tandem, Workspace


def dialect_insert(session: AsyncSession, model: Any) -> Any:
    """An INSERT that knows its database's ON CONFLICT clause (the same SQL on both)."""
    name = session.bind.dialect.name if session.bind else "sqlite"
    return (pg_insert if name == "postgresql" else sqlite_insert)(model)


async def workspace_id(
    session: AsyncSession, platform: str, external_id: str, now: datetime
) -> int:
    """The row id of a workspace, created on first sight (safe under concurrency)."""
    found = await session.scalar(
        select(Workspace.id).where(
            Workspace.platform == platform, Workspace.external_id == external_id
        )
    )
    if found is not None:
        return found
    await session.execute(
        dialect_insert(session, Workspace)
        .values(platform=platform, external_id=external_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
    )
    return await session.scalar(
        select(Workspace.id).where(
            Workspace.platform == platform, Workspace.external_id == external_id
        )
    )


def _round_values(settings: RoundSettings) -> dict[str, Any]:
    return {
        "signup_opens_at": settings.signup_opens,
        "signup_closes_at": settings.signup_closes,
        "starts_at": settings.starts,
        "length_months": settings.length_months,
        "meetings_per_month": settings.meetings_per_month,
    }


def _agrees(found: Round, settings: RoundSettings) -> bool:
    values = {**_round_values(settings), **decode_overrides(found.overrides)}
    return all(getattr(found, k) == v for k, v in values.items())


async def synced_round(session: AsyncSession, settings: RoundSettings) -> Round | None:
    """The current round if the table already agrees with app.yaml (reads only, the
    case on every request and tick); None when ``sync_round`` must write."""
    found = await session.scalar(select(Round).where(Round.name == settings.name))
    if found is None or not _agrees(found, settings):
        return None
    return await _latest(session, found)


async def sync_round(session: AsyncSession, settings: RoundSettings, now: datetime) -> Round:
    """The current round: the one app.yaml describes, created or updated to match it.

    Changes a coordinator made in chat (``Round.overrides``) are applied on top
    of app.yaml, so a sync never undoes them; a round started in chat after it
    (``Round.followed_by``) takes its place as the current round.
    """
    found = await session.scalar(select(Round).where(Round.name == settings.name))
    if found is not None and _agrees(found, settings):
        return await _latest(session, found)
    values = _round_values(settings)
    if found is not None:
        values.update(decode_overrides(found.overrides))
    await session.execute(
        dialect_insert(session, Round)
        .values(name=settings.name, status="open", created_at=now, **values)
        .on_conflict_do_update(index_elements=["name"], set_=values)
    )
    found = await session.scalar(
        select(Round).where(Round.name == settings.name).execution_options(populate_existing=True)
    )
    assert found is not None
    return await _latest(session, found)


async def _latest(session: AsyncSession, found: Round) -> Round:
    seen = {found.id}
    while found.followed_by is not None and found.followed_by not in seen:
        following = await session.get(Round, found.followed_by)
        if following is None:
            break
        seen.add(following.id)
        found = following
    return found


#: The round fields a coordinator can change in chat, and how they are stored.
OVERRIDABLE = ("signup_opens_at", "signup_closes_at", "length_months")


def decode_overrides(overrides: dict[str, Any] | None) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key in ("signup_opens_at", "signup_closes_at") and isinstance(value, str):
            decoded[key] = ensure_aware(datetime.fromisoformat(value))
        elif key == "length_months" and isinstance(value, int):
            decoded[key] = value
    return decoded


def encode_overrides(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


async def find_participant(
    session: AsyncSession, workspace: int, user_id: str
) -> Participant | None:
    return await session.scalar(
        select(Participant).where(
            Participant.workspace_id == workspace, Participant.user_id == user_id
        )
    )


async def find_by_user(session: AsyncSession, platform: str, user_id: str) -> Participant | None:
    return await session.scalar(
        select(Participant)
        .where(Participant.platform == platform, Participant.user_id == user_id)
        .order_by(Participant.id)
        .limit(1)
    )


async def tandems_of(session: AsyncSession, participant: Participant) -> list[Tandem]:
    return list(
        await session.scalars(
            select(Tandem)
            .where(
                (Tandem.mentor_id == participant.id) | (Tandem.mentee_id == participant.id),
                Tandem.status == "active",
            )
            .order_by(Tandem.id)
        )
    )


async def participant_by_id(session: AsyncSession, participant_id: int) -> Participant | None:
    return await session.get(Participant, participant_id)


async def round_named(
    session: AsyncSession, settings: RoundSettings, name: str, now: datetime
) -> Round | None:
    """The round called ``name``: app.yaml's current one (synced), or an earlier one."""
    if name == settings.name:
        return await sync_round(session, settings, now)
    return await session.scalar(select(Round).where(Round.name == name))
