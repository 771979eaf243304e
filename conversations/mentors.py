"""Support for the young mentors: a guide with their introduction, a monthly tip, and
the mentors' channel.

Who sees what, in order:
1. When a tandem is introduced, its junior (the mentor) gets a short private guide on
   mentoring a senior colleague, owed in the transaction that creates the tandem,
   once per junior and round (``junior_guide``).
2. At kick-off (for a tandem matched into the running round: when it is made), each
   junior is invited to the mentors' channel app.yaml names (``mentors_channel``):
   on Slack they are added to it (``conversations.invite``); Teams bots cannot add
   people to channels, so each junior gets the channel's link privately instead.
   Once per junior and round (the scheduled kind ``mentors_channel``).
3. With each monthly nudge, the junior gets a short tip on mentoring, privately, at
   the same local time (the scheduled kind ``mentor_tip``; app.yaml's
   ``rhythm.messages.mentor_tip`` turns it off).
The senior sees none of these.
"""

from __future__ import annotations

from bot.core.i18n import t
from conversations import running_round
from conversations.context import FlowContext
from conversations.messages import Message, Paragraph
from conversations.owed import INVITE, Owed, for_person
from conversations.schedule import in_grace, zone_of
from conversations.scheduling import Due, Situation
from storage.deliveries import Claim
from storage.models import Participant, ParticipantStatus
from storage.tandems import TandemPeople

#: How many tips the catalogues hold (``mentors.tip.<n>``); month n gets tip n, round robin.
TIPS = 6


def _guide(language: str, _reader: Participant) -> Message:
    return Message(title=t(language, "mentors.guide.title"),
                   blocks=(Paragraph(t(language, "mentors.guide.body")),
                           Paragraph(t(language, "mentors.guide.steps"))))


def junior_guide(ctx: FlowContext, pair: TandemPeople, round_id: int) -> list[Owed]:
    """The junior's "how to mentor a senior", owed with the tandem's introduction."""
    junior = pair.mentor
    return for_person(ctx, junior, round_id, "mentor_guide",
                      f"mentor-guide:{round_id}:{junior.id}", _guide)


# -- the monthly tip ------------------------------------------------------------------

async def tips_due(s: Situation) -> list[Due]:
    """Each junior's tip, due with their tandem's nudge in the junior's own time zone."""
    rhythm, found = s.ctx.config.rhythm, []
    for pair in s.pairs:
        junior = pair.mentor
        zones = [zone_of(junior.timezone, s.ctx.config.timezone)]
        latest = running_round.latest_nudge(s.dates, rhythm, zones, s.now, pair.tandem)
        if latest is not None and in_grace(latest[1], s.now, rhythm):
            month, _ = running_round.meeting_number(pair.tandem, latest[0], s.dates.periods)
            found.append(Due({"period": latest[0], "month": month}, person=junior))
    return found


def tip_message(_s: Situation, due: Due, language: str, _reader: Participant | None
                ) -> Message:
    month = due.params["month"]
    return Message(title=t(language, "mentors.tip.title", month=month),
                   blocks=(Paragraph(t(language, f"mentors.tip.{(month - 1) % TIPS + 1}")),))


# -- the mentors' channel -------------------------------------------------------------

async def channel_due(s: Situation) -> list[Due]:
    """Each junior once, at kick-off (a tandem matched later: when it was made), where
    app.yaml names a mentors' channel on the junior's platform."""
    rhythm, found = s.ctx.config.rhythm, []
    for pair in s.pairs:
        junior = pair.mentor
        if junior.platform not in s.ctx.config.mentors_channel:
            continue
        zones = [zone_of(junior.timezone, s.ctx.config.timezone)]
        at = s.dates.kickoff_at(rhythm, zones) if pair.tandem.joined_period is None \
            else pair.tandem.created_at
        if in_grace(at, s.now, rhythm):
            found.append(Due(person=junior))
    return found


def channel_message(s: Situation, due: Due, language: str, _reader: Participant | None
                    ) -> Message:
    """The channel's link, for a platform whose bots cannot add people (Teams)."""
    assert due.person is not None
    return Message(title=t(language, "mentors.channel.title"), blocks=(Paragraph(t(
        language, "mentors.channel.invited",
        link=s.ctx.config.mentors_channel[due.person.platform])),))


def channel_owed(s: Situation, due: Due, key: str) -> list[Owed]:
    """Slack: the junior added to the channel; elsewhere the channel's link, privately."""
    junior, ctx = due.person, s.ctx
    assert junior is not None
    messenger = ctx.messengers.get(junior.platform)
    if messenger is None or junior.status == ParticipantStatus.FORGOTTEN:
        return []
    if messenger.supports_channel_invite:
        claim = Claim(key, "mentors_channel", junior.platform, junior.user_id, s.round.id)
        channel = ctx.config.mentors_channel[junior.platform]
        # No participant: an invite that fails is the channel's problem, and must not
        # mark the junior as someone the bot cannot reach.
        return [Owed(claim, INVITE, (channel, junior.user_id), Message.text(""))]
    return for_person(ctx, junior, s.round.id, "mentors_channel", key,
                      lambda language, reader: channel_message(s, due, language, reader))
