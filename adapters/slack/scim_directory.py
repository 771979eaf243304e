"""The company directory from Slack's SCIM API (Business+ and Enterprise Grid).

An Org or Workspace admin's token with the ``admin`` scope (``SLACK_SCIM_TOKEN``)
reads ``GET {url}/Users`` page by page (``startIndex``, ``count``): every user,
deactivated ones included (``active: false``: gone, and the sync's leaver path
takes it from there), with the enterprise extension's ``department`` and
``manager.value`` (the manager's Slack user id). A 429 (or 503) is waited out as
its ``Retry-After`` says. app.yaml's ``directory.scim.url`` points it elsewhere
(``/scim/v1`` answers with the 1.0 extension, read the same way).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from bot.core.errors import ENVIRONMENT, ConfigError, TandemError
from bot.core.retry_after import retry_after_seconds
from storage.directory import Record

log = logging.getLogger(__name__)
SOURCE = "slack-scim"
TOKEN_VARIABLE = "SLACK_SCIM_TOKEN"
PAGE = 1000
ATTEMPTS = 8
EXTENSIONS = ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
              "urn:scim:schemas:extension:enterprise:1.0")


class ScimError(TandemError):
    """Slack's SCIM API refused or kept failing; ``detail`` says what it answered."""

    def __init__(self, detail: str) -> None:
        super().__init__("directory.scim_failed", detail=detail)


class ScimSource:
    """``people()``: every SCIM user as a directory record (see module doc)."""

    name = SOURCE

    def __init__(self, url: str, token: str, page: int = PAGE,
                 sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self.url, self.token, self.page, self.sleep = url.rstrip("/"), token, page, sleep

    @classmethod
    def from_env(cls, url: str, env: Mapping[str, str]) -> ScimSource:
        token = (env.get(TOKEN_VARIABLE) or "").strip()
        if not token:
            raise ConfigError(ENVIRONMENT, TOKEN_VARIABLE, "config.problem.scim_needs_token")
        return cls(url, token)

    async def people(self, progress: Callable[[str, int, int], None] | None = None
                     ) -> list[Record]:
        records: dict[str, Record] = {}
        start = 1
        async with aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self.token}",
                         "Accept": "application/scim+json, application/json"},
                timeout=aiohttp.ClientTimeout(total=120)) as http:
            while True:
                page = await self._page(http, start)
                users = [u for u in page.get("Resources") or [] if isinstance(u, dict)]
                for user in users:
                    record = _record(user)
                    if record is not None:
                        records.setdefault(record.key, record)
                total = page.get("totalResults")
                if progress is not None:
                    progress(SOURCE, len(records), total if isinstance(total, int) else 0)
                start += len(users)
                if not users or (isinstance(total, int) and start > total):
                    return list(records.values())

    async def probe(self) -> str:
        """For ``tandem doctor``: one user asked for; how many the API holds."""
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.token}"},
                                         timeout=aiohttp.ClientTimeout(total=30)) as http:
            page = await self._page(http, 1, 1)
        return str(page.get("totalResults", "?"))

    async def _page(self, http: aiohttp.ClientSession, start: int, count: int | None = None
                    ) -> dict[str, Any]:
        url = f"{self.url}/Users"
        for attempt in range(ATTEMPTS):
            async with http.get(url, params={"startIndex": str(start),
                                             "count": str(count or self.page)}) as answer:
                last = attempt + 1 == ATTEMPTS
                if answer.status in (429, 503) and not last:
                    wait = retry_after_seconds(answer.headers.get("Retry-After"), attempt)
                    log.info("slack scim answered %s: retrying in %.0f s", answer.status, wait)
                    await self.sleep(wait)
                    continue
                body = await answer.text()
                if answer.status != 200:
                    raise ScimError(f"GET /Users answered {answer.status}: {body[:300]}")
                try:
                    page = json.loads(body)
                except ValueError:
                    raise ScimError(f"GET /Users answered no JSON: {body[:300]}") from None
                return page if isinstance(page, dict) else {}
        raise AssertionError("unreachable: the last attempt returns or raises")


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _email(user: Mapping[str, Any]) -> str | None:
    emails = [e for e in user.get("emails") or [] if isinstance(e, Mapping)]
    chosen = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    return _text(chosen.get("value")) if chosen else None


def _name(user: Mapping[str, Any]) -> str | None:
    given = user.get("name")
    name: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    parts = [_text(name.get("givenName")), _text(name.get("familyName"))]
    return _text(user.get("displayName")) or " ".join(p for p in parts if p) or _text(
        user.get("userName"))


def _record(user: Mapping[str, Any]) -> Record | None:
    """A SCIM user as a record: its id (the Slack user id) is the key and the account."""
    user_id = _text(user.get("id"))
    if user_id is None:
        return None
    extension: Mapping[str, Any] = next(
        (user[name] for name in EXTENSIONS if isinstance(user.get(name), Mapping)), {})
    manager = extension.get("manager")
    manager_id = _text(manager.get("value") or manager.get("managerId")) if isinstance(
        manager, Mapping) else None
    return Record(
        key=user_id, email=_email(user), display_name=_name(user),
        department=_text(extension.get("department")), manager_key=manager_id,
        job_title=_text(user.get("title")),
        preferred_language=(_text(user.get("preferredLanguage")) or _text(user.get("locale"))
                            or "")[:16] or None,
        active=user.get("active") is not False, accounts=(("slack", user_id),))
