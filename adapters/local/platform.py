"""A local, in-memory chat platform that drives the real flows.

Everything the bot sends is kept per person and per channel, in order, so
tests and ``tandem demo`` can show exactly what each person saw.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.errors import PlatformError
from conversations import router
from conversations.context import FlowContext
from conversations.events import Actor, ButtonPress, Command, FormSubmission, FormValue
from conversations.forms import Form
from conversations.messages import Message, Paragraph
from conversations.outcomes import (
    FormDone,
    FormInvalid,
    Outcome,
    Reply,
    ShowForm,
    Working,
    follow_through,
)

PLATFORM = "local"


@dataclass
class Seen:
    """One thing a person saw: a private reply, a DM, a group DM or a form."""

    kind: str
    message: Message | None = None
    form: Form | None = None
    errors: Mapping[str, str] = field(default_factory=dict)

    def text(self) -> str:
        if self.form is not None:
            errors = "; ".join(f"{k}: {v}" for k, v in self.errors.items())
            return f"[form {self.form.title}]" + (f" errors: {errors}" if errors else "")
        return self.message.plain() if self.message else ""


class LocalMessenger:
    platform = PLATFORM
    command_prefix = "/tandem "
    supports_group = True
    supports_channel_invite = True

    def __init__(self) -> None:
        self.inbox: dict[str, list[Seen]] = defaultdict(list)
        self.channels: dict[str, list[Message]] = defaultdict(list)
        self.files: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
        #: channel id -> who the bot added to it
        self.members: dict[str, set[str]] = defaultdict(set)
        self._ids = itertools.count(1)
        self.unreachable: set[str] = set()
        #: user id -> locale, as a platform's directory would tell it
        self.locales: dict[str, str] = {}
        #: user ids the platform does not know (a forged value from a people picker)
        self.strangers: set[str] = set()

    def _id(self) -> str:
        return f"local-{next(self._ids)}"

    async def send_direct(self, user_id: str, message: Message) -> str:
        if user_id in self.unreachable:
            raise PlatformError(f"user {user_id} cannot be reached", unreachable=True)
        self.inbox[user_id].append(Seen("dm", message))
        return self._id()

    async def send_group(self, user_ids: Sequence[str], message: Message) -> list[str]:
        group_id = self._id()
        for user_id in user_ids:
            self.inbox[user_id].append(Seen("group", message))
        return [group_id]

    async def post_channel(self, channel_id: str, message: Message) -> str:
        self.channels[channel_id].append(message)
        return self._id()

    async def invite_to_channel(self, channel_id: str, user_id: str) -> str:
        self.members[channel_id].add(user_id)
        return self._id()

    async def locale_of(self, user_id: str) -> str | None:
        return self.locales.get(user_id)

    async def knows(self, user_id: str) -> bool:
        return user_id not in self.strangers

    async def find_sent(self, targets: Sequence[str], key: str) -> str | None:
        for target in targets:
            seen = [m.key for m in self.channels.get(target, [])]
            seen += [s.message.key for s in self.inbox.get(target, []) if s.message]
            if key in seen:
                return f"local-found-{key}"
        return None

    async def find_file(self, user_id: str, filename: str) -> str | None:
        return f"local-found-{filename}" if any(
            name == filename for name, _ in self.files.get(user_id, [])) else None

    async def send_file(
        self, user_id: str, filename: str, content: bytes, message: Message
    ) -> str:
        self.files[user_id].append((filename, content))
        self.inbox[user_id].append(Seen("file", Message(
            title=message.title, blocks=(*message.blocks, Paragraph(f"📎 {filename}")),
            key=message.key,
        )))
        return self._id()


@dataclass
class LocalUser:
    user_id: str
    display_name: str
    locale: str = "en"
    timezone: str = "Europe/Berlin"
    workspace_id: str = "local-workspace"

    @property
    def actor(self) -> Actor:
        return Actor(PLATFORM, self.workspace_id, self.user_id, self.display_name,
                     self.locale, self.timezone)


class LocalPlatform:
    """Drives the flows as a person would: type a command, fill a form, press a button."""

    def __init__(self, ctx: FlowContext, messenger: LocalMessenger,
                 on_answer: Callable[[str, Seen], None] | None = None) -> None:
        self.ctx, self.messenger = ctx, messenger
        self.open_forms: dict[str, Form] = {}
        #: Told of each private answer (reply or form) as it is shown: the demo's timeline.
        self.on_answer = on_answer

    def _record(self, user: LocalUser, outcome: Outcome) -> Outcome:
        inbox = self.messenger.inbox[user.user_id]
        shown = len(inbox)
        self._show(user, outcome, inbox)
        if self.on_answer is not None:
            for seen in inbox[shown:]:
                self.on_answer(user.user_id, seen)
        return outcome

    def _show(self, user: LocalUser, outcome: Outcome, inbox: list[Seen]) -> Outcome:
        if isinstance(outcome, Reply):
            inbox.append(Seen("reply", outcome.message))
        elif isinstance(outcome, ShowForm):
            self.open_forms[user.user_id] = outcome.form
            inbox.append(Seen("form", form=outcome.form))
        elif isinstance(outcome, FormInvalid):
            inbox.append(Seen("form", form=outcome.form, errors=outcome.errors))
        elif isinstance(outcome, FormDone):
            self.open_forms.pop(user.user_id, None)
            if outcome.message:
                inbox.append(Seen("reply", outcome.message))
        elif isinstance(outcome, Working):
            inbox.append(Seen("reply", outcome.message))
        return outcome

    async def _run(self, user: LocalUser, outcome: Outcome) -> Outcome:
        self._record(user, outcome)
        await follow_through(outcome)
        return outcome

    async def command(self, user: LocalUser, text: str) -> Outcome:
        return await self._run(user, await router.on_command(self.ctx, Command(user.actor, text)))

    async def submit(self, user: LocalUser, values: Mapping[str, FormValue],
                     form_id: str = "survey", context: str | None = None) -> Outcome:
        """Submit the open form (its context, unless given) or a form by id."""
        form = self.open_forms.get(user.user_id)
        if context is None:
            context = form.context if form is not None and form.id == form_id else ""
        submission = FormSubmission(user.actor, form_id, dict(values), context)
        return await self._run(user, await router.on_form(self.ctx, submission))

    async def press(self, user: LocalUser, action_id: str, value: str = "") -> Outcome:
        press = ButtonPress(user.actor, action_id, value)
        return await self._run(user, await router.on_button(self.ctx, press))

    def transcript(self, user_id: str) -> list[str]:
        return [seen.text() for seen in self.messenger.inbox[user_id]]
