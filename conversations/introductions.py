"""Introductions of new tandems and the matching announcement, each sent once.

Who sees what, in order:
1. Each tandem gets its introduction: on Slack one group DM with both partners
   (in their language; in both when they differ), on Teams a private message to
   each partner in their own language. It says who mentors and who learns, why
   they fit, the kick-off guide and a first-meeting agenda. The junior also gets,
   privately, a short guide on mentoring a senior (``conversations.mentors``).
2. Then each programme channel gets the announcement: how many tandems, the
   most wanted topics and the kick-off date. No names, nothing private.
All of them are recorded as owed in the transaction that confirms the round
(``conversations.owed``), then sent: a crash at any point loses none, and a
retry or a second instance never sends one twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import replace
from datetime import timedelta
from functools import partial

from bot.core.i18n import t
from bot.matching.explain import describe_tandem
from conversations import mentors, org_notes
from conversations.audience import Compose
from conversations.context import FlowContext
from conversations.match_input import key, tandem_from_json
from conversations.meetings import find_button
from conversations.messages import Message, Paragraph
from conversations.org_notes import Contacts
from conversations.owed import Owed, for_channels, for_tandem, record
from conversations.schedule import RoundDates
from conversations.summary import format_day, topic_labels
from storage import tandems
from storage.db import Session
from storage.models import Participant, Round
from storage.tandems import TandemPeople


def why_they_fit(ctx: FlowContext, pair: TandemPeople, reader: Participant,
                 language: str) -> str:
    mentor, mentee = pair.people
    engine_tandem = tandem_from_json({
        "mentor": mentor.id, "mentee": mentee.id,
        "mentor_name": mentor.display_name or mentor.user_id,
        "mentee_name": mentee.display_name or mentee.user_id,
        "score": pair.tandem.score, "explanation": pair.tandem.explanation,
    })
    labels = {tp.id: dict(tp.labels) for tp in ctx.config.survey.topics}
    why = describe_tandem(engine_tandem, key(reader.id), language, labels)
    source = org_notes.why_source(pair.tandem.explanation, language)
    return why if source is None else f"{why} {source}"


def in_their_words(pair: TandemPeople, language: str) -> list[Paragraph]:
    """Each partner's introduction line, as they typed it (the adapters show it as
    plain text: no mention, link or formatting comes through)."""
    return [Paragraph(t(language, f"intro.line.{person.role}",
                        name=person.display_name or person.user_id, line=person.intro))
            for person in pair.people if person.intro]


def guide(ctx: FlowContext, pair: TandemPeople, current: Round, language: str,
          reader: Participant, title_key: str, contacts: Contacts | None = None) -> Message:
    """Roles, why they fit, how to reach a partner on another platform, how the
    programme works, and a first-meeting agenda."""
    mentor, mentee = pair.people
    starts = format_day(current.starts_at.astimezone(ctx.config.timezone), language)
    reach = org_notes.how_to_reach(pair, reader, contacts or {}, language)
    return Message(
        title=t(language, title_key),
        blocks=(
            Paragraph(t(language, "intro.roles", mentor=mentor.display_name or mentor.user_id,
                        mentee=mentee.display_name or mentee.user_id)),
            Paragraph(why_they_fit(ctx, pair, reader, language)),
            *in_their_words(pair, language),
            *([Paragraph(reach)] if reach else []),
            Paragraph(t(language, "intro.guide", starts=starts)
                      if pair.tandem.joined_period is None
                      else t(language, "running.intro_guide")),
            Paragraph(t(language, "intro.agenda")),
        ),
    )


def kickoff(ctx: FlowContext, pair: TandemPeople, current: Round, language: str,
            _reader: Participant | None = None) -> Message:
    """The round's first day: what comes now (the introduction said who and why);
    both partners read the same."""
    mentor, mentee = pair.people
    ends = RoundDates.of(current, ctx.config.timezone).end - timedelta(days=1)
    return Message(
        title=t(language, "kickoff.title"),
        blocks=(
            Paragraph(t(language, "kickoff.body",
                        meetings=current.length_months * current.meetings_per_month,
                        ends=format_day(ends, language),
                        mentor=mentor.display_name or mentor.user_id,
                        mentee=mentee.display_name or mentee.user_id)),
            Paragraph(t(language, "kickoff.first_step")),
        ),
    )


def with_find_a_time(compose: Compose, tandem_id: int) -> Compose:
    """The introduction with a "Find a time" button for the first meeting."""
    def composed(language: str, reader: Participant) -> Message:
        message = compose(language, reader)
        return replace(message, buttons=(*message.buttons,
                                         find_button(language, tandem_id, 1)))
    return composed


async def owe_introductions(ctx: FlowContext, session: Session, current: Round,
                            only: Collection[int] | None = None) -> list[str]:
    """Record every tandem's introduction, then the channels' announcement, as owed,
    in the transaction that created the tandems; returns their keys, in order.
    With ``only`` (tandems matched into the running round): just theirs, no announcement."""
    pairs = await tandems.active_tandems(session, current.id)
    contacts = await org_notes.contacts(session, pairs)
    owed: list[Owed] = []
    for pair in pairs:
        if only is None or pair.tandem.id in only:
            owed += for_tandem(
                ctx, pair, current.id, "introduction", f"intro:{pair.tandem.id}",
                with_find_a_time(partial(guide, ctx, pair, current, title_key="intro.title",
                                         contacts=contacts), pair.tandem.id))
            owed += mentors.junior_guide(ctx, pair, current.id)
    if only is None:
        owed += for_channels(ctx, f"announce:matching:{current.id}", current.id,
                             "announcement", partial(matching_announcement, ctx, current, pairs))
    return await record(session, owed, ctx.clock.now())


def matching_announcement(ctx: FlowContext, current: Round, pairs: list[TandemPeople],
                          language: str) -> Message:
    """How many tandems, the most wanted topics, the kick-off: no names."""
    wanted = Counter(topic for pair in pairs for topic in pair.mentee.topics)
    top = [topic for topic, _ in wanted.most_common(3)]
    starts = format_day(current.starts_at.astimezone(ctx.config.timezone), language)
    return Message(
        title=t(language, "announce.matching.title", round=current.name),
        blocks=(Paragraph(t(
            language, "announce.matching.body", count=len(pairs), round=current.name,
            programme=ctx.config.programme_name,
            topics=topic_labels(ctx.config, top, language) or "–", starts=starts,
        )),),
    )
