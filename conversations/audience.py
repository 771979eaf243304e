"""Who a message reaches, and in which language: the pieces every sender shares.

A tandem reads one message in a shared chat where the platform has one (Slack),
in each partner's language where they differ; coordinators read theirs in
their own language, found as a participant's is. Both the outbox of scheduled
messages (``tandem_delivery``) and the owed messages of a change (``owed``)
build on this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from conversations.context import FlowContext
from conversations.messages import Button, Message
from storage.deliveries import Claim
from storage.models import Participant
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


def in_their_languages(ctx: FlowContext, people: list[Participant], compose: Compose
                       ) -> Message:
    """One message for a shared chat: in each reader's language where they differ,
    each language part told from the side of the partner who reads it."""
    languages = list(dict.fromkeys(ctx.language(p.locale) for p in people))
    return merge([compose(lang, next(p for p in people if ctx.language(p.locale) == lang))
                  for lang in languages])


def reachable(pair: TandemPeople) -> list[Participant]:
    """The partners the bot may still write to."""
    return [p for p in (pair.mentee, pair.mentor)
            if p.unreachable_at is None and p.status not in ("left", "forgotten")]


def group_capable(ctx: FlowContext, pair: TandemPeople) -> bool:
    """Whether the tandem can get one message in a shared chat."""
    messenger = ctx.messengers.get(pair.mentor.platform)
    return (len(reachable(pair)) == 2 and pair.mentor.platform == pair.mentee.platform
            and messenger is not None and messenger.supports_group)


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
