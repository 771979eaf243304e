"""The company directory from Microsoft Graph: every user of the tenant with their
manager, read app-only with the bot's own app registration; and, for the CSV
import, Teams users found by the e-mail column (``GraphUserLookup``).

The token comes from MSAL (client credentials: ``MICROSOFT_APP_ID``,
``MICROSOFT_APP_PASSWORD``; the tenant grants ``User.Read.All``); ``GET /users``
with ``$select`` of the directory's fields and ``$expand=manager``, 999 a page,
following ``@odata.nextLink``. A 429 or 503 is retried after its ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from bot.core.errors import ENVIRONMENT, ConfigError, TandemError
from bot.core.retry_after import retry_after_seconds
from bot.core.settings import variable
from storage.directory import Record

log = logging.getLogger(__name__)
LOGIN = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com/v1.0"
SCOPE = "https://graph.microsoft.com/.default"
FIELDS = ("id", "displayName", "mail", "userPrincipalName", "department", "jobTitle",
          "officeLocation", "preferredLanguage", "accountEnabled")
PAGE = 999
RETRIES = 8
RETRY_STATUS = (429, 502, 503, 504)
#: Graph's JSON batching takes at most 20 requests at once.
BATCH = 20


class GraphError(TandemError):
    """Microsoft Graph refused or kept failing; ``detail`` says what it answered."""

    def __init__(self, detail: str) -> None:
        super().__init__("directory.graph_failed", detail=detail)


@dataclass(frozen=True)
class GraphSettings:
    tenant: str
    client_id: str = field(repr=False)
    secret: str = field(repr=False)
    login_url: str = LOGIN
    graph_url: str = GRAPH
    #: A CA bundle for a TLS-inspecting proxy (or a test's own certificate authority).
    ca_bundle: str | None = None

    @classmethod
    def from_env(cls, tenant: str, env: Mapping[str, str]) -> GraphSettings:
        client_id, secret = variable(env, "MICROSOFT_APP_ID"), variable(
            env, "MICROSOFT_APP_PASSWORD")
        if not client_id or not secret:
            raise ConfigError(ENVIRONMENT, "MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD",
                              "config.problem.graph_needs_app")
        return cls(tenant, client_id, secret,
                   (variable(env, "MICROSOFT_LOGIN_URL") or LOGIN).rstrip("/"),
                   (variable(env, "MICROSOFT_GRAPH_URL") or GRAPH).rstrip("/"),
                   variable(env, "MICROSOFT_GRAPH_CA_BUNDLE"))


class GraphSource:
    """``people()``: the tenant's users as directory records."""

    name = "graph"

    def __init__(self, settings: GraphSettings,
                 sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self.settings = settings
        self.sleep = sleep
        self.app: Any = None
        self.ssl: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=settings.ca_bundle) if settings.ca_bundle
            else True)

    def _token(self) -> str:
        """An app-only token (blocking: MSAL uses requests; called in a thread)."""
        if self.app is None:
            import msal

            settings = self.settings
            http: Any = None
            if settings.ca_bundle:
                import requests

                # requests would prefer REQUESTS_CA_BUNDLE from the environment over
                # the bundle named for Graph: this session does not read it.
                http = requests.Session()
                http.trust_env, http.verify = False, settings.ca_bundle
            # Building the app already asks the tenant's OpenID configuration.
            self.app = msal.ConfidentialClientApplication(
                settings.client_id, client_credential=settings.secret,
                authority=f"{settings.login_url}/{settings.tenant}",
                # Only the public cloud's authority is known to MSAL's instance
                # discovery; another (MICROSOFT_LOGIN_URL) is taken as given.
                instance_discovery=None if settings.login_url == LOGIN else False,
                http_client=http, timeout=60)
        answer = self.app.acquire_token_for_client(scopes=[SCOPE])
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not token:
            error = answer.get("error_description") or answer.get("error") if isinstance(
                answer, dict) else "no answer"
            raise GraphError(f"no token for tenant {self.settings.tenant}: {error}")
        return str(token)

    async def people(self, progress: Callable[[str, int, int], None] | None = None
                     ) -> list[Record]:
        token = await asyncio.to_thread(self._token)
        query = urlencode({"$select": ",".join(FIELDS), "$expand": "manager($select=id)",
                           "$top": str(PAGE)})
        url: str | None = f"{self.settings.graph_url}/users?{query}"
        records: list[Record] = []
        async with aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {token}"},
                timeout=aiohttp.ClientTimeout(total=120)) as http:
            while url is not None:
                page = await self._page(http, url)
                records += [record for user in page.get("value", [])
                            if (record := _record(user)) is not None]
                if progress is not None:
                    progress("graph", len(records), 0)
                link = page.get("@odata.nextLink")
                url = link if isinstance(link, str) else None
        return records

    async def probe(self) -> str:
        """For ``tandem doctor``: a token, and one user read (``User.Read.All``)."""
        token = await asyncio.to_thread(self._token)
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"},
                                         timeout=aiohttp.ClientTimeout(total=30)) as http:
            await self._page(http, f"{self.settings.graph_url}/users?$select=id&$top=1")
        return self.settings.tenant

    async def _page(self, http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
        status, page = await self.call(http, "GET", url)
        if status != 200:
            raise GraphError(f"GET /users answered {status}: {str(page)[:300]}")
        return page if isinstance(page, dict) else {}

    async def call(self, http: aiohttp.ClientSession, method: str, url: str,
                   body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        """One request, retried after its ``Retry-After`` on a 429 or 5xx; the last
        answer's status and its JSON (or its text, when it is not JSON)."""
        for attempt in range(RETRIES):
            async with http.request(method, url, json=body, ssl=self.ssl) as answer:
                if answer.status in RETRY_STATUS and attempt + 1 < RETRIES:
                    wait = retry_after_seconds(answer.headers.get("Retry-After"), attempt)
                    log.info("microsoft graph answered %s: retrying in %.0f s",
                             answer.status, wait)
                    await self.sleep(wait)
                    continue
                if answer.content_type == "application/json":
                    return answer.status, await answer.json()
                return answer.status, await answer.text()
        raise AssertionError("unreachable: the last attempt returns")


def _text(user: Mapping[str, Any], name: str) -> str | None:
    value = user.get(name)
    return value.strip() or None if isinstance(value, str) else None


def _record(user: Mapping[str, Any]) -> Record | None:
    """A Graph user as a record: the object id is the key and the Teams user."""
    object_id = _text(user, "id")
    if object_id is None:
        return None
    manager = user.get("manager")
    manager_id = _text(manager, "id") if isinstance(manager, Mapping) else None
    return Record(
        key=object_id, email=_text(user, "mail") or _text(user, "userPrincipalName"),
        display_name=_text(user, "displayName"), department=_text(user, "department"),
        manager_key=manager_id, job_title=_text(user, "jobTitle"),
        location=_text(user, "officeLocation"),
        preferred_language=(_text(user, "preferredLanguage") or "")[:16] or None,
        active=user.get("accountEnabled") is not False,
        accounts=(("teams", object_id),))


class GraphUserLookup:
    """Teams users (their Entra object id) found by an export's e-mail column, for
    ``tandem directory import``: first as the user principal name
    (``GET /users/{upn}``), else as the mail address (``$filter=mail eq '...'``),
    20 look-ups to a JSON ``$batch`` request. One token and one connection pool for
    the whole import; a throttled look-up (429 or 503 inside the batch) is asked
    again after its ``Retry-After``."""

    platform = "teams"
    #: how many ``by_emails`` takes at once: one $batch request's worth
    batch = BATCH

    def __init__(self, source: GraphSource) -> None:
        self.source = source
        self._http: aiohttp.ClientSession | None = None
        self._opening = asyncio.Lock()

    async def _session(self) -> aiohttp.ClientSession:
        async with self._opening:
            if self._http is None:
                token = await asyncio.to_thread(self.source._token)
                self._http = aiohttp.ClientSession(
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=aiohttp.ClientTimeout(total=60))
            return self._http

    async def by_email(self, email: str) -> str | None:
        """The object id of the enabled account with this UPN or mail; None if none."""
        return (await self.by_emails([email]))[email]

    async def by_emails(self, emails: Sequence[str]) -> dict[str, str | None]:
        """Each address's object id (None: no enabled account has it as UPN or mail)."""
        found: dict[str, str | None] = {}
        select = "$select=id,accountEnabled"
        unknown = await self._batches({e: f"/users/{quote(e, safe='@')}?{select}"
                                       for e in emails}, found)
        await self._batches({e: "/users?" + urlencode(
            # OData quotes a quote by doubling it.
            {"$filter": "mail eq '{}'".format(e.replace("'", "''")),
             "$select": "id,accountEnabled"}) for e in unknown}, found)
        return {e: found.get(e) for e in emails}

    async def _batches(self, urls: Mapping[str, str], found: dict[str, str | None]
                       ) -> list[str]:
        """GET each url, ``BATCH`` to a ``$batch`` request, into ``found``; the keys
        Graph has no such user for (404)."""
        http = await self._session()
        pending, unknown, attempt = dict(urls), [], 0
        while pending:
            keys = list(pending)[:BATCH]
            status, answer = await self.source.call(
                http, "POST", f"{self.source.settings.graph_url}/$batch",
                {"requests": [{"id": str(n), "method": "GET", "url": pending[key]}
                              for n, key in enumerate(keys)]})
            if status != 200 or not isinstance(answer, dict):
                raise GraphError(f"POST /$batch answered {status}: {str(answer)[:300]}")
            wait: float | None = None
            for response in answer.get("responses") or []:
                n = int(response.get("id", -1)) if str(response.get("id")).isdigit() else -1
                if not 0 <= n < len(keys) or keys[n] not in pending:
                    continue
                key, code, body = keys[n], response.get("status"), response.get("body")
                if code in RETRY_STATUS:
                    headers = response.get("headers") or {}
                    wait = max(wait or 0.0, retry_after_seconds(
                        headers.get("Retry-After"), attempt))
                    continue
                del pending[key]
                if code == 200 and isinstance(body, dict):
                    users = body.get("value", [body])
                    found[key] = _enabled_id(users[0]) if len(users) == 1 else None
                elif code in (400, 404):
                    unknown.append(key)
                else:
                    raise GraphError(f"{urls[key]} answered {code}: {str(body)[:300]}")
            if any(key in pending for key in keys):
                attempt += 1
                if attempt >= RETRIES:
                    raise GraphError(f"$batch: still throttled after {RETRIES} attempts")
                await self.sleep(wait if wait is not None else 1.0)
        return unknown

    @property
    def sleep(self) -> Callable[[float], Any]:
        return self.source.sleep

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


def _enabled_id(user: Mapping[str, Any]) -> str | None:
    return None if user.get("accountEnabled") is False else _text(user, "id")
