"""Messages to a tandem and to the coordinators, through the outbox.

Who sees what: on a platform with group chats (Slack) the two partners get one
message in a shared chat, written in each partner's language where they
differ; elsewhere (Teams) each partner gets it privately in their own
language. Coordinators get their notices privately. A person who cannot be
reached is marked, the coordinators are told once, and everyone else still
gets their message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from conversations import outbox
from conversations.audience import (
    Compose,
    coordinator_claims,
    coordinator_languages,
    group_capable,
    in_their_languages,
    reachable,
)
from conversations.context import FlowContext, Messenger
from conversations.messages import Message
from conversations.outbox import Sent
from conversations.owed import unreachable
from storage.deliveries import Claim
from storage.models import Participant, ParticipantStatus
from storage.tandems import TandemPeople


async def to_tandem(ctx: FlowContext, pair: TandemPeople, round_id: int, kind: str,
                    key: str, compose: Compose) -> list[Sent]:
    """``compose(language, reader)`` writes the message for one reader."""
    mentor, mentee = pair.mentor, pair.mentee
    people = reachable(pair)
    if group_capable(ctx, pair):
        users = [mentor.user_id, mentee.user_id]
        claim = Claim(key, kind, mentor.platform, ",".join(users), round_id)
        sent = await outbox.group(ctx, claim, users, in_their_languages(ctx, people, compose))
        if sent is not Sent.UNREACHABLE:
            return [sent]
        # The group chat failed for one of them: find out who, one by one.
    return [await to_person(ctx, person, round_id, kind, f"{key}:{person.id}", compose)
            for person in people]


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
