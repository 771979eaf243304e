"""The demo's round, day by day: who does what, when; the rhythm does the rest.

Sign-ups arrive over the window (one with a mistake the form catches, one
after the channel reminder); the coordinator matches, pins a pair and
confirms on sign-up's last day; a late joiner signs up that afternoon and is
matched into the running round the next day; then each day the rhythm runs at
10:00 and people answer what they got in the afternoon, each tandem after its
habit (see ``cast``). One tandem finds a time for its first meeting from the
introduction (the junior picks a slot, the senior accepts, both get the
invite); its first nudge is skipped and the check-in comes the working day
after the meeting. A few days after each
first meeting the fit check asks each partner privately; one says "no", the
coordinator re-matches with one click and both are told, without learning who
said it. In month 3 a senior pauses until a date; the break ends by itself. In
the evaluation two juniors offer a highlight for the channel, with their name; the
coordinator approves them, and two weeks after the round they are posted there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta

from adapters.local.platform import LocalPlatform, Seen
from bot.core.clock import FixedClock
from bot.demo import directory
from bot.demo.cast import (
    COORDINATOR,
    EVALUATION,
    HIGHLIGHTS,
    JUNIORS,
    LATE,
    NAYSAYER,
    ON_A_BREAK,
    ORG,
    REFLECTIONS,
    Employee,
)
from bot.demo.timeline import RecordingMessenger, Timeline
from conversations import breaks, highlights, org_notes
from conversations.context import FlowContext
from conversations.fit_check import FIT_NO, FIT_YES, REMATCH
from conversations.matching import unmatched_reasons
from conversations.messages import Button, Message
from conversations.outcomes import Outcome, Reply, ShowForm
from conversations.rhythm import run_due
from conversations.summary import format_day
from storage import proposals, rounds, tandems

MET, LATER, HELP = "checkin.met", "checkin.later", "checkin.help"
REFLECT, PULSE_GOOD, PULSE_MEH, EVALUATE = ("reflect.open", "pulse.good", "pulse.meh",
                                            "evaluation.open")
FIND, PICK, ACCEPT = "meeting.find", "meeting.pick", "meeting.accept"
#: The junior who finds a time for the first meeting, from the introduction.
SCHEDULER = "lena"
#: The break: begins this long after the round starts, ends this long after that.
BREAK_STARTS, BREAK_LASTS = timedelta(days=77), timedelta(days=21)


class Story:
    def __init__(self, ctx: FlowContext, clock: FixedClock, messenger: RecordingMessenger,
                 timeline: Timeline, language: str) -> None:
        self.ctx, self.clock, self.messenger = ctx, clock, messenger
        self.timeline, self.language = timeline, language
        self.platform = LocalPlatform(ctx, messenger, on_answer=self._answered)
        self.people = {p.user_id: p for p in (*ORG, COORDINATOR)}
        #: How many messages of each person's inbox were already acted upon.
        self.handled: dict[str, int] = {}
        self.first_signup = self.last_signup = self.confirmed_on = self.help_on = "–"
        self.stalled_on, self.unmatched = "–", "–"
        self.reflections = self.evaluations_invited = self.confirmed = 0
        self.put_off: set[str] = set()
        #: Each senior's junior, once matched.
        self.partners: dict[str, Employee] = {}
        self.found_a_time = False
        self.late_on = self.late_matched_on = self.fit_no_on = self.break_on = "–"
        self.break_until = "–"
        self.directory_people, self.directory_on = 0, "–"
        #: What the org chart kept apart in the first proposal, in words.
        self.kept_apart: list[str] = []

    def _answered(self, user_id: str, seen: Seen) -> None:
        # A form is shown when it says what to fix; "✎ Title" already says it was filled in.
        if seen.kind == "reply" or (seen.kind == "form" and seen.errors):
            self.timeline.seen(user_id, seen)

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        self.clock.set(datetime.combine(day, time(hour, minute), tzinfo=self.ctx.config.timezone))

    async def act(self, person: Employee, what: str,
                  run: Callable[[], Awaitable[Outcome]]) -> Outcome:
        self.timeline.add("action", (person.name,), what)
        return await run()

    async def command(self, person: Employee, text: str) -> Outcome:
        user = person.user(self.language)
        return await self.act(person, f"/tandem {text}",
                              lambda: self.platform.command(user, text))

    async def press(self, person: Employee, button: Button) -> Outcome:
        user = person.user(self.language)
        outcome = await self.act(person, f"[{button.label}]",
                                 lambda: self.platform.press(user, button.action_id,
                                                             button.value))
        return outcome

    async def submit(self, person: Employee, title: str, values: dict[str, object],
                     form_id: str = "survey") -> Outcome:
        user = person.user(self.language)
        return await self.act(person, f"✎ {title}", lambda: self.platform.submit(
            user, values, form_id=form_id))  # type: ignore[arg-type]

    async def play(self) -> None:
        config = self.ctx.config.round
        opens = config.signup_opens.date()
        closes = (config.signup_closes - timedelta(days=1)).date()
        end = (config.starts + timedelta(days=31 * config.length_months + 3)).date()
        pause_on = config.starts.date() + BREAK_STARTS
        day = opens
        await self._directory()
        while day <= end:
            self.at(day, 10)
            await run_due(self.ctx)
            if day == closes:
                await self._matching(day)
            elif day == closes + timedelta(days=1):
                await self._late_matching(day)
            self.at(day, 14)
            await self._signups(day, opens, closes)
            if day == pause_on:
                await self._pause(day, pause_on + BREAK_LASTS)
            await self._answers(day)
            day += timedelta(days=1)
        await self._highlights()
        self._facts()

    async def _highlights(self) -> None:
        """Two weeks after the round, the approved highlights go to the channel."""
        async with self.ctx.db.session() as session:
            current = await rounds.round_named(session, self.ctx.config.round,
                                               self.ctx.config.round.name, self.clock.now())
        assert current is not None
        self.clock.set(highlights.post_at(self.ctx, current))
        await run_due(self.ctx)

    async def _directory(self) -> None:
        """Before sign-up opens, the coordinator imports the HR system's export."""
        self.timeline.add("action", (COORDINATOR.name,),
                          f"tandem directory import {directory.FILENAME}")
        report = await directory.import_directory(self.ctx)
        self.timeline.add("terminal", (COORDINATOR.name,), report.text(self.language))
        self.directory_people = report.parsed.rows
        self.directory_on = self.clock.now().date().isoformat()

    async def _signups(self, day: date, opens: date, closes: date) -> None:
        # Everyone but the last junior signs up in the first weeks; the last one
        # after the channel's reminder, two days before sign-up closes; the late
        # joiner on its last day, after the coordinator confirmed the tandems.
        early = [p for p in ORG if p not in (JUNIORS[-1], LATE)]
        index = (day - opens).days - 1
        person = early[index] if 0 <= index < len(early) else (
            JUNIORS[-1] if day == closes - timedelta(days=1) else
            LATE if day == closes else None)
        if person is None:
            return
        if person is LATE:
            self.late_on = day.isoformat()
        if self.first_signup == "–":
            self.first_signup = day.isoformat()
        self.last_signup = day.isoformat()
        outcome = await self.command(person, "signup")
        title = outcome.form.title if isinstance(outcome, ShowForm) else "survey"
        if person.user_id == "cfo":
            # Forgets the topics: the form says what is missing and keeps the rest.
            await self.submit(person, title, {**person.answers(), "topics": []})
        await self.submit(person, title, person.answers())

    async def _matching(self, day: date) -> None:
        coordinator = COORDINATOR
        self.at(day, 11)
        await self.command(coordinator, "match")
        # The coordinator keeps pair 2 as agreed with the board: pinned, then confirmed.
        self.at(day, 11, 30)
        await self.command(coordinator, "match pin 2")
        async with self.ctx.db.session() as session:
            current = await rounds.round_named(session, self.ctx.config.round,
                                               self.ctx.config.round.name, self.clock.now())
            latest = await proposals.latest_proposal(session, current.id) if current else None
        assert latest is not None
        self.unmatched = "; ".join(unmatched_reasons(latest.result, self.language)) or "–"
        self.kept_apart = org_notes.kept_apart(latest.result, self.language)
        self.at(day, 11, 45)
        self.confirmed = await self._confirm(latest.round_id)
        self.confirmed_on = day.isoformat()

    async def _late_matching(self, day: date) -> None:
        """The coordinator was told someone waits: ``match`` again, into the running round."""
        self.at(day, 11)
        await self.command(COORDINATOR, "match")
        async with self.ctx.db.session() as session:
            current = await rounds.round_named(session, self.ctx.config.round,
                                               self.ctx.config.round.name, self.clock.now())
        assert current is not None
        self.at(day, 11, 15)
        await self._confirm(current.id)
        self.late_matched_on = day.isoformat()

    async def _confirm(self, round_id: int) -> int:
        """Confirm the latest proposal; returns how many tandems are active now."""
        coordinator = COORDINATOR
        inbox = self.messenger.inbox[coordinator.user_id]
        confirm = next(b for seen in reversed(inbox[self.handled.get(coordinator.user_id, 0):])
                       if seen.message for b in seen.message.buttons
                       if b.action_id == "match.confirm")
        await self.press(coordinator, confirm)
        async with self.ctx.db.session() as session:
            pairs = await tandems.active_tandems(session, round_id)
        for pair in pairs:
            mentor, mentee = pair.people
            self.partners[mentee.user_id] = self.people[mentor.user_id]
        self.handled[coordinator.user_id] = len(self.messenger.inbox[coordinator.user_id])
        return len(pairs)

    async def _pause(self, day: date, until: date) -> None:
        """A senior pauses until a date: the answer asks until when, a form takes it."""
        person = self.people[ON_A_BREAK]
        paused = await self.command(person, "pause")
        ask = next(b for b in paused.message.buttons if b.action_id == breaks.SET_END) \
            if isinstance(paused, Reply) else None
        if ask is None:
            return
        form = await self.press(person, ask)
        if isinstance(form, ShowForm):
            await self.submit(person, form.form.title, {breaks.UNTIL: until.isoformat()},
                              form_id=form.form.id)
            self.break_on = day.isoformat()
            self.break_until = format_day(until, self.language)

    async def _answers(self, day: date) -> None:
        """Each person answers, in the afternoon, what they got since yesterday."""
        for person in ORG:
            inbox = self.messenger.inbox[person.user_id]
            new = inbox[self.handled.get(person.user_id, 0):]
            self.handled[person.user_id] = len(inbox)
            for seen in new:
                if seen.message is not None and seen.kind in ("dm", "group"):
                    await self._answer(person, seen.message, day)
        # The coordinator re-matches a tandem one of them said does not work.
        inbox = self.messenger.inbox[COORDINATOR.user_id]
        new = inbox[self.handled.get(COORDINATOR.user_id, 0):]
        self.handled[COORDINATOR.user_id] = len(inbox)
        for seen in new:
            for button in seen.message.buttons if seen.message else ():
                if button.action_id in (REMATCH, highlights.APPROVE):
                    await self.press(COORDINATOR, button)

    async def _answer(self, person: Employee, message: Message, day: date) -> None:
        buttons = {b.action_id: b for b in message.buttons}
        habit = self._habit(person)
        if FIND in buttons and person.user_id == SCHEDULER and not self.found_a_time:
            self.found_a_time = True
            offer = await self.press(person, buttons[FIND])
            slots = [b for b in offer.message.buttons if b.action_id == PICK] \
                if isinstance(offer, Reply) else []
            if slots:
                await self.press(person, slots[0])
        elif FIT_NO in buttons:
            # Asked privately whether the pairing works: one says no, the others yes.
            no = person.user_id == NAYSAYER
            await self.press(person, buttons[FIT_NO if no else FIT_YES])
            if no:
                self.fit_no_on = day.isoformat()
        elif ACCEPT in buttons:
            await self.press(person, buttons[ACCEPT])
        elif MET in buttons and LATER in buttons and person.role == "mentor" \
                and habit != "quiet":
            # Only the questions "did you meet?" (nudge, check-in, reminder): the
            # invite's "We met" is for after the meeting, and its check-in comes then.
            month = buttons[MET].value.rsplit(":", 1)[-1]
            if habit == "late" and month == "1" and buttons[MET].value not in self.put_off:
                # Not yet: the reminder comes a week later, and then they have met.
                self.put_off.add(buttons[MET].value)
                await self.press(person, buttons[LATER])
            elif habit == "help" and month == "2":
                await self.press(person, buttons[HELP])
                self.help_on = day.isoformat()
            else:
                await self.press(person, buttons[MET])
        elif REFLECT in buttons and (person.role == "mentor"
                                     or buttons[REFLECT].value.endswith(":1")):
            # Everyone reflects on the first meeting; later on, the juniors.
            form = await self.press(person, buttons[REFLECT])
            if isinstance(form, ShowForm):
                learned, try_next = REFLECTIONS[self._language(person)]
                await self.submit(person, form.form.title, {
                    "learned": learned, "try_next": try_next, "usefulness": "5",
                    "visibility": "private"}, form_id=form.form.id)
                self.reflections += 1
        elif PULSE_GOOD in buttons and habit != "quiet":
            await self.press(person, buttons[PULSE_MEH if habit == "help" else PULSE_GOOD])
        elif EVALUATE in buttons:
            self.evaluations_invited += 1
            if habit == "quiet":
                return
            form = await self.press(person, buttons[EVALUATE])
            if isinstance(form, ShowForm):
                await self.submit(person, form.form.title, {
                    "rating": "4" if habit == "help" else "5",
                    "valuable": EVALUATION[self._language(person)],
                    "recommend": "yes", "continue": "same",
                    "highlight": HIGHLIGHTS.get(person.user_id, ""),
                    "highlight_name": "yes"}, form_id=form.form.id)

    def _habit(self, person: Employee) -> str:
        """A senior shares the habit of their junior."""
        if person.role == "mentor":
            return person.habit
        partner = self.partners.get(person.user_id)
        return partner.habit if partner else "meets"

    def _language(self, person: Employee) -> str:
        return person.locale or self.language

    def _facts(self) -> None:
        for entry in self.timeline.entries:
            if entry.key.startswith("stalled:") and self.stalled_on == "–":
                self.stalled_on = f"{entry.at:%Y-%m-%d}"
