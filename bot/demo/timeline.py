"""The demo's timeline: everything anybody saw, with its date, who saw it and where.

Read by whoever runs ``tandem demo`` (a coordinator evaluating Tandem, or their
boss): one list in date order. A paragraph already shown is not printed again
(the same nudge goes to every tandem); user-typed text is shown the way the
chat platforms show it, never as a mention.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TextIO

from adapters.local.platform import LocalMessenger, Seen
from bot.core.clock import Clock
from bot.core.i18n import t
from conversations.messages import Message

#: Where a person saw something. "reply" and "form" are private answers to what
#: the person just did; "action" is the person doing something.
#: "terminal" is what a command line tool printed for the person who ran it.
WHERES = ("channel", "dm", "group", "reply", "form", "file", "action", "terminal")


@dataclass(frozen=True)
class Entry:
    """One line of the demo's story: when, where, who saw it, what it said."""

    at: datetime
    where: str
    #: Display names of who saw it (or who acted), or the channel's name.
    who: tuple[str, ...]
    text: str
    #: The outbox key of a message the bot sent on its own ("stalled:3:2"), else "".
    key: str = ""


class Timeline:
    """Collects entries as the demo runs; renders them in date order."""

    def __init__(self, clock: Clock, names: Callable[[str], str], zone: tzinfo) -> None:
        self.clock, self.names, self.zone = clock, names, zone
        self.entries: list[Entry] = []

    def add(self, where: str, who: Iterable[str], text: str, key: str | None = None) -> None:
        self.entries.append(Entry(self.clock.now(), where, tuple(who), text, key or ""))

    def seen(self, user_id: str, seen: Seen) -> None:
        """A private answer (reply or form) the person got for what they did."""
        where = "form" if seen.form is not None else "reply"
        self.add(where, (self.names(user_id),), seen.text())

    def render(self, out: TextIO, language: str, person: str | None = None) -> int:
        """Write the timeline (only what ``person`` saw or did, if given); returns the
        number of entries written."""
        shown: set[str] = set()
        count = 0
        for entry in sorted(self.entries, key=lambda e: e.at):
            if person is not None and not _involves(entry, person):
                continue
            count += 1
            heading = f"{entry.at.astimezone(self.zone):%Y-%m-%d %H:%M}  " \
                      + _heading(entry, language)
            lines = _paragraphs(entry.text) if entry.where != "action" else []
            body = _unseen(lines, shown)
            if lines and not body:
                heading += " " + t(language, "demo.same_as_before")
            # A blank line before a message, none between one-line entries: readable
            # in a terminal, and a third shorter.
            out.write(("\n" if body else "") + heading + "\n")
            out.writelines(f"    {line}\n" for line in body)
            out.write("\n" if body else "")
        return count


def _unseen(lines: list[str], shown: set[str]) -> list[str]:
    """Nothing if every line was shown before; else the title, the new lines, and
    "…" where lines shown before are left out."""
    new = [line for line in lines if line not in shown]
    shown.update(lines)
    if not new:
        return []
    body: list[str] = []
    for index, line in enumerate(lines):
        if index == 0 or line in new:
            body.append(line)
        elif body[-1] != "…":
            body.append("…")
    return body


def _involves(entry: Entry, person: str) -> bool:
    wanted = person.casefold()
    return entry.where == "channel" or any(wanted in who.casefold() for who in entry.who)


def _heading(entry: Entry, language: str) -> str:
    who = t(language, "demo.and").join(entry.who)
    if entry.where == "action":
        return t(language, "demo.where.action", who=who, what=_shown(entry.text))
    return t(language, f"demo.where.{entry.where}", who=who)


def _paragraphs(text: str) -> list[str]:
    return [_shown(line) for line in text.split("\n") if line.strip()]


def _shown(text: str) -> str:
    # Slack and Teams show "<!channel>" typed by a person as text, never as a
    # mention; so does the demo, with angle quotes a console cannot mistake.
    return text.replace("<", "‹").replace(">", "›")


class RecordingMessenger(LocalMessenger):
    """The local platform, noting everything the bot sends on the timeline."""

    def __init__(self, timeline: Timeline, channel_names: dict[str, str]) -> None:
        super().__init__()
        self.timeline, self.channel_names = timeline, channel_names

    async def send_direct(self, user_id: str, message: Message) -> str:
        sent = await super().send_direct(user_id, message)
        self.timeline.add("dm", (self.timeline.names(user_id),), message.plain(), message.key)
        return sent

    async def send_group(self, user_ids: Sequence[str], message: Message) -> list[str]:
        sent = await super().send_group(user_ids, message)
        self.timeline.add("group", [self.timeline.names(u) for u in user_ids], message.plain(),
                          message.key)
        return sent

    async def post_channel(self, channel_id: str, message: Message) -> str:
        sent = await super().post_channel(channel_id, message)
        self.timeline.add("channel", (self.channel_names.get(channel_id, channel_id),),
                          message.plain(), message.key)
        return sent

    async def send_file(self, user_id: str, filename: str, content: bytes,
                        message: Message) -> str:
        sent = await super().send_file(user_id, filename, content, message)
        self.timeline.add("file", (self.timeline.names(user_id),),
                          self.inbox[user_id][-1].text())
        return sent
