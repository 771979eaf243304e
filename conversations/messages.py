"""What the bot shows, as the flows build it: plain text, facts and buttons (forms
are in ``conversations.forms``, what a flow answers in ``conversations.outcomes``).

All text here is plain: adapters escape it for their platform, so nothing a
person typed can turn into a mention, a link or markup when shown to others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
