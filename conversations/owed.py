"""Messages owed because of a state change: recorded with the change, then sent.

A flow that changes state and owes people a message (introductions when a round
is confirmed, the sign-up summary, a "need help" alert, the notices after
forget-me, a matching proposal and its CSV) builds the messages first
(``for_person``, ``for_tandem``, ``for_user``, ``for_coordinators``,
``for_channels``: each rendered in its reader's language),
writes them as pending deliveries in the same transaction as the change
(``record``), and after the commit sends them at once (``deliver``, the fast
path). Whatever a crash, a restart or an outage left pending, or claimed by a
sender that died, ``run_owed`` sends from ``run_due`` (the safety net). Either
way each goes through ``outbox.send_once``: on Slack a message whose sender died
after sending is found by its key and not sent again; on Teams, which cannot
look, it is sent again (at least once, see the README's reliability section).

Who sees what is decided by the flow; a person who cannot be reached is marked
and the coordinators are told once, as for every other message.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.core.i18n import t
from conversations import outbox
from conversations.audience import (
    Compose,
    Languages,
    coordinator_claims,
    coordinator_languages,
    group_capable,
    in_their_languages,
    reachable,
)
from conversations.context import FlowContext
from conversations.messages import Message, message_from_json, message_to_json
from conversations.outbox import Sent
from storage import deliveries, participants
from storage.db import Session
from storage.deliveries import Claim, Taken
from storage.models import Participant
from storage.tandems import TandemPeople

log = logging.getLogger(__name__)

DIRECT, GROUP, CHANNEL, FILE = "direct", "group", "channel", "file"
#: A person added to a channel (targets: the channel, the person); adding twice is harmless.
INVITE = "invite"
#: How many owed messages the safety net sends at once.
PARALLEL_SENDS = 16

#: Builds an owed message anew from the state when a sender other than the flow
#: sends it (``run_owed``); None when there is nobody to send it to any more.
Render = Callable[[FlowContext, dict[str, Any]], Awaitable["Message | None"]]
#: The renderers by name, registered by the flows that owe such messages.
RENDERERS: dict[str, Render] = {}


@dataclass(frozen=True, slots=True)
class Owed:
    """One message owed: where it goes, and the message in its reader's language."""

    claim: Claim
    to: str
    targets: tuple[str, ...]
    message: Message
    #: The participant a private message is for (marked unreachable if it fails).
    participant_id: int | None = None
    #: For a group message: one private message per partner, should the group fail.
    fallback: tuple[Owed, ...] = ()
    #: For a file: its name (unique among the recipient's files) and content, base64.
    file: tuple[str, str] | None = None
    #: Whether no other file to this recipient has the name (then a sender that takes
    #: over a dead one's claim looks for it first, where the platform lets it).
    file_name_unique: bool = False
    #: (renderer, its arguments): the row keeps these instead of the message, which a
    #: later sender builds anew (``RENDERERS``). For a message that repeats what the
    #: database holds anyway (the sign-up summary: the answers), so the row holds
    #: no copy of it and costs a fraction to write.
    render: tuple[str, dict[str, Any]] | None = None

    def payload(self, *, message: bool = True) -> dict[str, Any]:
        """What the row keeps to send it later (``message``: with the message, or the
        renderer that makes it)."""
        kept: dict[str, Any] = {}
        if message and self.render is not None:
            kept = {"render": {"name": self.render[0], "args": self.render[1]}}
        elif message:
            kept = {"message": message_to_json(self.message)}
        return {"to": self.to, "targets": list(self.targets), **kept,
                "participant": self.participant_id,
                "fallback": [{**f.payload(), "key": f.claim.key, "kind": f.claim.kind,
                              "recipient": f.claim.recipient} for f in self.fallback],
                **({"file": list(self.file)} if self.file else {}),
                **({"file_name_unique": True} if self.file_name_unique else {})}


async def record(session: Session, owed: Sequence[Owed], now: datetime) -> list[str]:
    """Write ``owed`` as pending in the caller's transaction; returns their keys."""
    await deliveries.owe(session, [deliveries.owed_row(o.claim, o.payload(), now)
                                   for o in owed])
    return [o.claim.key for o in owed]


# building ----------------------------------------------------------------------------

def for_person(ctx: FlowContext, person: Participant, round_id: int | None, kind: str,
               key: str, compose: Compose) -> list[Owed]:
    """A private message to a participant, in their language (none to the forgotten)."""
    if person.status == "forgotten":
        return []  # asked to be forgotten: never written to again (conversations/privacy)
    message = compose(ctx.language(person.locale), person)
    claim = Claim(key, kind, person.platform, person.user_id, round_id)
    return [Owed(claim, DIRECT, (person.user_id,), message, person.id)]


def file_for(ctx: FlowContext, person: Participant, round_id: int | None, kind: str,
             key: str, filename: str, content: Callable[[str], str], compose: Compose
             ) -> list[Owed]:
    """A file for a participant (a calendar invite), with ``compose``'s message beside
    it; ``content(language)`` is the file, base64. Files cannot be found again in a
    chat's history: one whose sender died before recording it may come twice."""
    if person.status == "forgotten":
        return []
    language = ctx.language(person.locale)
    claim = Claim(key, kind, person.platform, person.user_id, round_id)
    return [Owed(claim, FILE, (person.user_id,), compose(language, person), person.id,
                 file=(filename, content(language)))]


def for_tandem(ctx: FlowContext, pair: TandemPeople, round_id: int, kind: str, key: str,
               compose: Compose) -> list[Owed]:
    """One message in a shared chat where the platform has one (in each partner's
    language where they differ), else one private message each."""
    people = reachable(pair)
    singles = [o for p in people
               for o in for_person(ctx, p, round_id, kind, f"{key}:{p.id}", compose)]
    if not group_capable(ctx, pair):
        return singles
    users = (pair.mentor.user_id, pair.mentee.user_id)
    claim = Claim(key, kind, pair.mentor.platform, ",".join(users), round_id)
    return [Owed(claim, GROUP, users, in_their_languages(ctx, people, compose),
                 fallback=tuple(singles))]


def for_user(platform: str, user_id: str, round_id: int | None, kind: str, key: str,
             message: Message, file: tuple[str, bytes] | None = None) -> list[Owed]:
    """A private message (with ``file``: a file, its name unique among the person's
    files, and the message beside it) to someone who need not be a participant, e.g.
    the coordinator who asked for a proposal."""
    claim = Claim(key, kind, platform, user_id, round_id)
    return [Owed(claim, FILE if file is not None else DIRECT, (user_id,), message,
                 file=None if file is None else (file[0], base64.b64encode(file[1]).decode()),
                 file_name_unique=file is not None)]


def for_coordinators(ctx: FlowContext, languages: Languages, key: str, round_id: int | None,
                     compose: Callable[[str], Message]) -> list[Owed]:
    """Each coordinator, on each platform the bot runs on, in their own language."""
    return [Owed(claim, DIRECT, (claim.recipient,), compose(language))
            for claim, language in coordinator_claims(ctx, languages, key, round_id)]


def for_channels(ctx: FlowContext, key: str, round_id: int | None, kind: str,
                 compose: Callable[[str], Message]) -> list[Owed]:
    """Every programme channel, in the programme's language."""
    message = compose(ctx.config.default_language)
    return [Owed(Claim(f"{key}:{platform}:{channel}", kind, platform, channel, round_id),
                 CHANNEL, (channel,), message)
            for platform in ctx.messengers for channel in ctx.config.channels.get(platform, ())]


# sending -----------------------------------------------------------------------------

async def deliver(ctx: FlowContext, keys: Sequence[str]) -> list[Sent]:
    """Send these owed messages now, each once (the fast path after a change)."""
    return [await _deliver(ctx, key) for key in keys]


async def run_owed(ctx: FlowContext, now: datetime) -> int:
    """Send every owed message nobody is sending (the safety net); how many were tried."""
    async with ctx.db.session() as session:
        keys = await deliveries.owed_due(session, now)
    gate = asyncio.Semaphore(PARALLEL_SENDS)

    async def one(key: str) -> None:
        async with gate:
            if not ctx.stopping.is_set():
                await _deliver(ctx, key)

    await asyncio.gather(*(one(key) for key in keys))
    return len(keys)


def claimed(ctx: FlowContext, owed: Owed, now: datetime) -> dict[str, Any]:
    """The row of ``owed`` written already claimed by this sender (``record`` it in
    the change's transaction, then ``deliver_claimed``): the fast path needs no
    claim of its own, and a crash leaves it to ``run_owed`` once the lease ran out."""
    return deliveries.owed_row(owed.claim, owed.payload(), now, ctx.config.rhythm.claim_lease)


async def deliver_claimed(ctx: FlowContext, owed: Owed) -> Sent:
    """Send an owed message whose row was written claimed (``claimed``), after the
    commit of that write: no read and no claim, only the send and the mark."""
    # The message is at hand: sent as it is, not read back from its stored JSON.
    return await _send(ctx, Taken(deliveries.NEW, owed.claim, owed.payload(message=False)),
                       owed.message)


async def _deliver(ctx: FlowContext, key: str) -> Sent:
    async with ctx.db.session() as session:
        taken = await deliveries.claim_owed(session, key, ctx.clock.now(),
                                            ctx.config.rhythm.claim_lease)
    if taken is None:
        return Sent.ALREADY
    return await _send(ctx, taken)


async def _send(ctx: FlowContext, taken: Taken, message: Message | None = None) -> Sent:
    item, data = taken.claim, taken.payload
    messenger = ctx.messengers.get(item.platform)
    if messenger is None:
        # Its platform is not configured on this instance: left to its lease, then
        # to whichever instance runs it.
        return Sent.RETRY
    if message is None and "message" in data:
        message = message_from_json(data["message"])
    elif message is None:
        render = data.get("render") or {}
        make = RENDERERS.get(render.get("name", ""))
        if make is None:
            # A process that never loaded the flow owing it (or an older one): left to
            # its lease, for an instance that can make the message.
            log.error("no renderer %r for the owed %s; left for a later run",
                      render.get("name"), item.kind)
            async with ctx.db.session() as session:
                await deliveries.release(session, item.key, "no renderer",
                                         ctx.clock.now() + outbox.RETRY_AFTER)
            return Sent.RETRY
        message = await make(ctx, render["args"])
        if message is None:  # whom it was for is gone: nothing left to send
            async with ctx.db.session() as session:
                await deliveries.mark_failed(session, item.key, "nobody to send it to")
            return Sent.UNREACHABLE
    message = replace(message, key=item.key)
    targets = [str(t) for t in data["targets"]]

    async def send() -> str | list[str]:
        if data["to"] == GROUP:
            return await messenger.send_group(targets, message)
        if data["to"] == CHANNEL:
            return await messenger.post_channel(targets[0], message)
        if data["to"] == INVITE:
            return await messenger.invite_to_channel(targets[0], targets[1])
        if data["to"] == FILE:
            name, content = data["file"]
            return await messenger.send_file(targets[0], str(name),
                                             base64.b64decode(str(content)), message)
        return await messenger.send_direct(targets[0], message)

    async def recover() -> str | None:
        if data["to"] == INVITE:
            return None  # inviting again is harmless: nothing to look for
        if data["to"] == FILE:
            # A name used before (a re-planned meeting's invite) could find the old file.
            return (await messenger.find_file(targets[0], str(data["file"][0]))
                    if data.get("file_name_unique") else None)
        return await messenger.find_sent(targets, item.key)

    async def take() -> str:
        return taken.mode

    sent = await outbox.send_once(ctx, item, send, recover, take)
    if sent is Sent.UNREACHABLE:
        await _unreachable(ctx, item, data)
    return sent


async def _unreachable(ctx: FlowContext, item: Claim, data: dict[str, Any]) -> None:
    """A group chat that failed falls back to one message each; a person who cannot
    be reached is marked and the coordinators are told."""
    if data.get("fallback"):
        rows = [deliveries.owed_row(
            Claim(f["key"], f["kind"], item.platform, f["recipient"], item.round_id),
            {k: v for k, v in f.items() if k not in ("key", "kind", "recipient")},
            ctx.clock.now()) for f in data["fallback"]]
        async with ctx.db.session() as session:
            await deliveries.owe(session, rows)
        await deliver(ctx, [row["key"] for row in rows])
        return
    participant_id = data.get("participant")
    if isinstance(participant_id, int):
        async with ctx.db.session() as session:
            person = await participants.participant_by_id(session, participant_id)
        if person is not None:
            await unreachable(ctx, person, item.round_id)


async def unreachable(ctx: FlowContext, person: Participant, round_id: int | None) -> None:
    """Mark someone the bot cannot reach, and owe the coordinators a note, once, in the
    same transaction: "unreachable" is itself a change."""
    languages = await coordinator_languages(ctx)
    name = person.display_name or person.user_id
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        await participants.mark_unreachable(session, person.id, now)
        keys = await record(session, for_coordinators(
            ctx, languages, f"unreachable:{person.id}", round_id,
            lambda lang: Message.text(t(lang, "rhythm.unreachable", name=name))), now)
    await deliver(ctx, keys)
