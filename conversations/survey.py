"""The interest survey: the neutral form, and the checks on what comes back.

Pure functions: the form is built from app.yaml and the person's earlier
answers; ``validate`` returns either clean answers or a message per field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from bot.core.config import WEEKDAYS, Survey
from bot.core.i18n import t, t_or
from bot.core.slots import parse_country
from conversations.events import FormValue
from conversations.forms import Choice, Field, Form, SelectInput, TextInput, UserInput
from conversations.values import number_or_none
from conversations.wishes import field as wishes_field
from storage.directory_survey import KnownFacts
from storage.models import Participant

FORM_ID = "survey"
ROLES = ("mentor", "mentee")
MEETING_MODES = ("remote", "in_person", "either")
LOCATION_MAX = 100
#: An introduction line: one or two sentences.
INTRO_MAX = 280
DEPARTMENT_MAX = 60
_DEPARTMENT = re.compile(r"^[\w][\w .,&'()/+-]*$")
_USER_ID = re.compile(r"^[\w:.@+-]{1,128}$")
_HOURS = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*[-–]\s*(\d{1,2})(?:[:.](\d{2}))?$")
#: The fields of the ``working_time`` question (each optional: empty is app.yaml's).
WORKING_TIME = ("work_hours", "work_days", "timezone", "country")
#: The most choices one select holds (Slack's ``static_select``); more become a search.
SELECT_MAX = 100
#: The search the department question asks the platform to run when it is one.
DEPARTMENTS_SEARCH = "tandem.departments"
#: What the directory says instead of asking: "this is wrong", and a short note.
FLAG_FIELD, NOTE_FIELD, FLAG_CHOICE = "directory_wrong", "directory_note", "wrong"
NOTE_MAX = 200


@dataclass(frozen=True)
class Known:
    """What is known about the person before they answer: the directory's facts about
    them (questions it answers are not asked) and the departments to choose from
    (app.yaml's, else the directory's; none: typed)."""

    facts: KnownFacts | None = None
    departments: tuple[str, ...] = ()

    def answered(self, questions: tuple[str, ...]) -> frozenset[str]:
        """The questions of ``questions`` the directory answers for this person."""
        if self.facts is None:
            return frozenset()
        held = {"department": self.facts.department, "manager": self.facts.manager_key,
                "location": self.facts.location}
        return frozenset(q for q, value in held.items() if value and q in questions)


@dataclass(frozen=True)
class Answers:
    role: str
    department: str | None
    manager_user_id: str | None
    topics: list[str]
    goals: str | None
    languages: list[str]
    meeting_mode: str
    location: str | None
    capacity: int
    consent: bool
    #: Their own working time (``working_time``); None: app.yaml's.
    work_start: str | None = None
    work_end: str | None = None
    work_days: list[int] | None = None
    country: str | None = None
    region: str | None = None
    #: A zone typed in the survey: used when the platform does not tell one.
    timezone: str | None = field(default=None)
    #: One or two sentences about themselves, shown to their tandem partner.
    intro: str | None = None
    #: The person says the directory is wrong about them: their note ("" for none);
    #: None when they did not say so. For the coordinators only.
    directory_flag: str | None = None

    def as_columns(self) -> dict[str, object]:
        columns = dict(self.__dict__)
        columns.pop("consent")
        columns.pop("timezone")
        return columns


def build_form(survey: Survey, language: str, earlier: Participant | None,
               wished: tuple[Choice, ...] = (), known: Known = Known()) -> Form:
    def tr(key: str, **params: object) -> str:
        return t(language, key, **params)

    initial = earlier
    builders: dict[str, Callable[[], Field]] = {
        "role": lambda: SelectInput(
            "role",
            tr("survey.role.label"),
            tuple(Choice(r, tr(f"survey.role.{r}")) for r in ROLES),
            initial=(initial.role,) if initial else (),
            style="radio",
        ),
        "department": lambda: _department_field(known.departments or survey.departments, tr,
                                                initial),
        "manager": lambda: UserInput(
            "manager",
            tr("survey.manager.label"),
            initial=initial.manager_user_id if initial else None,
            hint=tr("survey.manager.hint"),
        ),
        "topics": lambda: SelectInput(
            "topics",
            tr("survey.topics.label"),
            tuple(Choice(tp.id, tp.label(language)) for tp in survey.topics),
            initial=tuple(initial.topics) if initial else (),
            multi=True,
            hint=tr("survey.topics.hint"),
        ),
        "goals": lambda: _optional_text(
            "goals", tr("survey.goals.label"), initial.goals if initial else None,
            max_length=survey.goals_max_length, multiline=True,
            hint=tr("survey.goals.hint", max=survey.goals_max_length)),
        "languages": lambda: SelectInput(
            "languages",
            tr("survey.languages.label"),
            tuple(
                Choice(code, t_or(language, f"language.{code}", code)) for code in survey.languages
            ),
            initial=tuple(initial.languages) if initial else (language,),
            multi=True,
        ),
        "meeting_mode": lambda: SelectInput(
            "meeting_mode",
            tr("survey.meeting_mode.label"),
            tuple(Choice(m, tr(f"survey.meeting_mode.{m}")) for m in MEETING_MODES),
            initial=(initial.meeting_mode,) if initial else ("either",),
        ),
        "location": lambda: _optional_text(
            "location", tr("survey.location.label"), initial.location if initial else None,
            max_length=LOCATION_MAX, hint=tr("survey.location.hint")),
        "capacity": lambda: SelectInput(
            "capacity",
            tr("survey.capacity.label"),
            tuple(Choice(str(n), str(n)) for n in range(1, survey.max_capacity + 1)),
            initial=(str(initial.capacity),) if initial else ("1",),
            hint=tr("survey.capacity.hint"),
        ),
        "wishes": lambda: wishes_field(language, wished),
        "intro": lambda: _optional_text(
            "intro", tr(f"survey.intro_line.label.{initial.role if initial else 'new'}"),
            initial.intro if initial else None, max_length=INTRO_MAX, multiline=True,
            hint=tr("survey.intro_line.hint", max=INTRO_MAX)),
    }
    fields: list[Field] = []
    answered = known.answered(survey.questions)
    for question in survey.questions:
        if question in answered:
            # Where the first question the directory answers was: what it says instead.
            if known.facts is not None and not any(f.id == FLAG_FIELD for f in fields):
                fields += _directory_fields(language, known.facts, answered,
                                            initial.directory_flag if initial else None)
            continue
        fields += _working_time(tr, initial) if question == "working_time" else [
            builders[question]()]
    fields.append(
        SelectInput(
            "consent",
            tr("survey.consent.label"),
            (Choice("yes", tr("survey.consent.choice")),),
            initial=("yes",) if initial and initial.consent_at else (),
            multi=True,
            style="checkboxes",
        )
    )
    return Form(
        id=FORM_ID,
        title=tr("survey.title"),
        submit_label=tr("survey.submit"),
        cancel_label=tr("survey.cancel"),
        fields=tuple(fields),
        intro=tr("survey.intro_edit" if earlier else "survey.intro"),
    )


def _working_time(tr: Callable[..., str], initial: Participant | None) -> list[Field]:
    """Hours, days, zone and country: each optional, empty is the programme's."""
    hours = f"{initial.work_start}-{initial.work_end}" if initial and initial.work_start \
        else ""
    country = (initial.country or "") + (f"-{initial.region}" if initial and initial.region
                                         else "") if initial else ""
    return [
        _optional_text("work_hours", tr("survey.work_hours.label"), hours, max_length=20,
                       hint=tr("survey.work_hours.hint")),
        SelectInput("work_days", tr("survey.work_days.label"),
                    tuple(Choice(day, tr(f"meetings.weekday.{n}"))
                          for n, day in enumerate(WEEKDAYS)),
                    initial=tuple(WEEKDAYS[d] for d in initial.work_days or ())
                    if initial else (), multi=True, required=False,
                    hint=tr("survey.work_days.hint")),
        _optional_text("timezone", tr("survey.timezone.label"),
                       initial.timezone if initial else None, max_length=64,
                       hint=tr("survey.timezone.hint")),
        _optional_text("country", tr("survey.country.label"), country, max_length=40,
                       hint=tr("survey.country.hint")),
    ]


def _optional_text(field_id: str, label: str, earlier: str | None, *, max_length: int,
                   hint: str, multiline: bool = False) -> TextInput:
    """A free text the person may leave empty, holding what they wrote before."""
    return TextInput(field_id, label, initial=earlier or "", required=False,
                     multiline=multiline, max_length=max_length, hint=hint)


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _clock(hour: str, minute: str | None) -> time | None:
    h, m = int(hour), int(minute or 0)
    return time(h, m) if h < 24 and m < 60 else (time(23, 59) if (h, m) == (24, 0) else None)


def directory_line(language: str, facts: KnownFacts, answered: frozenset[str]) -> str:
    """"From the company directory: Marketing, manager Jane Doe, office Berlin" (what
    it answers of what the survey asks)."""
    parts = [facts.department] if facts.department and "department" in answered else []
    if facts.manager_name and "manager" in answered:
        parts.append(t(language, "survey.directory.part.manager", manager=facts.manager_name))
    if facts.location and "location" in answered:
        parts.append(t(language, "survey.directory.part.location", location=facts.location))
    return t(language, "survey.directory.line", facts=", ".join(parts))


def _directory_fields(language: str, facts: KnownFacts, answered: frozenset[str],
                      flagged: str | None) -> list[Field]:
    """The directory's facts instead of their questions, with a box to say they are
    wrong and room for a short note (both for the coordinators only)."""
    def tr(key: str, **params: object) -> str:
        return t(language, key, **params)

    line = directory_line(language, facts, answered)
    return [
        SelectInput(FLAG_FIELD, line, (Choice(FLAG_CHOICE, tr("survey.directory.wrong")),),
                    initial=(FLAG_CHOICE,) if flagged is not None else (), required=False,
                    multi=True, style="checkboxes", hint=tr("survey.directory.hint")),
        _optional_text(NOTE_FIELD, tr("survey.directory.note.label"), flagged,
                       max_length=NOTE_MAX, hint=tr("survey.directory.note.hint", max=NOTE_MAX)),
    ]


def _department_field(departments: tuple[str, ...], tr: Callable[..., str],
                      initial: Participant | None) -> Field:
    current = initial.department if initial else None
    chosen = (current,) if current in departments else ()
    if len(departments) > SELECT_MAX:
        # Too many for one select: a type-ahead search, its choices loaded as typed.
        return SelectInput("department", tr("survey.department.label"),
                           tuple(Choice(d, d) for d in chosen), initial=chosen,
                           search=DEPARTMENTS_SEARCH, hint=tr("survey.department.search_hint"))
    if departments:
        return SelectInput(
            "department",
            tr("survey.department.label"),
            tuple(Choice(d, d) for d in departments),
            initial=chosen,
        )
    return TextInput(
        "department",
        tr("survey.department.label"),
        initial=current or "",
        max_length=DEPARTMENT_MAX,
    )


def clean_text(value: str) -> str:
    """Trim, normalise and drop control characters (other than new lines)."""
    value = unicodedata.normalize("NFC", value)
    kept = (ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return "".join(kept).strip()


def _one(value: FormValue) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    value = clean_text(str(value))
    return value or None


def _many(value: FormValue) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return list(dict.fromkeys(clean_text(str(v)) for v in items if str(v).strip()))


def validate(
    survey: Survey, language: str, user_id: str, values: Mapping[str, FormValue],
    known: Known = Known(),
) -> tuple[Answers | None, dict[str, str]]:
    """Clean answers, or a message per field that is wrong (and no answers). Questions
    the directory answers were not asked: whatever comes back for them is ignored."""
    errors: dict[str, str] = {}
    asked = set(survey.questions) - known.answered(survey.questions)
    departments = known.departments or survey.departments

    def err(field_id: str, key: str, **params: object) -> None:
        errors.setdefault(field_id, t(language, key, **params))

    role = _one(values.get("role"))
    if role not in ROLES:
        err("role", "survey.error.role")

    department = _one(values.get("department")) if "department" in asked else None
    if department is not None:
        if departments:
            if department not in departments:
                err("department", "survey.error.department_unknown")
        elif len(department) > DEPARTMENT_MAX or not _DEPARTMENT.match(department):
            err("department", "survey.error.department_format", max=DEPARTMENT_MAX)
    elif "department" in asked:
        err("department", "survey.error.required")

    manager = _one(values.get("manager")) if "manager" in asked else None
    if manager is not None:
        if not _USER_ID.match(manager):
            err("manager", "survey.error.manager_format")
        elif manager == user_id:
            err("manager", "survey.error.manager_self")

    known_topics = {tp.id for tp in survey.topics}
    topics = _many(values.get("topics"))
    if not topics:
        err("topics", "survey.error.topics_none")
    elif any(tp not in known_topics for tp in topics):
        err("topics", "survey.error.topics_unknown")

    goals = _one(values.get("goals")) if "goals" in asked else None
    if goals is not None and len(goals) > survey.goals_max_length:
        err("goals", "survey.error.too_long", max=survey.goals_max_length, length=len(goals))

    languages = _many(values.get("languages"))
    if not languages:
        err("languages", "survey.error.languages_none")
    elif any(code not in survey.languages for code in languages):
        err("languages", "survey.error.languages_unknown")

    meeting_mode = _one(values.get("meeting_mode")) or "either"
    if meeting_mode not in MEETING_MODES:
        err("meeting_mode", "survey.error.meeting_mode")

    location = _one(values.get("location")) if "location" in asked else None
    if location is not None and len(location) > LOCATION_MAX:
        err("location", "survey.error.too_long", max=LOCATION_MAX, length=len(location))

    capacity = 1
    capacity_text = _one(values.get("capacity"))
    if role == "mentee" and capacity_text is not None:
        chosen = number_or_none(capacity_text, 1, survey.max_capacity)
        if chosen is None:
            err("capacity", "survey.error.capacity", max=survey.max_capacity)
        else:
            capacity = chosen

    work: dict[str, Any] = {}
    if "working_time" in asked:
        work = _working_answers(values, err)
    intro = _one(values.get("intro")) if "intro" in asked else None
    if intro is not None and len(intro) > INTRO_MAX:
        err("intro", "survey.error.too_long", max=INTRO_MAX, length=len(intro))

    consent = "yes" in _many(values.get("consent"))
    if not consent:
        err("consent", "survey.error.consent")
    flag = _flag(values, err) if known.answered(survey.questions) else None

    if errors:
        return None, errors
    assert role is not None
    return replace(Answers(
        role=role,
        department=department,
        manager_user_id=manager,
        topics=[tp.id for tp in survey.topics if tp.id in topics],
        goals=goals,
        languages=languages,
        meeting_mode=meeting_mode,
        location=location,
        capacity=capacity,
        consent=consent,
        intro=intro,
        directory_flag=flag,
    ), **work), {}


def _flag(values: Mapping[str, FormValue], err: Callable[..., None]) -> str | None:
    """"The directory is wrong about me": the note ("" for none), or None when not
    said. A note alone says it too: it is about nothing else."""
    ticked = _many(values.get(FLAG_FIELD))
    note = _one(values.get(NOTE_FIELD))
    if any(value != FLAG_CHOICE for value in ticked):
        err(FLAG_FIELD, "survey.error.directory_flag")
    if note is not None and len(note) > NOTE_MAX:
        err(NOTE_FIELD, "survey.error.too_long", max=NOTE_MAX, length=len(note))
    return (note or "") if ticked or note else None


def _working_answers(values: Mapping[str, FormValue], err: Callable[..., None]
                     ) -> dict[str, Any]:
    """The ``working_time`` fields, checked: each empty one stays None."""
    found: dict[str, Any] = {}
    hours = _one(values.get("work_hours"))
    if hours is not None:
        match = _HOURS.match(hours)
        start = _clock(match[1], match[2]) if match else None
        end = _clock(match[3], match[4]) if match else None
        if start is None or end is None or end <= start:
            err("work_hours", "survey.error.work_hours")
        else:
            found["work_start"], found["work_end"] = f"{start:%H:%M}", f"{end:%H:%M}"
    days = _many(values.get("work_days"))
    if any(day not in WEEKDAYS for day in days):
        err("work_days", "survey.error.work_days")
    elif days:
        found["work_days"] = sorted(WEEKDAYS.index(day) for day in days)
    zone = _one(values.get("timezone"))
    if zone is not None:
        if zone not in _zones():
            err("timezone", "survey.error.timezone")
        else:
            found["timezone"] = zone
    country = _one(values.get("country"))
    if country is not None:
        parsed = parse_country(country)
        if parsed is None:
            err("country", "survey.error.country")
        else:
            found["country"], found["region"] = parsed
    return found
