"""Installations made through a platform's OAuth flow, and the flow's one-time states.

Neutral on purpose: the adapter turns its SDK's installation objects into these
columns and back, and encrypts the tokens before they reach here. An absent
enterprise or team is stored as '' (see ``models.Installation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Installation, OAuthState


@dataclass(frozen=True)
class Stored:
    enterprise_id: str | None
    team_id: str | None
    is_enterprise_install: bool
    installer_user_id: str | None
    secrets: str
    expires_at: datetime | None
    data: dict[str, Any]
    installed_at: datetime


def _key(value: str | None) -> str:
    return value or ""


def _stored(row: Installation) -> Stored:
    return Stored(row.enterprise_id or None, row.team_id or None, row.is_enterprise_install,
                  row.installer_user_id, row.secrets, row.expires_at, dict(row.data or {}),
                  row.installed_at)


async def save(session: AsyncSession, platform: str, item: Stored, now: datetime) -> bool:
    """Create or replace the installation of a workspace (or an org); True when there
    was none before (a first install or a re-install after an uninstall)."""
    before = await session.scalar(select(Installation.id).where(
        Installation.platform == platform,
        Installation.enterprise_id == _key(item.enterprise_id),
        Installation.team_id == _key(item.team_id)))
    values = {"is_enterprise_install": item.is_enterprise_install,
              "installer_user_id": item.installer_user_id, "secrets": item.secrets,
              "expires_at": item.expires_at, "data": item.data,
              "installed_at": item.installed_at, "updated_at": now}
    await session.execute(
        dialect_insert(session, Installation)
        .values(platform=platform, enterprise_id=_key(item.enterprise_id),
                team_id=_key(item.team_id), **values)
        .on_conflict_do_update(index_elements=["platform", "enterprise_id", "team_id"],
                               set_=values))
    return before is None


async def find(session: AsyncSession, platform: str, enterprise_id: str | None,
               team_id: str | None) -> Stored | None:
    row = await session.scalar(select(Installation).where(
        Installation.platform == platform, Installation.enterprise_id == _key(enterprise_id),
        Installation.team_id == _key(team_id)))
    return None if row is None else _stored(row)


async def remove(session: AsyncSession, platform: str, enterprise_id: str | None,
                 team_id: str | None) -> bool:
    """Forget an installation (uninstalled, or its bot token revoked); True if it existed."""
    result = await session.execute(delete(Installation).where(
        Installation.platform == platform, Installation.enterprise_id == _key(enterprise_id),
        Installation.team_id == _key(team_id)))
    return bool(getattr(result, "rowcount", 0))


async def every(session: AsyncSession, platform: str) -> list[Stored]:
    rows = await session.scalars(select(Installation).where(Installation.platform == platform)
                                 .order_by(Installation.id))
    return [_stored(row) for row in rows]


async def count(session: AsyncSession, platform: str) -> int:
    found = await session.scalar(select(func.count(Installation.id))
                                 .where(Installation.platform == platform))
    return int(found or 0)


async def issue_state(session: AsyncSession, state: str, expires_at: datetime) -> None:
    session.add(OAuthState(state=state, expires_at=expires_at))


async def consume_state(session: AsyncSession, state: str, now: datetime) -> bool:
    """True once for a state issued and not yet expired; it is gone afterwards."""
    result = await session.execute(delete(OAuthState).where(
        OAuthState.state == state, OAuthState.expires_at > now))
    await session.execute(delete(OAuthState).where(OAuthState.expires_at <= now))
    return bool(getattr(result, "rowcount", 0))
