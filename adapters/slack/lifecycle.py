"""OAuth mode: an installation's lifecycle keeps people's reachability right.

``app_uninstalled`` and ``tokens_revoked`` delete the installation (bolt's own
listeners, through the store); ``team_access_revoked`` takes workspaces away
from an org-wide install. Either way the people last seen there are handed to
``conversations.workspace_access``: marked unreachable, their partners and the
coordinators told once. A re-install, or ``team_access_granted``, makes them
reachable again.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from adapters.slack.clients import Installations
from bot.host.runtime import Runtime
from conversations import owed, workspace_access
from storage import reachability

PLATFORM = "slack"


def register_lifecycle(app: AsyncApp, runtime: Runtime, installations: Installations) -> None:
    ctx = runtime.ctx

    async def people(enterprise_id: str | None, team_ids: list[str] | None) -> list[str]:
        async with runtime.db.reading() as session:
            return await reachability.users_in(session, PLATFORM, enterprise_id, team_ids)

    async def lost(enterprise_id: str | None, team_ids: list[str] | None) -> None:
        users = await people(enterprise_id, team_ids)
        where = ",".join(team_ids) if team_ids else (enterprise_id or "?")
        keys = await workspace_access.workspace_removed(ctx, PLATFORM, users, where)
        if keys:
            # Owed with the marks; sent after the ack (run_due would, too).
            runtime.background.start(owed.deliver(ctx, keys), "slack: workspace removed")

    async def back(enterprise_id: str | None, team_ids: list[str] | None) -> None:
        await workspace_access.workspace_restored(ctx, PLATFORM,
                                                  await people(enterprise_id, team_ids))

    async def removed(enterprise_id: str | None, team_id: str | None) -> None:
        await lost(enterprise_id, [team_id] if team_id else None)

    async def saved(enterprise_id: str | None, team_id: str | None, new: bool) -> None:
        if new:
            await back(enterprise_id, [team_id] if team_id else None)

    installations.store.on_removed.append(removed)
    installations.store.on_saved.append(saved)

    @app.event("team_access_revoked")
    async def on_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        teams = [str(team) for team in event.get("team_ids") or []]
        if teams:
            await lost(context.enterprise_id, teams)

    @app.event("team_access_granted")
    async def on_granted(event: dict[str, Any], context: AsyncBoltContext) -> None:
        teams = [str(team) for team in event.get("team_ids") or []]
        if teams:
            await back(context.enterprise_id, teams)
