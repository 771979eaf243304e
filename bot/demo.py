"""``tandem demo``: a programme on the local platform, with synthetic employees.

Runs the real flows on a real SQLite database (a fresh file unless told
otherwise) and prints what each person saw, in order. No accounts needed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from adapters.local.platform import LocalMessenger, LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, load_config
from bot.core.settings import Settings
from conversations.context import FlowContext
from conversations.events import FormValue
from conversations.messages import ShowForm
from conversations.rhythm import run_due
from storage.db import Database

REPO_CONFIG = Path(__file__).resolve().parent.parent / "app.yaml"


@dataclass(frozen=True)
class Employee:
    user: LocalUser
    role: str
    department: str
    manager: str | None
    topics: tuple[str, ...]
    languages: tuple[str, ...]
    mode: str = "either"
    capacity: int = 1
    goals: str = ""


def _e(uid: str, name: str, locale: str, role: str, dept: str, manager: str | None,
       topics: tuple[str, ...], languages: tuple[str, ...], **extra: object) -> Employee:
    return Employee(LocalUser(uid, name, locale), role, dept, manager, topics, languages,
                    **extra)  # type: ignore[arg-type]


# A small company: the board and heads of department learn, juniors teach.
ORG: tuple[Employee, ...] = (
    _e("ceo", "Dr. Katrin Vogel", "de", "mentee", "Executive Board", None,
       ("ai_tools", "social_media", "genz"), ("de", "en"), capacity=2,
       goals="Verstehen, wie junge Kolleg*innen KI im Alltag nutzen."),
    _e("cfo", "Martin Schulz", "de", "mentee", "Finance", "ceo",
       ("agile", "digital_tools"), ("de",), mode="in_person"),
    _e("chro", "Sarah Okafor", "en", "mentee", "Human Resources", "ceo",
       ("employer_branding", "genz", "diversity"), ("en", "de")),
    _e("cso", "Thomas Berger", "de", "mentee", "Sales", "ceo",
       ("social_media", "remote"), ("de",), mode="remote"),
    _e("cio", "Priya Raman", "en", "mentee", "IT", "ceo",
       ("sustainability", "mental_health"), ("en",)),
    _e("lena", "Lena Hoffmann", "de", "mentor", "Marketing", "cmo",
       ("social_media", "employer_branding", "genz"), ("de", "en"),
       goals="Zeigen, wie <!channel> LinkedIn wirklich funktioniert."),
    _e("mehmet", "Mehmet Yılmaz", "de", "mentor", "Sales", "cso",
       ("ai_tools", "digital_tools"), ("de", "tr")),
    _e("sophie", "Sophie Wagner", "de", "mentor", "IT", "cio",
       ("ai_tools", "agile", "remote"), ("de", "en"), mode="remote"),
    _e("jamal", "Jamal Brooks", "en", "mentor", "Research & Development", "cto",
       ("sustainability", "diversity", "mental_health"), ("en",)),
    _e("mia", "Mia Schneider", "de", "mentor", "Operations", "coo",
       ("agile", "digital_tools", "sustainability"), ("de",), mode="in_person"),
)


def _answers(person: Employee) -> dict[str, FormValue]:
    return {
        "role": person.role, "department": person.department, "manager": person.manager,
        "topics": list(person.topics), "goals": person.goals,
        "languages": list(person.languages), "meeting_mode": person.mode,
        "capacity": str(person.capacity), "consent": ["yes"],
    }


def demo_config() -> AppConfig:
    path = Path(os.environ.get("TANDEM_CONFIG") or Settings().config_path)
    return load_config(path if path.exists() else REPO_CONFIG)


async def run_demo(database_url: str | None, out: TextIO) -> None:
    config = demo_config()
    with tempfile.TemporaryDirectory(prefix="tandem-demo-") as folder:
        url = database_url or f"sqlite+aiosqlite:///{folder}/demo.db"
        db = Database(url)
        try:
            await db.migrate()
            await _play(config, db, out)
        finally:
            await db.close()


COORDINATOR = LocalUser("clara", "Clara Weber (HR)", "de")
CHANNEL = "#reverse-mentoring"


async def _play(config: AppConfig, db: Database, out: TextIO) -> None:
    config = replace(
        config,
        coordinators={**config.coordinators, "local": (COORDINATOR.user_id,)},
        channels={**config.channels, "local": (CHANNEL,)},
    )
    clock = FixedClock(config.round.signup_opens + timedelta(days=7, hours=9))
    messenger = LocalMessenger()
    ctx = FlowContext(config, clock, db, {messenger.platform: messenger})
    platform = LocalPlatform(ctx, messenger)

    out.write(f"== {config.programme_name}: round {config.round.name} ==\n")
    out.write(f"== sign-up, {clock.now():%Y-%m-%d} ==\n")
    for number, person in enumerate(ORG):
        await platform.command(person.user, "signup")
        answers = _answers(person)
        if number == 1:
            # One person forgets the topics first: the form says so and keeps the rest.
            await platform.submit(person.user, {**answers, "topics": []})
        await platform.submit(person.user, answers)
    await platform.command(ORG[3].user, "status")
    await platform.command(ORG[4].user, "pause")
    await platform.command(ORG[4].user, "resume")
    await platform.command(ORG[9].user, "tanzen")

    clock.set(config.round.signup_closes + timedelta(hours=10))
    out.write(f"== matching, {clock.now():%Y-%m-%d} ==\n")
    await platform.command(ORG[5].user, "match")  # not a coordinator: politely refused
    await platform.command(COORDINATOR, "match")
    proposal = platform.messenger.inbox[COORDINATOR.user_id][-2].message
    confirm = next(b for b in proposal.buttons if b.action_id == "match.confirm") \
        if proposal else None
    if confirm is not None:
        await platform.press(COORDINATOR, confirm.action_id, confirm.value)

    await _fast_forward(platform, clock, out)

    for person in (*ORG, Employee(COORDINATOR, "coordinator", "Human Resources", None, (), ())):
        out.write(f"\n--- what {person.user.display_name} ({person.role}, "
                  f"{person.user.locale}) saw ---\n")
        for entry in platform.transcript(person.user.user_id):
            out.write(_indent(entry) + "\n")
    for channel, posts in platform.messenger.channels.items():
        out.write(f"\n--- posted in {channel} ---\n")
        for message in posts:
            out.write(_indent(message.plain()) + "\n")


# How each junior's tandem behaves: meets every month and reflects, meets after a
# reminder, or goes quiet (and gets flagged to the coordinator).
HABITS = {"lena": "meets", "sophie": "meets", "jamal": "meets", "mia": "late",
          "mehmet": "quiet"}


async def _fast_forward(platform: LocalPlatform, clock: FixedClock, out: TextIO) -> None:
    """Run the whole round day by day, as the scheduler would, with people answering."""
    config = platform.ctx.config
    day = config.round.starts - timedelta(days=1)
    end = config.round.starts + timedelta(days=31 * config.round.length_months + 3)
    out.write(f"== the round, {day:%Y-%m-%d} to {end:%Y-%m-%d}, day by day ==\n")
    pressed: set[str] = set()
    people = {p.user.user_id: p.user for p in ORG}
    while day <= end:
        clock.set(day.replace(hour=12))
        await run_due(platform.ctx)
        for user_id, habit in HABITS.items():
            for seen in platform.messenger.inbox[user_id]:
                for button in seen.message.buttons if seen.message else ():
                    if button.action_id == "checkin.met" and button.value not in pressed:
                        pressed.add(button.value)
                        await _answer(platform, people[user_id], habit, button.value)
        day += timedelta(days=1)


async def _answer(platform: LocalPlatform, user: LocalUser, habit: str, value: str) -> None:
    if habit == "quiet":
        return
    if habit == "late" and value.endswith(":1"):
        await platform.press(user, "checkin.later", value)
        return
    await platform.press(user, "checkin.met", value)
    form = await platform.press(user, "reflect.open", value)
    if isinstance(form, ShowForm):
        await platform.submit(user, {"learned": "Prompts, Shortcuts, neue Tools",
                                     "try_next": "Jede Woche ein Experiment",
                                     "usefulness": "5" if habit == "meets" else "4"},
                              form_id=form.form.id)


def _indent(text: str) -> str:
    return "\n".join("  " + line if i else "• " + line
                     for i, line in enumerate(text.splitlines()))
