"""The fake Slack Web API at company scale: several workspaces, one Enterprise Grid org.

``FakeGrid`` extends ``FakeSlack`` with what OAuth mode and Grid need:

* ``oauth.v2.access`` turns a code into an installation: a workspace install
  (``team`` set) or an org-wide one (``is_enterprise_install: true``, ``team:
  null``), each with its own bot token; ``grant_type=refresh_token`` rotates one.
* Every call is checked against its bearer token: unknown or revoked tokens get
  ``invalid_auth`` / ``token_revoked``; ``auth.test`` answers per token; a token
  sees only its workspace (an org token: the org's workspaces it was granted).
* Org-wide user ids (W...) with a home workspace; ``users.info`` tells it.
* Methods that need ``team_id`` with an org token fail without it (as Slack does).
* Every recorded call carries ``_token`` and ``_installation`` (whose token it was).
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.slack.manifest import BOT_SCOPES
from tests.fakes.slack_api import Call, FakeSlack, FakeUser

#: Methods Slack wants a ``team_id`` on when called with an org-wide token.
NEEDS_TEAM = frozenset({"usergroups.list", "usergroups.users.list", "conversations.list",
                        "users.list", "conversations.create", "team.info"})


@dataclass
class Workspace:
    id: str
    name: str
    enterprise_id: str | None = None


@dataclass
class Token:
    value: str
    enterprise_id: str | None
    team_id: str | None
    is_enterprise_install: bool
    refresh_token: str | None = None
    revoked: bool = False

    @property
    def installation(self) -> str:
        return f"{self.enterprise_id or ''}:{self.team_id or ''}"


@dataclass
class FakeGrid(FakeSlack):
    workspaces: dict[str, Workspace] = field(default_factory=dict)
    enterprises: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    #: user id -> home workspace
    homes: dict[str, str] = field(default_factory=dict)
    #: channel id -> workspace
    channels: dict[str, str] = field(default_factory=dict)
    #: enterprise id -> the workspaces its org-wide install may reach (team_access_*)
    granted: dict[str, set[str]] = field(default_factory=dict)
    #: issue tokens that expire (token rotation) with their refresh tokens
    rotation: bool = False
    #: the seconds a rotating token lives
    expires_in: int = 43200
    #: what an install grants (the manifest's scopes, unless a test takes some away)
    scopes: tuple[str, ...] = tuple(BOT_SCOPES)
    #: installation ("E1:" or ":T9") -> how many of its next calls get a 429
    busy: dict[str, int] = field(default_factory=dict)
    client_id: str = "111.222"
    client_secret: str = "grid-client-secret"
    _serial: Any = field(default_factory=lambda: itertools.count(1))

    def add_enterprise(self, enterprise_id: str, name: str) -> None:
        self.enterprises[enterprise_id] = name
        self.granted.setdefault(enterprise_id, set())

    def add_workspace(self, team_id: str, name: str, enterprise_id: str | None = None
                      ) -> None:
        self.workspaces[team_id] = Workspace(team_id, name, enterprise_id)
        if enterprise_id:
            self.granted.setdefault(enterprise_id, set()).add(team_id)

    def add_member(self, user_id: str, name: str, team_id: str, locale: str = "en-US",
                   tz: str = "Europe/Berlin") -> FakeUser:
        self.homes[user_id] = team_id
        return self.add_user(user_id, name, locale, tz)

    def token_of(self, installation: str) -> str:
        """The current, unrevoked bot token of an installation ("E1:" or ":T9")."""
        return next(t.value for t in reversed(list(self.tokens.values()))
                    if t.installation == installation and not t.revoked)

    def calls_of(self, method: str, installation: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls
                if c.method == method and c.args.get("_installation") == installation]

    # -- what the token may see --------------------------------------------------------

    def _reaches_team(self, token: Token, team_id: str | None) -> bool:
        if team_id is None:
            return False
        if token.is_enterprise_install:
            return team_id in self.granted.get(token.enterprise_id or "", set())
        return token.team_id == team_id

    def _reaches_user(self, token: Token, user_id: str) -> bool:
        home = self.homes.get(user_id)
        if home is None:
            return True  # people added without a home: the base fake's single workspace
        if self._reaches_team(token, home):
            return True
        # On Grid, a workspace token sees the org's people too (org-wide ids).
        space = self.workspaces.get(home)
        return bool(space and token.enterprise_id and space.enterprise_id == token.enterprise_id
                    and not token.is_enterprise_install)

    # -- the Web API ------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        """A busy installation's calls get 429 with Retry-After; the others go on."""
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = self.tokens.get(bearer)
        if token is not None and self.busy.get(token.installation, 0) > 0:
            self.busy[token.installation] -= 1
            args = await self._args(request)
            self.calls.append(Call(f"{request.match_info['method']}:429", args))
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(self.retry_after)})
        return await super()._api(request)

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args = await super()._args(request)
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            # oauth.v2.access: the app's credentials as HTTP basic auth
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            args.update(client_id=client_id, client_secret=secret)
        bearer = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        value = bearer or str(args.pop("token", "") or "")
        args["_token"] = value
        token = self.tokens.get(value)
        args["_installation"] = token.installation if token else None
        return args

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "oauth.v2.access":
            return self._oauth(args)
        token = self.tokens.get(args.get("_token", ""))
        if token is None:
            return {"ok": False, "error": "invalid_auth"}
        if token.revoked:
            return {"ok": False, "error": "token_revoked"}
        if token.is_enterprise_install and method in NEEDS_TEAM and not args.get("team_id"):
            return {"ok": False, "error": "missing_argument"}
        if method == "auth.test":
            team = self.workspaces.get(token.team_id or "")
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT",
                    "team_id": token.team_id, "team": team.name if team else None,
                    "enterprise_id": token.enterprise_id,
                    "is_enterprise_install": token.is_enterprise_install,
                    "url": "https://acme.enterprise.slack.com/"}
        if method == "auth.teams.list":
            ids = (sorted(self.granted.get(token.enterprise_id or "", set()))
                   if token.is_enterprise_install else [token.team_id])
            return {"ok": True, "teams": [{"id": i, "name": self.workspaces[i].name}
                                          for i in ids if i in self.workspaces]}
        if method == "conversations.info":
            team = self.channels.get(args.get("channel", ""))
            if not self._reaches_team(token, team):
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": {"id": args["channel"], "context_team_id": team}}
        if method == "chat.postMessage":
            channel = str(args.get("channel", ""))
            if channel in self.channels and not self._reaches_team(
                    token, self.channels[channel]):
                return {"ok": False, "error": "channel_not_found"}
        people = [u for u in str(args.get("users", "")).split(",") if u]
        if method == "users.info":
            people = [str(args.get("user", ""))]
        if any(not self._reaches_user(token, user) for user in people):
            return {"ok": False, "error": "user_not_found"}
        answer = super()._answer(method, args)
        if method == "users.info" and answer.get("ok"):
            home = self.homes.get(answer["user"]["id"])
            space = self.workspaces.get(home or "")
            answer["user"]["team_id"] = home
            if space and space.enterprise_id:
                answer["user"]["enterprise_user"] = {
                    "enterprise_id": space.enterprise_id, "teams": [home]}
        return answer

    def _oauth(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("client_id") != self.client_id or (
                args.get("client_secret") != self.client_secret):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            return self._refresh(str(args.get("refresh_token", "")))
        code = str(args.get("code", ""))
        # "org:E1" installs org-wide; "team:T1" installs into one workspace.
        kind, _, target = code.partition(":")
        serial = next(self._serial)
        if kind == "org" and target in self.enterprises:
            token = Token(f"xoxb-org-{target}-{serial}", target, None, True)
            installed: dict[str, Any] = {
                "team": None, "enterprise": {"id": target, "name": self.enterprises[target]},
                "is_enterprise_install": True}
        elif kind == "team" and target in self.workspaces:
            space = self.workspaces[target]
            token = Token(f"xoxb-{target}-{serial}", space.enterprise_id, target, False)
            installed = {
                "team": {"id": target, "name": space.name},
                "enterprise": ({"id": space.enterprise_id,
                                "name": self.enterprises.get(space.enterprise_id, "")}
                               if space.enterprise_id else None),
                "is_enterprise_install": False}
        else:
            return {"ok": False, "error": "invalid_code"}
        answer: dict[str, Any] = {
            "ok": True, "app_id": "A0TANDEM", "access_token": token.value, "token_type": "bot",
            "scope": ",".join(self.scopes),
            "bot_user_id": "UBOT", "authed_user": {"id": "W0ADMIN"}, **installed}
        if self.rotation:
            token.refresh_token = f"xoxe-1-refresh-{serial}"
            answer.update(refresh_token=token.refresh_token, expires_in=self.expires_in)
        self.tokens[token.value] = token
        return answer

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        old = next((t for t in self.tokens.values()
                    if t.refresh_token == refresh_token and not t.revoked), None)
        if old is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        old.revoked = True
        serial = next(self._serial)
        new = Token(f"{old.value.rsplit('-', 1)[0]}-{serial}", old.enterprise_id, old.team_id,
                    old.is_enterprise_install, f"xoxe-1-refresh-{serial}")
        self.tokens[new.value] = new
        return {"ok": True, "access_token": new.value, "refresh_token": new.refresh_token,
                "expires_in": 43200, "token_type": "bot"}
