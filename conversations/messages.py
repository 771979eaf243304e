"""What the bot shows, as the flows build it: plain text, facts, buttons and forms.

All text here is plain: adapters escape it for their platform, so nothing a
person typed can turn into a mention, a link or markup when shown to others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Button:
    action_id: str
    label: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None


COMMAND_BUTTON = "command:"


def command_button(name: str) -> str:
    """The action id of a button that runs a command, e.g. "Sign up" in an announcement."""
    return f"{COMMAND_BUTTON}{name}"


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Facts:
    """Label/value pairs, shown as a compact list."""

    items: tuple[tuple[str, str], ...]


Block = Paragraph | Facts


@dataclass(frozen=True)
class Message:
    title: str | None = None
    blocks: tuple[Block, ...] = ()
    buttons: tuple[Button, ...] = ()
    #: The outbox key of a message the bot sends on its own; platforms that can
    #: attach it (Slack message metadata) let a restarted sender find it again.
    key: str | None = None

    @classmethod
    def text(cls, *paragraphs: str, title: str | None = None) -> Message:
        return cls(title=title, blocks=tuple(Paragraph(p) for p in paragraphs))

    def plain(self) -> str:
        """A plain-text rendering: notification fallbacks, logs of the demo, tests."""
        lines: list[str] = []
        if self.title:
            lines.append(self.title)
        for block in self.blocks:
            if isinstance(block, Paragraph):
                lines.append(block.text)
            else:
                lines.extend(f"{label}: {value}" for label, value in block.items)
        if self.buttons:
            lines.append(" ".join(f"[{b.label}]" for b in self.buttons))
        return "\n".join(lines)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class TextInput:
    id: str
    label: str
    initial: str = ""
    required: bool = True
    multiline: bool = False
    max_length: int = 200
    hint: str | None = None


@dataclass(frozen=True)
class SelectInput:
    id: str
    label: str
    choices: tuple[Choice, ...]
    initial: tuple[str, ...] = ()
    required: bool = True
    multi: bool = False
    style: Literal["dropdown", "checkboxes", "radio"] = "dropdown"
    hint: str | None = None


@dataclass(frozen=True)
class UserInput:
    """Pick a colleague from the workspace directory."""

    id: str
    label: str
    initial: str | None = None
    required: bool = False
    hint: str | None = None


Field = TextInput | SelectInput | UserInput


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    submit_label: str
    cancel_label: str
    fields: tuple[Field, ...]
    intro: str | None = None
    #: Opaque data the platform hands back with the submission (what the form is about).
    context: str = ""

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass(frozen=True)
class Reply:
    """Answer the person privately, where they are (ephemeral on Slack, chat on Teams).

    ``replace``: for an answer to a button, the answer takes the place of the
    message that had the button (so it cannot be pressed again).
    """

    message: Message
    replace: bool = False


@dataclass(frozen=True)
class ShowForm:
    form: Form


@dataclass(frozen=True)
class FormInvalid:
    """Keep the form open, values kept, with a message per field."""

    form: Form
    errors: Mapping[str, str]
    values: Mapping[str, object] = field(default_factory=dict)


Followup = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class FormDone:
    """Close the form; ``message`` replaces it where the platform shows forms inline.
    ``then`` runs once the platform has its answer (e.g. a confirmation DM)."""

    message: Message | None = None
    then: Followup | None = None


@dataclass(frozen=True)
class Working:
    """Answer at once with ``message``, then run ``then``: for slow work such as
    matching, whose results follow as their own messages."""

    message: Message
    then: Followup


Outcome = Reply | ShowForm | FormInvalid | FormDone | Working


def followup(outcome: Outcome) -> Followup | None:
    """The work an outcome leaves for after the answer, if any."""
    return outcome.then if isinstance(outcome, (Working, FormDone)) else None


async def follow_through(outcome: Outcome) -> None:
    """Run an outcome's follow-up now, for callers already past the answer."""
    then = followup(outcome)
    if then is not None:
        await then()


def reply(
    *paragraphs: str, title: str | None = None, buttons: Sequence[Button] = (),
    replace: bool = False,
) -> Reply:
    return Reply(Message(title, tuple(Paragraph(p) for p in paragraphs), tuple(buttons)),
                 replace=replace)


def message_to_json(message: Message) -> dict[str, object]:
    """A message as plain JSON, to be kept with an owed delivery until it is sent."""
    return {
        "title": message.title,
        "blocks": [{"text": b.text} if isinstance(b, Paragraph)
                   else {"facts": [list(item) for item in b.items]} for b in message.blocks],
        "buttons": [[b.action_id, b.label, b.value, b.style] for b in message.buttons],
    }


def message_from_json(data: Mapping[str, object]) -> Message:
    """The message ``message_to_json`` wrote (written by the bot itself, not a platform)."""
    blocks: list[Block] = []
    for block in data.get("blocks") or []:  # type: ignore[attr-defined]
        if "facts" in block:
            blocks.append(Facts(tuple((str(k), str(v)) for k, v in block["facts"])))
        else:
            blocks.append(Paragraph(str(block["text"])))
    buttons = tuple(Button(str(a), str(label), str(value), style)
                    for a, label, value, style in data.get("buttons") or [])  # type: ignore[attr-defined]
    title = data.get("title")
    return Message(title=title if isinstance(title, str) else None, blocks=tuple(blocks),
                   buttons=buttons)
