"""Webchat's adapter: JSON in, the flows' outcome as JSON out, DMs kept per person.

Requests are checked in order: the bearer token (401), then the shape of the
JSON (400; every value is untrusted), then handed to the neutral router.
"""

from __future__ import annotations

import hmac
import itertools
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.core.i18n import t
from bot.host.platform import OK, SKIP, Check
from bot.host.runtime import Runtime
from conversations import outcomes, router
from conversations.events import Actor, Command, FormSubmission, FormValue
from conversations.messages import Message
from tests.extra_adapter import PLATFORM, ROUTE
from tests.extra_adapter.settings import WebchatSettings


def build(runtime: Runtime, settings: WebchatSettings) -> WebchatAdapter | None:
    return WebchatAdapter(runtime, settings) if settings.token else None


async def check(settings: WebchatSettings) -> Check:
    """``tandem doctor``'s line: there is no remote end to ask, only the token."""
    if not settings.token:
        return Check(SKIP, "not configured (WEBCHAT_TOKEN is not set)")
    return Check(OK, "WEBCHAT_TOKEN is set")


class WebchatMessenger:
    platform = PLATFORM.name
    command_prefix = ""
    supports_group = False
    supports_channel_invite = False

    def __init__(self) -> None:
        #: What the bot sent each person on its own, as plain text, in order.
        self.inbox: dict[str, list[str]] = defaultdict(list)
        self._ids = itertools.count(1)

    async def send_direct(self, user_id: str, message: Message) -> str:
        self.inbox[user_id].append(message.plain())
        return f"webchat-{next(self._ids)}"

    async def send_group(self, user_ids: Sequence[str], message: Message) -> list[str]:
        return [await self.send_direct(user_id, message) for user_id in user_ids]

    async def post_channel(self, channel_id: str, message: Message) -> str:
        return await self.send_direct(f"#{channel_id}", message)

    async def send_file(self, user_id: str, filename: str, content: bytes,
                        message: Message) -> str:
        return await self.send_direct(user_id, message)

    async def invite_to_channel(self, channel_id: str, user_id: str) -> str:
        raise NotImplementedError("webchat has no channels to add people to")

    async def find_sent(self, targets: Sequence[str], key: str) -> str | None:
        return None  # nothing is kept across restarts: a crashed send goes out again

    async def find_file(self, user_id: str, filename: str) -> str | None:
        return None


class WebchatAdapter:
    platform = PLATFORM.name

    def __init__(self, runtime: Runtime, settings: WebchatSettings) -> None:
        self.runtime, self.token = runtime, settings.token or ""
        self.messenger = WebchatMessenger()

    def mount(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.handle)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop_receiving(self) -> None:
        """HTTP only: it stops with the server."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            body = None
        event = _event(body)
        if event is None:
            return web.json_response({"error": "malformed request"}, status=400)
        ctx = self.runtime.ctx
        outcome = await (router.on_command(ctx, event) if isinstance(event, Command)
                         else router.on_form(ctx, event))
        then = outcomes.followup(outcome)
        if then is not None:
            self.runtime.background.start(then(), "webchat follow-up")
        return web.json_response(_answer(outcome, ctx.language(event.actor.locale)))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) <= 200 else None


def _event(body: Any) -> Command | FormSubmission | None:
    """``{"user", "name", "locale", "text"}`` is a command; ``{"user", ..., "form",
    "values", "context"}`` a form sent back. Anything else is refused."""
    if not isinstance(body, dict) or not _text(body.get("user")):
        return None
    actor = Actor(PLATFORM.name, "webchat", body["user"], _text(body.get("name")),
                  _text(body.get("locale")))
    if "text" in body:
        text = _text(body["text"])
        return Command(actor, text) if text is not None else None
    form, values = _text(body.get("form")), body.get("values")
    if form is None or not isinstance(values, dict):
        return None
    checked: dict[str, FormValue] = {}
    for key, value in values.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            checked[key] = [str(v) for v in value]
        elif value is None or isinstance(value, str):
            checked[key] = value
        else:
            return None
    return FormSubmission(actor, form, checked, _text(body.get("context")) or "")


def _answer(outcome: outcomes.Outcome, language: str) -> dict[str, Any]:
    if isinstance(outcome, outcomes.ShowForm):
        form = outcome.form
        return {"form": {"id": form.id, "title": form.title, "context": form.context,
                         "fields": [f.id for f in form.fields]},
                "hint": t(language, "webchat.form_hint")}
    if isinstance(outcome, outcomes.FormInvalid):
        return {"errors": dict(outcome.errors)}
    if isinstance(outcome, (outcomes.Reply, outcomes.Working)):
        return {"text": outcome.message.plain()}
    if isinstance(outcome, outcomes.FormDone):
        return {"text": outcome.message.plain() if outcome.message else ""}
    raise TypeError(f"unknown outcome {outcome!r}")  # the Outcome union is closed
