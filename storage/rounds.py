"""The rounds table: the current round (app.yaml's, synced, with the changes
coordinators made in chat on top), earlier rounds by name or id, and the round a
coordinator starts after the current one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ensure_aware
from bot.core.config import RoundSettings
from storage.dialect import dialect_insert
from storage.models import Round, RoundStatus


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
        .values(name=settings.name, status=RoundStatus.OPEN, created_at=now, **values)
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


async def round_named(
    session: AsyncSession, settings: RoundSettings, name: str, now: datetime
) -> Round | None:
    """The round called ``name``: app.yaml's current one (synced), or an earlier one."""
    if name == settings.name:
        return await sync_round(session, settings, now)
    return await round_by_name(session, name)


async def round_by_name(session: AsyncSession, name: str) -> Round | None:
    return await session.scalar(select(Round).where(Round.name == name))


async def all_rounds(session: AsyncSession) -> list[Round]:
    return list(await session.scalars(select(Round).order_by(Round.id)))


async def round_by_id(session: AsyncSession, round_id: int | None) -> Round | None:
    """The round with this id; None for none (an action about no round, say)."""
    return None if round_id is None else await session.get(Round, round_id)


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


async def create_following_round(session: AsyncSession, previous: Round, values: dict[str, Any],
                                 now: datetime) -> Round:
    following = Round(status=RoundStatus.OPEN, created_at=now, **values)
    session.add(following)
    await session.flush()
    await session.execute(
        update(Round).where(Round.id == previous.id).values(followed_by=following.id)
    )
    return following


async def end_round(session: AsyncSession, round_id: int) -> None:
    await session.execute(
        update(Round).where(Round.id == round_id).values(status=RoundStatus.ENDED))


async def preceding_round_id(session: AsyncSession, round_id: int) -> int | None:
    """The round that ``round_id`` was started after in chat, if any."""
    return await session.scalar(select(Round.id).where(Round.followed_by == round_id))
