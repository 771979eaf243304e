"""The company's Outlook calendars through Microsoft Graph, app-only with the bot's own
app registration (the same MSAL client credentials as the directory sync).

- Free/busy: ``POST /users/{organiser}/calendar/getSchedule`` for both mailboxes
  (application permission ``Calendars.Read``; ``findMeetingTimes`` is delegated only).
  Items whose status is not ``free`` or ``workingElsewhere`` count as busy.
- The meeting: ``POST /users/{organiser}/events`` with both partners as attendees and
  a Teams link (``isOnlineMeeting``, ``teamsForBusiness``), and a ``transactionId``
  fixed per meeting version, so that a retry gives the same event; ``PATCH`` moves
  it (one deleted in Outlook meanwhile is made anew), ``DELETE`` cancels it
  (``Calendars.ReadWrite``).
- A 403 (permission not granted, mailbox not found) raises ``CalendarDenied``; a 429
  or 503 is retried after its ``Retry-After`` (``GraphSource.call``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.core.errors import TandemError
from bot.core.invites import Attendee, Invite
from bot.graph_directory import GraphSettings, GraphSource
from conversations.calendars import CalendarDenied

FREE = frozenset({"free", "workingelsewhere"})
#: Graph's Teams meetings for work and school accounts.
PROVIDER = "teamsForBusiness"


class CalendarFailed(TandemError):
    """Microsoft Graph answered something else than expected; retried later."""

    def __init__(self, detail: str) -> None:
        super().__init__("meetings.calendar_failed", detail=detail)


class GraphCalendar:
    """``conversations.calendars.Calendar`` on Microsoft Graph."""

    def __init__(self, settings: GraphSettings,
                 sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self.graph = GraphSource(settings, sleep)

    async def _ask(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                   fine: tuple[int, ...] = (200, 201)) -> Any:
        token = await asyncio.to_thread(self.graph._token)
        async with aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {token}"},
                timeout=aiohttp.ClientTimeout(total=60)) as http:
            status, answer = await self.graph.call(
                http, method, f"{self.graph.settings.graph_url}{path}", body)
        if status in fine:
            return answer
        detail = f"{method} {path.split('?')[0]} answered {status}: {str(answer)[:300]}"
        if status == 403 or (status == 404 and method != "DELETE"):
            raise CalendarDenied(detail)
        raise CalendarFailed(detail)

    async def busy(self, mailboxes: Sequence[str], start: datetime, end: datetime
                   ) -> list[tuple[datetime, datetime]]:
        answer = await self._ask("POST", f"/users/{_user(mailboxes[0])}/calendar/getSchedule",
                                 {"schedules": list(mailboxes), "startTime": _when(start),
                                  "endTime": _when(end), "availabilityViewInterval": 30})
        busy: list[tuple[datetime, datetime]] = []
        for schedule in answer.get("value", []) if isinstance(answer, dict) else []:
            for item in schedule.get("scheduleItems") or []:
                if str(item.get("status", "")).lower() not in FREE:
                    busy.append((_instant(item["start"]), _instant(item["end"])))
        return busy

    async def save_event(self, invite: Invite, event_id: str | None) -> str:
        organiser = invite.organizer.email
        if organiser is None:
            raise CalendarDenied("no mailbox known for the organiser")
        body: dict[str, Any] = {
            "subject": invite.summary,
            "body": {"contentType": "text", "content": invite.description},
            "start": _when(invite.start), "end": _when(invite.end),
            "attendees": [_attendee(a) for a in invite.attendees if a.email],
            "isOnlineMeeting": True, "onlineMeetingProvider": PROVIDER}
        made: Any = None
        if event_id is not None:
            # An event deleted in Outlook meanwhile (404) is made anew below.
            made = await self._ask(
                "PATCH", f"/users/{_user(organiser)}/events/{quote(event_id, safe='')}", body,
                fine=(200, 404))
        if not (isinstance(made, dict) and made.get("id")):
            body["transactionId"] = f"{invite.uid}/{invite.sequence}"
            made = await self._ask("POST", f"/users/{_user(organiser)}/events", body)
        if not isinstance(made, dict) or not made.get("id"):
            raise CalendarFailed(f"the event came back without an id: {str(made)[:200]}")
        return str(made["id"])

    async def cancel_event(self, organiser: str, event_id: str) -> None:
        await self._ask("DELETE", f"/users/{_user(organiser)}/events/{quote(event_id, safe='')}",
                        fine=(200, 204, 404))


def _user(mailbox: str) -> str:
    return quote(mailbox, safe="@")


def _when(moment: datetime) -> dict[str, str]:
    """Graph's dateTimeTimeZone, in UTC."""
    return {"dateTime": moment.astimezone(UTC).replace(tzinfo=None).isoformat(
        timespec="seconds"), "timeZone": "UTC"}


def _instant(value: Mapping[str, Any]) -> datetime:
    """A dateTimeTimeZone Graph returned (UTC unless a Prefer header said otherwise)."""
    text = str(value["dateTime"])
    moment = datetime.fromisoformat(text.split(".")[0])
    if str(value.get("timeZone", "UTC")).upper() not in ("UTC", "ETC/UTC"):
        raise CalendarFailed(f"free/busy in zone {value.get('timeZone')!r}, not UTC")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _attendee(person: Attendee) -> dict[str, Any]:
    return {"emailAddress": {"address": person.email, "name": person.name},
            "type": "required"}


def calendar_for(tenant: str | None, env: Mapping[str, str]) -> GraphCalendar | None:
    """The calendars app.yaml names (``meetings.graph_tenant_id``), or None."""
    return None if tenant is None else GraphCalendar(GraphSettings.from_env(tenant, env))
