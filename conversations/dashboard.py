"""The dashboard: a person's own overview; for a coordinator, the programme too.

Who sees what, in order (Slack: the bot's App Home tab, published when the
person opens it; Teams: the ``dashboard`` command, coordinators only, as a card
in their personal chat):
1. Everyone sees their own place: the round, their tandem partner, when the
   next meeting nudge comes (in their own time zone) and their tandem's
   check-ins so far. Someone not signed up sees how to sign up.
2. A coordinator additionally sees the programme at a glance (the figures of
   ``conversations.reporting``: counts and averages, small groups hidden), and
   then, by name and for their eyes only: the stalled tandems, the people the
   bot can no longer reach, and the reflections whose author chose to share
   them with the coordinators. Private and partner-only reflections never
   appear. Each time a coordinator sees this part it is written to the audit log.
The ``dashboard`` command refuses anyone who is not a coordinator (politely,
and nothing happens); participants have ``status`` and, on Slack, the App Home.
"""

from __future__ import annotations

from bot.core.i18n import t
from conversations import figures as figs
from conversations.context import FlowContext
from conversations.coordination import audit, require_coordinator
from conversations.events import Actor, Command
from conversations.figures import Attention
from conversations.messages import Block, Facts, Message, Paragraph
from conversations.outcomes import Outcome, Reply
from conversations.reporting import current_round, figure_blocks
from conversations.schedule import RoundDates, zone_of
from conversations.summary import format_moment
from storage import checkins, participants, tandems
from storage.models import Participant, ParticipantStatus, Round, Tandem

SHOWN_SHARED = 10


async def home(ctx: FlowContext, actor: Actor, via: str = "home") -> Message:
    """The person's overview, as one message (the App Home tab, or a card)."""
    current = await current_round(ctx)
    async with ctx.db.session() as session:
        person = await participants.participant_for(session, actor.platform, actor.user_id,
                                                    [current.id])
        everywhere = await tandems.tandems_of(session, person) if person else []
        mine = [x for x in everywhere if x.round_id == current.id]
        partners = [await participants.participant_by_id(
                        session, x.mentee_id if x.mentor_id == person.id else x.mentor_id)
                    for x in mine] if person else []
        answers = await checkins.checkins(session, current.id) if mine else {}
    language = ctx.language(actor.locale, person.locale if person else None)
    blocks: list[Block] = list(_own(ctx, actor, current, person, mine, partners, answers,
                                    language))
    if ctx.config.is_coordinator(actor.platform, actor.user_id):
        blocks += await _programme(ctx, actor, current, language, via)
    return Message(title=t(language, "dashboard.title", programme=ctx.config.programme_name),
                   blocks=tuple(blocks))


def _own(ctx: FlowContext, actor: Actor, current: Round, person: Participant | None,
         tandems: list[Tandem], partners: list[Participant | None],
         answers: dict[tuple[int, int], str], language: str) -> list[Block]:
    cmd = ctx.messenger(actor.platform).command_prefix if actor.platform in ctx.messengers \
        else ""
    if person is None or person.round_id != current.id or person.status == ParticipantStatus.LEFT:
        return [Paragraph(t(language, "dashboard.not_signed_up", round=current.name,
                            cmd=cmd))]
    dates = RoundDates.of(current, ctx.config.timezone)
    rhythm, now = ctx.config.rhythm, ctx.clock.now()
    zone = zone_of(person.timezone or actor.timezone, ctx.config.timezone)
    upcoming = next((dates.nudge_at(p, rhythm, [zone]) for p in range(1, dates.periods + 1)
                     if dates.nudge_at(p, rhythm, [zone]) > now), None)
    names = [p.display_name or p.user_id for p in partners if p is not None]
    facts = [
        (t(language, "dashboard.round"), current.name),
        (t(language, "dashboard.partner"),
         ", ".join(names) if names else t(language, "dashboard.no_tandem")),
    ]
    if tandems:
        facts.append((t(language, "dashboard.next_nudge"),
                      format_moment(upcoming.astimezone(zone), language) if upcoming
                      else t(language, "dashboard.no_next_nudge")))
    blocks: list[Block] = [Facts(tuple(facts))]
    started = [p for p in range(1, dates.periods + 1)
               if dates.nudge_at(p, rhythm, [zone]) <= now]
    if tandems and started:
        blocks.append(Paragraph(t(language, "dashboard.checkins_title")))
        blocks.append(Facts(tuple(
            (t(language, "dashboard.meeting", number=p),
             " · ".join(t(language, f"dashboard.checkin.{answers.get((x.id, p), 'none')}")
                        for x in tandems))
            for p in started)))
    blocks.append(Paragraph(t(language, "dashboard.hint", cmd=cmd)))
    return blocks


async def _programme(ctx: FlowContext, actor: Actor, current: Round, language: str,
                     via: str) -> list[Block]:
    data = await figs.load(ctx.db, current)
    now = ctx.clock.now()
    found = figs.programme(ctx.config, data, now)
    blocks: list[Block] = [Paragraph(t(language, "dashboard.programme_title"))]
    blocks += figure_blocks(ctx.config, found, language)
    blocks += _attention(figs.attention(ctx.config, data, now), language)
    await audit(ctx, actor, "dashboard", round=current.name, via=via)
    return blocks


def _attention(seen: Attention, language: str) -> list[Block]:
    none = t(language, "dashboard.none")
    blocks: list[Block] = [
        Paragraph(t(language, "dashboard.stalled_title") + "\n"
                  + ("\n".join(f"• {junior} → {senior}" for junior, senior in seen.stalled)
                     or none)),
        Paragraph(t(language, "dashboard.unreachable_title") + "\n"
                  + ("\n".join(f"• {name}" for name in seen.unreachable) or none)),
    ]
    shared = seen.shared[-SHOWN_SHARED:]
    blocks.append(Paragraph(t(language, "dashboard.shared_title")))
    if shared:
        blocks.append(Facts(tuple(
            (t(language, "dashboard.shared_label", author=r.author, month=r.month,
               rating=f"{r.rating}/5" if r.rating else "–"),
             t(language, "dashboard.shared_value", learned=r.learned or "–",
               try_next=r.try_next or "–"))
            for r in reversed(shared))))
    else:
        blocks.append(Paragraph(none))
    return blocks


async def command(ctx: FlowContext, cmd: Command) -> Outcome:
    require_coordinator(ctx, cmd.actor)
    return Reply(await home(ctx, cmd.actor, via="command"))
