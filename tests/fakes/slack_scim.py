"""A fake Slack SCIM API on loopback: ``GET /scim/v2/Users`` (and ``/scim/v1/Users``)
paged by ``startIndex`` (1-based) and ``count``, answered as Slack does, with the
enterprise extension holding department and manager. Only the admin token gets in.

``throttle_page`` (1-based index of the page) is answered once with a 429 and
``Retry-After`` before it is served; ``calls`` records every request in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import on_loopback

TOKEN = "xoxp-scim-admin"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ENTERPRISE_V1 = "urn:scim:schemas:extension:enterprise:1.0"


def scim_user(user_id: str, name: str, email: str, *, department: str | None = None,
              manager: str | None = None, active: bool = True, title: str = "",
              version: int = 2) -> dict[str, Any]:
    """A SCIM user as Slack's SCIM API shows one."""
    extension: dict[str, Any] = {}
    if department:
        extension["department"] = department
    if manager:
        extension["manager"] = {"value": manager} if version == 2 else {"managerId": manager}
    given, _, family = name.partition(" ")
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": user_id,
            "userName": name.lower().replace(" ", "."), "displayName": name,
            "name": {"givenName": given, "familyName": family}, "title": title,
            "emails": [{"value": email, "primary": True}], "active": active,
            ENTERPRISE if version == 2 else ENTERPRISE_V1: extension}


@dataclass
class FakeScim:
    users: list[dict[str, Any]] = field(default_factory=list)
    throttle_page: int | None = None
    retry_after: str = "2"
    calls: list[str] = field(default_factory=list)
    runner: web.AppRunner | None = None
    base_url: str = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/scim/{version}/Users", self._users)
        self.runner, port = await on_loopback(app)
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def url(self, version: str = "v2") -> str:
        return f"{self.base_url}/scim/{version}"

    async def _users(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.calls.append("401")
            return web.json_response({"Errors": {"description": "invalid_authentication",
                                                 "code": 401}}, status=401)
        start = max(int(request.query.get("startIndex", "1")), 1)
        count = min(int(request.query.get("count", "100")), 1000)
        page = (start - 1) // count + 1
        if page == self.throttle_page:
            self.throttle_page = None
            self.calls.append(f"users:{start}:429")
            return web.json_response({"Errors": {"description": "rate_limited", "code": 429}},
                                     status=429, headers={"Retry-After": self.retry_after})
        self.calls.append(f"users:{start}")
        chosen = self.users[start - 1:start - 1 + count]
        return web.json_response(
            {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
             "totalResults": len(self.users), "itemsPerPage": len(chosen),
             "startIndex": start, "Resources": chosen},
            content_type="application/scim+json" if request.match_info["version"] == "v2"
            else "application/json")
