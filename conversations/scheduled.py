"""Every kind of message the bot sends on its own schedule, declared once.

**To add a scheduled message**: write its ``when`` (the occasions due at an
instant) and its ``message`` below, add one ``Kind`` to ``KINDS``, and add its
catalogue keys to every language in ``bot/core/catalogues/`` (with a
``switch.<name>`` key if app.yaml may turn it off). ``run_due``, the router's
buttons, app.yaml's ``rhythm.messages`` and ``run-due``'s report follow from here.

Who sees what, in the order ``run_due`` sends it:
1. Planned announcements (app.yaml ``announcements``): their channels.
2. Sign-up opens: the programme channels get an announcement with how to join
   and a "Sign up" button; some days before it closes, a reminder.
3. Sign-up closes: the coordinators are told how many juniors and seniors
   signed up and are asked to run the matching.
4. Kick-off, on the round's first day: each tandem gets the kick-off guide; each
   junior is invited to the mentors' channel, if app.yaml names one
   (``conversations.mentors``).
5. Every month: each tandem gets its meeting nudge with a meeting guide (one idea
   for the hour, never the same twice: ``conversations.guides``) and
   "We met" / "Not yet, remind me in a week" / "We need help". A tandem that has
   not met for ``stalled_after_periods`` months is flagged to the coordinators,
   once. "Remind me" comes back as a one-off reminder a week later. While people
   of a confirmed round wait for a tandem, the coordinators are told so, once,
   then at most weekly (``conversations.running_round``). A few days after a
   tandem's first meeting each partner is asked privately whether the pairing
   works (``conversations.fit_check``). With each nudge the junior gets a short
   tip on mentoring a senior, privately (``rhythm.messages.mentor_tip``).
6. Half-way: each participant gets a short pulse ("How is it going?").
7. Wrap-up, on the round's last day: each participant gets the closing
   evaluation, then the channels get a thank-you with the round's outcome
   (counts only, nothing private).
8. Two weeks later, the wrap-up's highlights: the sentences participants offered in
   the evaluation and the coordinators approved, with names only where the person
   agreed (``conversations.highlights``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.core.i18n import t
from conversations import (
    checkin,
    directory_sync,
    evaluation,
    fit_check,
    guides,
    highlights,
    meetings,
    mentors,
    running_round,
)
from conversations.announce import channel_message
from conversations.audience import group_capable
from conversations.context import FlowContext
from conversations.introductions import kickoff
from conversations.messages import Message, Paragraph, command_button
from conversations.schedule import in_grace, zone_of
from conversations.scheduling import (
    Audience,
    Build,
    ButtonHandler,
    ButtonSpec,
    Due,
    Kind,
    Situation,
)
from conversations.summary import format_day, topic_labels
from storage import guides as stored_guides
from storage import participants
from storage.models import Participant, RoundStatus
from storage.tandems import TandemPeople

# -- sign-up: the channels and the coordinators -----------------------------------------


def _signup_days(s: Situation) -> tuple[date, date]:
    zone = s.ctx.config.timezone
    return (s.round.signup_opens_at.astimezone(zone).date(),
            s.round.signup_closes_at.astimezone(zone).date())


def _on_day(s: Situation, day: date) -> list[Due]:
    return [Due()] if in_grace(s.dates.lifecycle_at(day, s.ctx.config.rhythm), s.now,
                               s.ctx.config.rhythm) else []


async def _signup_opened(s: Situation) -> list[Due]:
    return _on_day(s, _signup_days(s)[0])


async def _signup_reminder(s: Situation) -> list[Due]:
    opens, closes = _signup_days(s)
    day = closes - timedelta(days=s.ctx.config.rhythm.signup_reminder_days)
    return _on_day(s, day) if day > opens else []


async def _signup_closed(s: Situation) -> list[Due]:
    if not _on_day(s, _signup_days(s)[1]):
        return []
    async with s.ctx.db.session() as session:
        counts = await participants.signups_by_role(session, s.round.id)
    # Matched early (before sign-up closed): the note says so instead of asking for it.
    return [Due({"juniors": counts.get("mentor", 0), "seniors": counts.get("mentee", 0),
                 "matched": s.round.status != RoundStatus.OPEN})]


def _announcement(name: str) -> Build:
    def build(s: Situation, _due: Due, language: str, _reader: Participant | None) -> Message:
        last_day = _signup_days(s)[1] - timedelta(days=1)
        return Message(
            title=t(language, f"rhythm.{name}.title", round=s.round.name),
            blocks=(Paragraph(t(language, f"rhythm.{name}.body",
                                programme=s.ctx.config.programme_name, round=s.round.name,
                                closes=format_day(last_day, language),
                                starts=format_day(s.dates.start, language))),),
        )
    return build


def _closed(s: Situation, due: Due, language: str, _reader: Participant | None) -> Message:
    # The command as typed where it needs a prefix (Slack's "/tandem "), if any platform does.
    cmd = next((m.command_prefix for m in s.ctx.messengers.values() if m.command_prefix), "")
    key = "rhythm.signup_closed.matched" if due.params["matched"] else "rhythm.signup_closed"
    return Message.text(t(language, key, round=s.round.name, cmd=cmd,
                          juniors=due.params["juniors"], seniors=due.params["seniors"]))


SIGN_UP = (ButtonSpec(command_button("signup"), "rhythm.signup_button", None, "primary"),)

# -- planned announcements (app.yaml) ---------------------------------------------------


async def _planned(s: Situation) -> list[Due]:
    return [Due({"announcement": planned.id}, channels=tuple(planned.channels))
            for planned in s.ctx.config.announcements
            if in_grace(planned.at, s.now, s.ctx.config.rhythm)]


def _planned_message(s: Situation, due: Due, _language: str, _reader: Participant | None
                     ) -> Message:
    planned = next(p for p in s.ctx.config.announcements
                   if p.id == due.params["announcement"])
    return channel_message(s.ctx, planned.text(s.ctx.config.default_language),
                           planned.signup_button)


# -- the tandems ------------------------------------------------------------------------


def _zones(s: Situation, people: tuple[Participant, ...]) -> list[ZoneInfo]:
    return [zone_of(p.timezone, s.ctx.config.timezone) for p in people]


def _audiences(s: Situation, pair: TandemPeople
               ) -> list[tuple[Participant | None, list[ZoneInfo]]]:
    """Who gets a tandem message at which local time: both at once in a shared chat
    (at the later of their two local times), or each in their own time zone."""
    if group_capable(s.ctx, pair):
        return [(None, _zones(s, pair.people))]
    return [(person, _zones(s, (person,))) for person in pair.people]


async def _kickoff(s: Situation) -> list[Due]:
    rhythm = s.ctx.config.rhythm
    return [Due(pair=pair, person=person) for pair in s.pairs
            for person, zones in _audiences(s, pair)
            if in_grace(s.dates.kickoff_at(rhythm, zones), s.now, rhythm)]


def _kickoff_message(s: Situation, due: Due, language: str, reader: Participant | None
                     ) -> Message:
    assert due.pair is not None
    return kickoff(s.ctx, due.pair, s.round, language, reader)


async def _nudges(s: Situation) -> list[Due]:
    rhythm, found = s.ctx.config.rhythm, []
    for pair in s.pairs:
        for person, zones in _audiences(s, pair):
            latest = running_round.latest_nudge(s.dates, rhythm, zones, s.now, pair.tandem)
            if latest is None:
                continue
            period, due = latest
            if (pair.tandem.id, period) in s.meetings:
                continue  # the month is covered: its check-in follows the meeting
            if in_grace(due, s.now, rhythm) and s.answers.get((pair.tandem.id, period)) != "met":
                found.append(Due({"period": period}, pair=pair, person=person))
    return found


async def _reminders(s: Situation) -> list[Due]:
    rhythm = s.ctx.config.rhythm
    if s.now >= s.dates.end_at(rhythm):
        return []  # a reminder after the round helps nobody
    by_id = {pair.tandem.id: pair for pair in s.pairs}
    due = [reminder for reminder in s.reminders
           if reminder.tandem_id in by_id
           and s.answers.get((reminder.tandem_id, reminder.period)) != "met"
           and (reminder.tandem_id, reminder.period) not in s.meetings
           and in_grace(reminder.due_at, s.now, rhythm)]  # long overdue helps nobody
    if not due:
        return []
    async with s.ctx.db.reading() as session:  # the month's guide, as its nudge showed it
        given = await stored_guides.given(session, {r.tandem_id for r in due})
    return [Due({"period": r.period, "guide": given.get((r.tandem_id, r.period))},
                pair=by_id[r.tandem_id]) for r in due]


def suggested_topic(ctx: FlowContext, pair: TandemPeople, period: int, language: str) -> str:
    """A topic for this month: the ones the junior offers and the senior wants first,
    in turn; then the senior's other wishes."""
    offered = list(pair.tandem.explanation.get("offered_wished") or [])
    wished = [tp for tp in pair.mentee.topics if tp not in offered]
    topics = offered + wished or list(pair.mentor.topics)
    if not topics:
        return t(language, "nudge.topic_open")
    return topic_labels(ctx.config, [topics[(period - 1) % len(topics)]], language)


def _nudge_message(prefix: str) -> Build:
    def build(s: Situation, due: Due, language: str, _reader: Participant | None) -> Message:
        assert due.pair is not None
        month, total = running_round.meeting_number(due.pair.tandem, due.params["period"],
                                                    s.dates.periods)
        period = due.params["period"]
        idea = guides.paragraph(s.ctx.config, due.params.get("guide"), language)
        return Message(
            title=t(language, f"{prefix}.title", month=month),
            blocks=(
                Paragraph(t(language, f"{prefix}.body", month=month, total=total)),
                idea or Paragraph(t(language, "nudge.topic", topic=suggested_topic(
                    s.ctx, due.pair, period, language))),
            ),
        )
    return build


CHECK_IN = (
    ButtonSpec(checkin.CHECKIN_MET, "checkin.met_button", checkin.answer, "primary"),
    ButtonSpec(checkin.CHECKIN_LATER, "checkin.later_button", checkin.answer),
    ButtonSpec(checkin.CHECKIN_HELP, "checkin.help_button", checkin.answer),
)
#: The nudge and the reminder also offer to find a time.
NUDGE = (*CHECK_IN, ButtonSpec(meetings.FIND, "meetings.find_button", meetings.find_a_time))


def _meeting_ahead(s: Situation, tandem_id: int) -> bool:
    """A meeting in the calendar, or held less than a week ago (its check-in is out)."""
    return any(m.tandem_id == tandem_id and m.starts_at is not None
               and m.starts_at >= s.now - timedelta(days=7) for m in s.meetings.values())


async def _meeting_checkins(s: Situation) -> list[Due]:
    """"Did you meet?" the working day after a scheduled meeting, in each one's morning."""
    found, by_id = [], {pair.tandem.id: pair for pair in s.pairs}
    for (tandem_id, period), meeting in s.meetings.items():
        pair = by_id.get(tandem_id)
        if pair is None or meeting.starts_at is None or meeting.starts_at > s.now \
                or s.answers.get((tandem_id, period)) == "met":
            continue
        audiences = [None] if group_capable(s.ctx, pair) else list(pair.people)
        for person in audiences:
            people = pair.people if person is None else (person,)
            if in_grace(await meetings.checkin_at(s.ctx, people, meeting.starts_at), s.now,
                        s.ctx.config.rhythm):
                found.append(Due({"period": period}, pair=pair, person=person))
    return found


def _meeting_checkin_message(s: Situation, due: Due, language: str, reader: Participant | None
                             ) -> Message:
    assert due.pair is not None
    meeting = s.meetings[(due.pair.tandem.id, due.params["period"])]
    assert meeting.starts_at is not None
    where = meetings.zone(s.ctx, reader) if reader is not None else s.ctx.config.timezone
    return Message(title=t(language, "meetings.checkin_title"), blocks=(Paragraph(t(
        language, "meetings.checkin", day=meetings.when(language, meeting.starts_at, where))),))


def stalled_since(answers: Mapping[tuple[int, int], str], tandem_id: int, period: int,
                  needed: int, first: int = 1) -> int | None:
    """The first month of the current run without a meeting, once that run is
    ``needed`` finished months long (``period`` has just begun). One run is one
    flag: it is keyed by its first month, so it is sent once, not every day.
    ``first``: the month the tandem joined the round."""
    met = [p for p in range(first, period) if answers.get((tandem_id, p)) == "met"]
    since = (met[-1] + 1) if met else first
    return since if period - since >= needed else None


async def _stalled(s: Situation) -> list[Due]:
    rhythm, found = s.ctx.config.rhythm, []
    for pair in s.pairs:
        if _meeting_ahead(s, pair.tandem.id):
            continue  # a meeting in the calendar (or just held) is no stalled tandem
        latest = running_round.latest_nudge(s.dates, rhythm, _zones(s, pair.people), s.now,
                                            pair.tandem)
        since = latest and stalled_since(s.answers, pair.tandem.id, latest[0],
                                         rhythm.stalled_after_periods,
                                         pair.tandem.joined_period or 1)
        if since:
            found.append(Due({"since": since}, pair=pair))
    return found


def _stalled_message(s: Situation, due: Due, language: str, _reader: Participant | None
                     ) -> Message:
    assert due.pair is not None
    mentor, mentee = due.pair.people
    return Message.text(t(language, "rhythm.stalled", round=s.round.name,
                          mentor=mentor.display_name or mentor.user_id,
                          mentee=mentee.display_name or mentee.user_id,
                          months=s.ctx.config.rhythm.stalled_after_periods))


# -- each participant: the pulse and the evaluation -------------------------------------


def _everyone(s: Situation) -> list[Due]:
    return [Due(person=person) for pair in s.pairs for person in pair.people]


async def _pulse(s: Situation) -> list[Due]:
    day = s.dates.pulse_day()
    return _everyone(s) if day is not None and _on_day(s, day) else []


def _pulse_message(s: Situation, _due: Due, language: str, _reader: Participant | None
                   ) -> Message:
    return Message(title=t(language, "pulse.title"),
                   blocks=(Paragraph(t(language, "pulse.body", round=s.round.name)),))


def _round_over(s: Situation) -> bool:
    return in_grace(s.dates.end_at(s.ctx.config.rhythm), s.now, s.ctx.config.rhythm)


async def _evaluation(s: Situation) -> list[Due]:
    return _everyone(s) if _round_over(s) else []


def _evaluation_message(s: Situation, _due: Due, language: str, _reader: Participant | None
                        ) -> Message:
    return Message(title=t(language, "evaluation.title", round=s.round.name),
                   blocks=(Paragraph(t(language, "evaluation.invite", round=s.round.name)),))


def wrapup_outcome(s: Situation) -> Due:
    """The thank-you's figures: tandems, meetings, tandems that met at least once."""
    met = [tandem for (tandem, _), answer in s.answers.items() if answer == "met"]
    return Due({"tandems": len(s.pairs), "meetings": len(met), "met_once": len(set(met))})


async def _wrapup(s: Situation) -> list[Due]:
    return [wrapup_outcome(s)] if s.pairs and _round_over(s) else []


def _wrapup_message(s: Situation, due: Due, language: str, _reader: Participant | None
                    ) -> Message:
    return Message(
        title=t(language, "wrapup.title", round=s.round.name),
        blocks=(Paragraph(t(language, "wrapup.body", programme=s.ctx.config.programme_name,
                            round=s.round.name, **due.params)),),
    )


# -- the registry -----------------------------------------------------------------------

# -- the company directory, at night: synced, and the coordinators told what changed ----


async def _directory_sync(s: Situation) -> list[Due]:
    # One note a night (its key is the night's), however many sources were synced.
    reports = await directory_sync.nightly(s.ctx, s.now)
    if not any(r.leavers or r.counts.left or r.counts.added for r in reports):
        return []
    return [Due({"day": s.now.astimezone(s.ctx.config.timezone).date().isoformat(),
                 "source": ", ".join(r.source for r in reports),
                 "people": sum(r.people for r in reports),
                 "added": sum(r.counts.added for r in reports),
                 "updated": sum(r.counts.updated for r in reports),
                 "unchanged": sum(r.counts.unchanged for r in reports),
                 "left": sum(len(r.counts.left) for r in reports),
                 "leavers": sum(len(r.leavers) for r in reports)})]


def _directory_message(_s: Situation, due: Due, language: str, _reader: Participant | None
                       ) -> Message:
    params = {k: v for k, v in due.params.items() if k != "day"}
    return Message.text(t(language, "directory.sync.report", **params))


KINDS: tuple[Kind, ...] = (
    Kind("scheduled_announcement", None, _planned, Audience.CHANNELS, _planned_message,
         key="scheduled-announcement:{announcement}"),
    Kind("signup_opened", "signup_opened", _signup_opened, Audience.CHANNELS,
         _announcement("signup_opened"), key="signup-opened:{round}", buttons=SIGN_UP),
    Kind("signup_reminder", "signup_reminder", _signup_reminder, Audience.CHANNELS,
         _announcement("signup_reminder"), key="signup-reminder:{round}", buttons=SIGN_UP),
    Kind("signup_closed", "signup_closed", _signup_closed, Audience.COORDINATORS, _closed,
         key="signup-closed:{round}"),
    Kind("kickoff", "kickoff", _kickoff, Audience.TANDEM, _kickoff_message,
         key="kickoff:{tandem}"),
    Kind("nudge", None, _nudges, Audience.TANDEM, _nudge_message("nudge"),
         key="nudge:{tandem}:{period}", buttons=NUDGE, value="{tandem}:{period}",
         decide=guides.decide),
    Kind("meeting_checkin", None, _meeting_checkins, Audience.TANDEM, _meeting_checkin_message,
         key="meeting-checkin:{tandem}:{period}", buttons=CHECK_IN, value="{tandem}:{period}"),
    Kind("stalled", None, _stalled, Audience.COORDINATORS, _stalled_message,
         key="stalled:{tandem}:{since}"),
    Kind(fit_check.KIND, "fit_check", fit_check.fit_due, Audience.PERSON, fit_check.fit_message,
         key="fit:{tandem}:{person}", value="{tandem}", buttons=(
             ButtonSpec(fit_check.FIT_YES, "fit.yes_button", fit_check.answer, "primary"),
             ButtonSpec(fit_check.FIT_UNSURE, "fit.unsure_button", fit_check.answer),
             ButtonSpec(fit_check.FIT_NO, "fit.no_button", fit_check.answer))),
    Kind(running_round.WAITING, None, running_round.waiting_due, Audience.COORDINATORS,
         running_round.waiting_message, key="waiting:{round}:{n}"),
    Kind("mentor_tip", "mentor_tip", mentors.tips_due, Audience.PERSON, mentors.tip_message,
         key="mentor-tip:{round}:{person}:{period}"),
    Kind("mentors_channel", None, mentors.channel_due, Audience.PERSON,
         mentors.channel_message, key="mentors-channel:{round}:{person}",
         owes=mentors.channel_owed),
    Kind("reminder", None, _reminders, Audience.TANDEM, _nudge_message("reminder"),
         key="reminder:{tandem}:{period}", buttons=NUDGE, value="{tandem}:{period}"),
    Kind("pulse", "pulse", _pulse, Audience.PERSON, _pulse_message,
         key="pulse:{round}:{person}", value="{round}", buttons=(
             ButtonSpec(checkin.PULSE_GOOD, "pulse.good", checkin.pulse_answer, "primary"),
             ButtonSpec(checkin.PULSE_MEH, "pulse.meh", checkin.pulse_answer),
             ButtonSpec(checkin.PULSE_HELP, "checkin.help_button", checkin.pulse_answer))),
    Kind("evaluation", "wrapup", _evaluation, Audience.PERSON, _evaluation_message,
         key="evaluation:{round}:{person}", value="{round}", buttons=(
             ButtonSpec(evaluation.EVALUATE, "evaluation.button", evaluation.open_form,
                        "primary"),)),
    Kind("wrapup", "wrapup", _wrapup, Audience.CHANNELS, _wrapup_message,
         key="wrapup:{round}"),
    Kind(highlights.KIND, "wrapup", highlights.post_due, Audience.CHANNELS,
         highlights.post_message, key="highlights:{round}", decide=highlights.decide_post),
    Kind("directory_sync", None, _directory_sync, Audience.COORDINATORS, _directory_message,
         key="directory-sync:{day}"),
)

BY_NAME: Mapping[str, Kind] = {kind.name: kind for kind in KINDS}

#: app.yaml's ``rhythm.messages`` switches, in the registry's order.
SWITCHES: tuple[str, ...] = tuple(dict.fromkeys(k.switch for k in KINDS if k.switch))


def button_handlers() -> dict[str, ButtonHandler]:
    """The router's table for the buttons of scheduled messages."""
    return {spec.action: spec.handler for kind in KINDS for spec in kind.buttons
            if spec.handler is not None}
