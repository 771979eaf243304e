"""The interest survey: the neutral form, and the checks on what comes back.

Pure functions: the form is built from app.yaml and the person's earlier
answers; ``validate`` returns either clean answers or a message per field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.core.config import Survey
from bot.core.i18n import t, t_or
from conversations.events import FormValue
from conversations.forms import Choice, Field, Form, SelectInput, TextInput, UserInput
from conversations.values import number_or_none
from storage.models import Participant

FORM_ID = "survey"
ROLES = ("mentor", "mentee")
MEETING_MODES = ("remote", "in_person", "either")
LOCATION_MAX = 100
DEPARTMENT_MAX = 60
_DEPARTMENT = re.compile(r"^[\w][\w .,&'()/+-]*$")
_USER_ID = re.compile(r"^[\w:.@+-]{1,128}$")


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

    def as_columns(self) -> dict[str, object]:
        columns = dict(self.__dict__)
        columns.pop("consent")
        return columns


def build_form(survey: Survey, language: str, earlier: Participant | None) -> Form:
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
        "department": lambda: _department_field(survey, tr, initial),
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
        "goals": lambda: TextInput(
            "goals",
            tr("survey.goals.label"),
            initial=(initial.goals or "") if initial else "",
            required=False,
            multiline=True,
            max_length=survey.goals_max_length,
            hint=tr("survey.goals.hint", max=survey.goals_max_length),
        ),
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
        "location": lambda: TextInput(
            "location",
            tr("survey.location.label"),
            initial=(initial.location or "") if initial else "",
            required=False,
            max_length=LOCATION_MAX,
            hint=tr("survey.location.hint"),
        ),
        "capacity": lambda: SelectInput(
            "capacity",
            tr("survey.capacity.label"),
            tuple(Choice(str(n), str(n)) for n in range(1, survey.max_capacity + 1)),
            initial=(str(initial.capacity),) if initial else ("1",),
            hint=tr("survey.capacity.hint"),
        ),
    }
    fields: list[Field] = [builders[q]() for q in survey.questions]
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


def _department_field(survey: Survey, tr: Callable[..., str], initial: Participant | None) -> Field:
    current = initial.department if initial else None
    if survey.departments:
        return SelectInput(
            "department",
            tr("survey.department.label"),
            tuple(Choice(d, d) for d in survey.departments),
            initial=(current,) if current in survey.departments else (),
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
    survey: Survey, language: str, user_id: str, values: Mapping[str, FormValue]
) -> tuple[Answers | None, dict[str, str]]:
    """Clean answers, or a message per field that is wrong (and no answers)."""
    errors: dict[str, str] = {}
    asked = set(survey.questions)

    def err(field_id: str, key: str, **params: object) -> None:
        errors.setdefault(field_id, t(language, key, **params))

    role = _one(values.get("role"))
    if role not in ROLES:
        err("role", "survey.error.role")

    department = _one(values.get("department")) if "department" in asked else None
    if department is not None:
        if survey.departments:
            if department not in survey.departments:
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

    consent = "yes" in _many(values.get("consent"))
    if not consent:
        err("consent", "survey.error.consent")

    if errors:
        return None, errors
    assert role is not None
    return Answers(
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
    ), {}
