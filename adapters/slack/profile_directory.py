"""The company directory from Slack's own profiles: every member of the workspace (or
of each workspace of an org-wide Enterprise Grid install), with the department and
the manager taken from the workspace's custom profile fields.

app.yaml names the fields by id (``Xf0123``) or by label (``Abteilung``);
``team.profile.get`` turns labels into ids, and a name the workspace does not
have is a config error that lists the fields it does have. ``users.list`` is
read page by page (``cursor``), deleted and deactivated members included: they
come back as gone, and the sync's leaver path takes it from there. Where a page
does not carry a member's custom fields, ``users.profile.get`` is asked for them.
Slack's 429s are waited out as their ``Retry-After`` says (slack_sdk's
``AsyncRateLimitErrorRetryHandler``). Scopes: ``users:read``, ``users:read.email``,
``users.profile:read``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import Clients, Reach
from bot.core.errors import ConfigError
from storage.directory import Record

SOURCE = "slack"
PAGE = 200
PROFILES_AT_ONCE = 4
#: A sync waits out Slack's rate limits in place: nobody is waiting for an answer.
RETRIES = 10
NOT_PEOPLE = ("USLACKBOT",)


def patient(client: AsyncWebClient) -> AsyncWebClient:
    """The same token and API, with 429s (and 5xx) retried after ``Retry-After``."""
    return AsyncWebClient(token=client.token, base_url=client.base_url,
                          retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RETRIES),
                                          AsyncServerErrorRetryHandler(max_retry_count=3)])


class SlackProfileSource:
    """``people()``: the workspace's members as directory records (see module doc)."""

    name = SOURCE

    def __init__(self, clients: Clients, fields: Mapping[str, str], config_source: str
                 ) -> None:
        self.clients, self.fields, self.config_source = clients, dict(fields), config_source

    async def people(self, progress: Callable[[str, int, int], None] | None = None
                     ) -> list[Record]:
        found: dict[str, Record] = {}
        for reach in await self.clients.every():
            client = patient(reach.client)
            for team in await _teams(client, reach):
                ids = await self._field_ids(client, team)
                async for record in self._members(client, team, ids):
                    # On Grid one person is a member of several workspaces: once.
                    found.setdefault(record.key, record)
                    if progress is not None:
                        progress(SOURCE, len(found), 0)
        return list(found.values())

    async def probe(self) -> str:
        """For ``tandem doctor``: the fields app.yaml names, as the first workspace has
        them (``team.profile.get`` needs ``users.profile:read``)."""
        reaches = await self.clients.every()
        if not reaches:
            return "–"
        client = patient(reaches[0].client)
        ids = await self._field_ids(client, (await _teams(client, reaches[0]))[0])
        return ", ".join(f"{name} = {self.fields[name]} ({ids[name]})" for name in ids)

    async def _field_ids(self, client: AsyncWebClient, team: dict[str, str]
                         ) -> dict[str, str]:
        """app.yaml's field names -> the workspace's field ids (a config error if unknown)."""
        answer = await client.team_profile_get(**team)
        fields = [f for f in ((answer.get("profile") or {}).get("fields") or [])
                  if isinstance(f, dict) and isinstance(f.get("id"), str)]
        ids: dict[str, str] = {}
        for name, wanted in self.fields.items():
            match = next((f for f in fields if f["id"] == wanted), None) or next(
                (f for f in fields
                 if str(f.get("label") or "").strip().casefold() == wanted.strip().casefold()),
                None)
            if match is None:
                known = ", ".join(f"{f.get('label')} ({f['id']})" for f in fields) or "–"
                raise ConfigError(self.config_source, f"directory.slack.{name}",
                                  "config.problem.slack_field_unknown", name=wanted,
                                  fields=known)
            if name == "manager" and match.get("type") not in (None, "user"):
                raise ConfigError(self.config_source, "directory.slack.manager",
                                  "config.problem.slack_field_not_user", name=wanted,
                                  type=str(match.get("type")))
            ids[name] = match["id"]
        return ids

    async def _members(self, client: AsyncWebClient, team: dict[str, str],
                       ids: dict[str, str]) -> Any:
        cursor: str | None = None
        gate = asyncio.Semaphore(PROFILES_AT_ONCE)

        async def record(member: dict[str, Any]) -> Record:
            profile = member.get("profile") or {}
            values = profile.get("fields")
            if not isinstance(values, dict) and ids and not _gone(member):
                async with gate:
                    answer = await client.users_profile_get(user=member["id"])
                values = (answer.get("profile") or {}).get("fields")
            return _record(member, values if isinstance(values, dict) else {}, ids)

        while True:
            page = await client.users_list(limit=PAGE, include_locale=True,
                                           **({"cursor": cursor} if cursor else {}), **team)
            members = [m for m in page.get("members") or []
                       if isinstance(m, dict) and isinstance(m.get("id"), str)
                       and not m.get("is_bot") and m["id"] not in NOT_PEOPLE]
            for done in await asyncio.gather(*(record(m) for m in members)):
                yield done
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return


async def _teams(client: AsyncWebClient, reach: Reach) -> list[dict[str, str]]:
    """``team_id`` for each call: one workspace's own token needs none; an org-wide
    Grid token names each workspace the app is installed in (``auth.teams.list``)."""
    if reach.team_id:
        return [{"team_id": reach.team_id}]
    if not reach.key.startswith("E"):
        return [{}]
    teams: list[dict[str, str]] = []
    cursor: str | None = None
    while True:
        answer = await client.auth_teams_list(limit=100, cursor=cursor)
        teams += [{"team_id": t["id"]} for t in answer.get("teams") or []
                  if isinstance(t, dict) and isinstance(t.get("id"), str)]
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return teams


def _gone(member: Mapping[str, Any]) -> bool:
    return bool(member.get("deleted"))


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _field(values: Mapping[str, Any], field_id: str | None) -> str | None:
    entry = values.get(field_id) if field_id else None
    return _text(entry.get("value")) if isinstance(entry, Mapping) else None


def _record(member: Mapping[str, Any], values: Mapping[str, Any], ids: Mapping[str, str]
            ) -> Record:
    """A member as a record: the Slack user id is the key and the Slack account."""
    user_id = str(member["id"])
    profile = member.get("profile") or {}
    manager = _field(values, ids.get("manager"))
    # A user field may hold several people: the first is the manager.
    manager = (manager or "").replace(" ", "").split(",")[0] or None
    return Record(
        key=user_id, email=_text(profile.get("email")),
        display_name=_text(profile.get("real_name")) or _text(profile.get("display_name"))
        or _text(member.get("real_name")) or _text(member.get("name")),
        department=_field(values, ids.get("department")), manager_key=manager,
        job_title=_text(profile.get("title")),
        preferred_language=(_text(member.get("locale")) or "")[:16] or None,
        active=not _gone(member), accounts=(("slack", user_id),))
