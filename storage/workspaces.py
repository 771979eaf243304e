"""The workspaces table: a Slack workspace or a Teams tenant, one row each, made on
first sight."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Workspace


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
    # The row exists now: ours, or the one a concurrent caller inserted first.
    created = await session.execute(
        select(Workspace.id).where(
            Workspace.platform == platform, Workspace.external_id == external_id
        )
    )
    return created.scalar_one()
