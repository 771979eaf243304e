"""Messages to a tandem and to the coordinators, through the outbox.

Who sees what: on a platform with group chats (Slack) the two partners get one
message in a shared chat, written in each partner's language where they
differ; elsewhere (Teams) each partner gets it privately in their own
language. Coordinators get their notices privately. A person who cannot be
reached is marked, the coordinators are told once, and everyone else still
gets their message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from bot.core.i18n import t
from conversations import outbox
from conversations.context import FlowContext, Messenger
from conversations.messages import Button, Message
from conversations.outbox import Sent
from storage import participants
from storage.deliveries import Claim
from storage.models import Participant, ParticipantStatus
from storage.tandems import TandemPeople

log = logging.getLogger(__name__)

Compose = Callable[[str, Participant], Message]


def merge(messages: list[Message]) -> Message:
    """One message from the same message in several languages."""
    if len(messages) == 1:
        return messages[0]
    titles = [m.title for m in messages if m.title]
    buttons = tuple(
        Button(first.action_id, " / ".join(dict.fromkeys(b.label for b in same)),
               first.value, first.style)
        for same in zip(*(m.buttons for m in messages), strict=False)
        for first in [same[0]]
    )
    return Message(
        title=" / ".join(dict.fromkeys(titles)) or None,
        blocks=tuple(block for m in messages for block in m.blocks),
        buttons=buttons,
    )


def _reachable(pair: TandemPeople) -> list[Participant]:
    return [p for p in (pair.mentee, pair.mentor)
            if p.unreachable_at is None
            and p.status not in (ParticipantStatus.LEFT, ParticipantStatus.FORGOTTEN)]


def group_capable(ctx: FlowContext, pair: TandemPeople) -> bool:
    """Whether the tandem can get one message in a shared chat."""
    messenger = ctx.messengers.get(pair.mentor.platform)
    return (len(_reachable(pair)) == 2 and pair.mentor.platform == pair.mentee.platform
            and messenger is not None and messenger.supports_group)


async def to_tandem(ctx: FlowContext, pair: TandemPeople, round_id: int, kind: str,
                    key: str, compose: Compose) -> list[Sent]:
    """``compose(language, reader)`` writes the message for one reader."""
    mentor, mentee = pair.mentor, pair.mentee
    reachable = _reachable(pair)
    if group_capable(ctx, pair):
        languages = list(dict.fromkeys(ctx.language(p.locale) for p in reachable))
        # Each language part is told from the side of the partner who reads it.
        parts = [compose(lang, next(p for p in reachable if ctx.language(p.locale) == lang))
                 for lang in languages]
        users = [mentor.user_id, mentee.user_id]
        claim = Claim(key, kind, mentor.platform, ",".join(users), round_id)
        sent = await outbox.group(ctx, claim, users, merge(parts))
        if sent is not Sent.UNREACHABLE:
            return [sent]
        # The group chat failed for one of them: find out who, one by one.
    return [await to_person(ctx, person, round_id, kind, f"{key}:{person.id}", compose)
            for person in reachable]


async def to_person(ctx: FlowContext, person: Participant, round_id: int | None, kind: str,
                    key: str, compose: Compose) -> Sent:
    if person.status == ParticipantStatus.FORGOTTEN:
        return Sent.ALREADY  # asked to be forgotten: never written to again (conversations/privacy)
    if person.platform not in ctx.messengers:
        return Sent.RETRY
    message = compose(ctx.language(person.locale), person)
    claim = Claim(key, kind, person.platform, person.user_id, round_id)
    sent = await outbox.direct(ctx, claim, person.user_id, message)
    if sent is Sent.UNREACHABLE:
        await unreachable(ctx, person, round_id)
    return sent


async def unreachable(ctx: FlowContext, person: Participant, round_id: int | None) -> None:
    async with ctx.db.session() as session:
        await participants.mark_unreachable(session, person.id, ctx.clock.now())
    name = person.display_name or person.user_id
    await to_coordinators(
        ctx, f"unreachable:{person.id}", round_id,
        lambda lang, _messenger: Message.text(t(lang, "rhythm.unreachable", name=name)),
    )


Languages = dict[tuple[str, str], str]


async def coordinator_languages(ctx: FlowContext) -> Languages:
    """Each coordinator's language, found as a participant's is (Slack ``users.info``,
    Teams the locale of their last message, both cached), else app.yaml's default.
    Asked before a transaction opens: a lookup may go to the platform."""
    found: Languages = {}
    for platform, messenger in ctx.messengers.items():
        for coordinator in ctx.config.coordinator_ids(platform):
            try:
                locale = await messenger.locale_of(coordinator)
            except Exception:  # a failed lookup must not hold up an alert
                log.warning("no locale for a coordinator on %s; using the default", platform)
                locale = None
            found[(platform, coordinator)] = ctx.language(locale)
    return found


def coordinator_claims(ctx: FlowContext, languages: Languages, key: str,
                       round_id: int | None) -> list[tuple[Claim, str]]:
    """Each coordinator on each platform the bot runs on: their claim of ``key``, and
    their language."""
    return [(Claim(f"{key}:{platform}:{coordinator}", "coordinator", platform, coordinator,
                   round_id),
             languages.get((platform, coordinator), ctx.config.default_language))
            for platform in ctx.messengers
            for coordinator in ctx.config.coordinator_ids(platform)]


async def to_coordinators(ctx: FlowContext, key: str, round_id: int | None,
                          compose: Callable[[str, Messenger], Message]) -> list[Sent]:
    """Each coordinator, on each platform the bot runs on, once per key, in their own
    language; ``compose`` gets the language and the platform's messenger (how commands
    are typed there)."""
    languages = await coordinator_languages(ctx)
    return [await outbox.direct(ctx, claim, claim.recipient,
                                compose(language, ctx.messenger(claim.platform)))
            for claim, language in coordinator_claims(ctx, languages, key, round_id)]


async def to_channels(ctx: FlowContext, key: str, round_id: int | None,
                      compose: Callable[[str], Message],
                      channels: Iterable[tuple[str, str]] | None = None) -> list[Sent]:
    """Every programme channel (or just ``channels``, as (platform, channel) pairs),
    in the programme's language, once per key."""
    message = compose(ctx.config.default_language)
    if channels is None:
        channels = [(platform, channel) for platform in ctx.messengers
                    for channel in ctx.config.channels.get(platform, ())]
    results = []
    for platform, channel in channels:
        if platform not in ctx.messengers:
            continue
        claim = Claim(f"{key}:{platform}:{channel}", "announcement", platform, channel,
                      round_id)
        results.append(await outbox.channel(ctx, claim, channel, message))
    return results
