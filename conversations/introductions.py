"""Introductions of new tandems and the matching announcement, each sent once.

Who sees what, in order:
1. Each tandem gets its introduction: on Slack one group DM with both partners
   (in their language; in both when they differ), on Teams a private message to
   each partner in their own language. It says who mentors and who learns, why
   they fit, the kick-off guide and a first-meeting agenda.
2. Then each programme channel gets the announcement: how many tandems, the
   most wanted topics and the kick-off date. No names, nothing private.
Every message goes through the outbox, so a retry or a second instance never
sends one twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from bot.i18n import t
from bot.matching.explain import describe_tandem
from conversations.context import FlowContext, Messenger
from conversations.match_input import key, tandem_from_json
from conversations.messages import Message, Paragraph
from conversations.outbox import send_once
from conversations.summary import format_day, topic_labels
from storage.deliveries import Claim
from storage.models import Participant, Round, Tandem

Send = Callable[[], Awaitable[str | list[str]]]


def _labels(ctx: FlowContext) -> dict[str, dict[str, str]]:
    return {tp.id: dict(tp.labels) for tp in ctx.config.survey.topics}


def introduction(ctx: FlowContext, tandem: Tandem, mentor: Participant, mentee: Participant,
                 reader: Participant, language: str, starts: str) -> list[Paragraph]:
    engine_tandem = tandem_from_json({
        "mentor": mentor.id, "mentee": mentee.id,
        "mentor_name": mentor.display_name or mentor.user_id,
        "mentee_name": mentee.display_name or mentee.user_id,
        "score": tandem.score, "explanation": tandem.explanation,
    })
    why = describe_tandem(engine_tandem, key(reader.id), language, _labels(ctx))
    return [
        Paragraph(t(language, "intro.roles",
                    mentor=engine_tandem.mentor_name, mentee=engine_tandem.mentee_name)),
        Paragraph(why),
        Paragraph(t(language, "intro.guide", starts=starts)),
        Paragraph(t(language, "intro.agenda")),
    ]


async def introduce_round(ctx: FlowContext, round_id: int) -> None:
    async with ctx.db.session() as session:
        current = await session.get(Round, round_id)
        tandems = list(await session.scalars(
            select(Tandem).where(Tandem.round_id == round_id, Tandem.status == "active")
            .order_by(Tandem.id)
        ))
        ids = {t_.mentor_id for t_ in tandems} | {t_.mentee_id for t_ in tandems}
        people = {p.id: p for p in await session.scalars(
            select(Participant).where(Participant.id.in_(ids))
        )} if ids else {}
    assert current is not None
    for tandem in tandems:
        await _introduce(ctx, current, tandem, people[tandem.mentor_id],
                         people[tandem.mentee_id])
    await announce_matching(ctx, current, tandems, people)


async def _introduce(ctx: FlowContext, current: Round, tandem: Tandem,
                     mentor: Participant, mentee: Participant) -> None:
    zone = ctx.config.timezone
    same_platform = mentor.platform == mentee.platform
    messenger = ctx.messengers.get(mentor.platform)
    if same_platform and messenger is not None and messenger.supports_group:
        languages = list(dict.fromkeys(ctx.language(p.locale) for p in (mentee, mentor)))
        blocks: list[Paragraph] = []
        for language in languages:
            # Partners with different languages each read the part in theirs, told
            # from their side; with one language, from the senior's side.
            reader = mentee if ctx.language(mentee.locale) == language else mentor
            blocks += introduction(ctx, tandem, mentor, mentee, reader, language,
                                   format_day(current.starts_at.astimezone(zone), language))
        title = " / ".join(t(lang, "intro.title") for lang in languages)
        message = Message(title=title, blocks=tuple(blocks))
        users = [mentor.user_id, mentee.user_id]
        await send_once(
            ctx, Claim(f"intro:{tandem.id}", "introduction", mentor.platform,
                       ",".join(users), current.id, None),
            _group(messenger, users, message),
        )
        return
    for reader in (mentor, mentee):
        reader_messenger = ctx.messengers.get(reader.platform)
        if reader_messenger is None:
            continue
        language = ctx.language(reader.locale)
        message = Message(
            title=t(language, "intro.title"),
            blocks=tuple(introduction(ctx, tandem, mentor, mentee, reader, language,
                                      format_day(current.starts_at.astimezone(zone),
                                                 language))),
        )
        await send_once(
            ctx, Claim(f"intro:{tandem.id}:{reader.id}", "introduction", reader.platform,
                       reader.user_id, current.id, None),
            _direct(reader_messenger, reader.user_id, message),
        )


def _direct(messenger: Messenger, user_id: str, message: Message) -> Send:
    async def send() -> str:
        return await messenger.send_direct(user_id, message)

    return send


def _group(messenger: Messenger, user_ids: list[str], message: Message) -> Send:
    async def send() -> list[str]:
        return await messenger.send_group(user_ids, message)

    return send


async def announce_matching(ctx: FlowContext, current: Round, tandems: list[Tandem],
                            people: dict[int, Participant]) -> None:
    wanted = Counter(topic for tandem in tandems for topic in people[tandem.mentee_id].topics)
    top = [topic for topic, _ in wanted.most_common(3)]
    language = ctx.config.default_language
    starts = format_day(current.starts_at.astimezone(ctx.config.timezone), language)
    message = Message(
        title=t(language, "announce.matching.title", round=current.name),
        blocks=(Paragraph(t(
            language, "announce.matching.body", count=len(tandems), round=current.name,
            programme=ctx.config.programme_name,
            topics=topic_labels(ctx.config, top, language) or "–", starts=starts,
        )),),
    )
    for platform, messenger in ctx.messengers.items():
        for channel in ctx.config.channels.get(platform, ()):
            await send_once(
                ctx, Claim(f"announce:matching:{current.id}:{platform}:{channel}",
                           "announcement", platform, channel, current.id, None),
                _channel(messenger, channel, message),
            )


def _channel(messenger: Messenger, channel: str, message: Message) -> Send:
    async def send() -> str:
        return await messenger.post_channel(channel, message)

    return send
