"""A fake Slack Web API on loopback: records every call, answers like Slack does.

The bot's real ``slack_sdk`` client talks to it through ``SLACK_API_URL``. It
also serves as the target of ``response_url`` posts. Failures can be injected
per method: a Slack error code, or a 429 with ``Retry-After`` for some calls.
Calls that involve a person can be held at a gate (``held_for``) until the test
lets them go, so a test knows a message is in flight instead of guessing how long.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web


@dataclass
class Call:
    method: str
    args: dict[str, Any]


@dataclass
class FakeUser:
    id: str
    name: str
    locale: str = "en-US"
    tz: str = "Europe/Berlin"
    deleted: bool = False
    email: str | None = None
    #: custom profile field id -> its value (a user field holds a user id)
    fields: dict[str, str] = field(default_factory=dict)
    title: str = ""


@dataclass
class FakeSlack:
    users: dict[str, FakeUser] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    #: method -> how many of its next calls get a 429 first.
    rate_limited: dict[str, int] = field(default_factory=dict)
    retry_after: int = 0
    delay: float = 0.0
    #: user or channel id -> Slack error code for any post or open that involves it
    fail_for: dict[str, str] = field(default_factory=dict)
    #: user or channel id -> a gate: a call that involves it waits until the gate is set
    held_for: dict[str, asyncio.Event] = field(default_factory=dict)
    #: calls waiting at one of those gates now
    held_now: int = 0
    #: method -> how many of its next calls get an HTTP 503
    server_errors: dict[str, int] = field(default_factory=dict)
    on_call: Callable[[Call], None] | None = None
    #: user group id -> (handle, member ids), what usergroups.list / .users.list answer
    user_groups: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    uploads: dict[str, bytes] = field(default_factory=dict)
    #: file id -> the file's name, as given when its upload was asked for
    file_names: dict[str, str] = field(default_factory=dict)
    #: channel -> posted messages, newest first (what conversations.history returns)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: the workspace's custom profile fields (``id``, ``label``, ``type``): team.profile.get
    profile_fields: list[dict[str, str]] = field(default_factory=list)
    #: whether users.list carries the custom fields (Slack's usually does not)
    list_fields: bool = False
    #: how many members a users.list page holds at most (besides the caller's limit)
    list_page: int = 1000
    runner: web.AppRunner | None = None
    base_url: str = ""

    def add_user(self, user_id: str, name: str, locale: str = "en-US",
                 tz: str = "Europe/Berlin") -> FakeUser:
        self.users[user_id] = FakeUser(user_id, name, locale, tz)
        return self.users[user_id]

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[dict]:
        """Calls that happen after the HTTP response (Slack's ack) need a moment."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.of(method)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} {method} call(s), got {self.of(method)}")
            await asyncio.sleep(0.01)
        return self.of(method)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/"
        return self.base_url + "api/"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    @staticmethod
    def channel_of(target: str) -> str:
        """Posting to a user id lands in the bot's DM with them: D + the user's id."""
        return "D" + target[1:] if target[:1] in ("U", "W") else target

    def response_url(self, name: str = "1") -> str:
        return f"{self.base_url}response/{name}"

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            body = await request.text()
            args.update({k: v[0] for k, v in parse_qs(body).items()})
        return args

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK - 1")

    async def _response_url(self, request: web.Request) -> web.Response:
        call = Call("response_url", await request.json())
        self.calls.append(call)
        return web.json_response({"ok": True})

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        if self.rate_limited.get(method, 0) > 0:
            self.rate_limited[method] -= 1
            self.calls.append(Call(f"{method}:429", args))
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        if self.server_errors.get(method, 0) > 0:
            self.server_errors[method] -= 1
            self.calls.append(Call(f"{method}:503", args))
            return web.Response(status=503, text="upstream trouble")
        if self.delay:
            await asyncio.sleep(self.delay)
        targets = {args.get("channel", ""), *str(args.get("users", "")).split(",")}
        targets |= {self.channel_of(t) for t in targets}
        for gate in [self.held_for[t] for t in targets if t in self.held_for]:
            self.held_now += 1
            try:
                await gate.wait()
            finally:
                self.held_now -= 1
        failing = next((self.fail_for[t] for t in targets if t in self.fail_for), None)
        if failing and method in ("chat.postMessage", "conversations.open"):
            self.calls.append(Call(f"{method}:{failing}", args))
            return web.json_response({"ok": False, "error": failing})
        call = Call(method, args)
        self.calls.append(call)
        if self.on_call:
            self.on_call(call)
        if method in self.errors:
            return web.json_response({"ok": False, "error": self.errors[method]})
        return web.json_response(self._answer(method, args))

    def _profile(self, user: FakeUser, with_fields: bool) -> dict[str, Any]:
        profile: dict[str, Any] = {"real_name": user.name, "display_name": user.name,
                                   "title": user.title}
        if user.email:
            profile["email"] = user.email
        if with_fields:
            profile["fields"] = {key: {"value": value, "alt": ""}
                                 for key, value in user.fields.items()}
        return profile

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Paged by ``cursor`` (an offset here; opaque to the client), bots and the
        deleted included, as Slack's is."""
        start = int(args.get("cursor") or 0)
        size = min(int(args.get("limit") or 1000), self.list_page)
        everyone = sorted(self.users.values(), key=lambda u: u.id)
        chosen = everyone[start:start + size]
        more = start + size < len(everyone)
        return {"ok": True, "members": [
            {"id": u.id, "name": u.name.lower(), "real_name": u.name, "deleted": u.deleted,
             "is_bot": False, "tz": u.tz, "locale": u.locale,
             "profile": self._profile(u, with_fields=self.list_fields)} for u in chosen]
            + ([{"id": "USLACKBOT", "name": "slackbot", "deleted": False, "is_bot": False,
                 "profile": {"real_name": "Slackbot"}}] if start == 0 else []),
            "response_metadata": {"next_cursor": str(start + size) if more else ""}}

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1",
                    "team": "Acme", "url": "https://acme.slack.com/"}
        if method == "usergroups.list":
            return {"ok": True, "usergroups": [
                {"id": group, "handle": handle} for group, (handle, _) in self.user_groups.items()]}
        if method == "usergroups.users.list":
            _, members = self.user_groups.get(args.get("usergroup", ""), ("", ()))
            return {"ok": True, "users": list(members)}
        if method == "users.info":
            user = self.users.get(args.get("user", ""))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {
                "id": user.id, "name": user.name.lower(), "real_name": user.name,
                "deleted": user.deleted, "is_bot": False, "tz": user.tz,
                "locale": user.locale,
                "profile": {"display_name": user.name, "real_name": user.name},
            }}
        if method == "team.profile.get":
            return {"ok": True, "profile": {"fields": [
                {"hint": "", "options": None, "is_hidden": False, **f}
                for f in self.profile_fields]}}
        if method == "users.list":
            return self._users_list(args)
        if method == "users.profile.get":
            user = self.users.get(args.get("user", ""))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "profile": self._profile(user, with_fields=True)}
        if method == "users.lookupByEmail":
            wanted = str(args.get("email", "")).lower()
            found = next((u for u in self.users.values()
                          if u.email and u.email.lower() == wanted), None)
            if found is None:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": {
                "id": found.id, "name": found.name.lower(), "real_name": found.name,
                "deleted": found.deleted, "is_bot": False, "tz": found.tz,
                "profile": {"email": found.email, "real_name": found.name}}}
        if method == "chat.postMessage":
            channel = self.channel_of(args.get("channel", ""))
            ts = f"{next(self._ts)}.000100"
            metadata = args.get("metadata")
            metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
            self.history.setdefault(channel, []).insert(
                0, {"ts": ts, "text": args.get("text", ""), "metadata": metadata})
            return {"ok": True, "channel": channel, "ts": ts,
                    "message": {"text": args.get("text", "")}}
        if method == "conversations.open":
            users = sorted(args.get("users", "").split(","))
            if len(users) == 1:
                return {"ok": True, "channel": {"id": self.channel_of(users[0])}}
            return {"ok": True, "channel": {"id": "G" + "".join(u[-4:] for u in users)}}
        if method == "conversations.history":
            messages = self.history.get(args.get("channel", ""), [])
            shown = [{k: v for k, v in m.items() if k != "metadata" or m["metadata"]}
                     for m in messages]
            return {"ok": True, "messages": shown, "has_more": False}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            self.file_names[file_id] = str(args.get("filename", ""))
            upload_url = f"{self.base_url}upload/{file_id}"
            return {"ok": True, "file_id": file_id, "upload_url": upload_url}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            shared = [{"id": f["id"], "title": f.get("title"),
                       "name": self.file_names.get(f["id"], "")} for f in files]
            if args.get("channel_id"):
                self.history.setdefault(args["channel_id"], []).insert(0, {
                    "ts": f"{next(self._ts)}.000100", "text": args.get("initial_comment", ""),
                    "metadata": None, "files": shared})
            return {"ok": True, "files": shared}
        if method in ("views.open", "views.publish", "views.update"):
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {"id": "V1", **(view or {})}}
        return {"ok": True}
