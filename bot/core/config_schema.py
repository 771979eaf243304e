"""The shape of app.yaml, as pydantic models: the one statement of every key's type,
default and limits (what each key means is in the catalogues, ``config.<key>``).

Validation, the error texts of ``tandem check-config`` and the reference of
``tandem check-config --explain`` (also in the README) all come from here.
Unknown keys are errors; values are taken strictly (``"yes"`` is not true,
``"6"`` is not a number) so that a typo never silently changes the programme.
Rules that involve two keys live in ``bot.core.config``, which names the key
to edit.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
    model_validator,
)

from bot.core.i18n import FALLBACK, LANGUAGES, catalogue, text
from bot.core.i18n import Text as Words

REQUIRED_QUESTIONS = ("role", "topics", "languages")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ANNOUNCEMENT_MAX = 3000
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


class Invalid(ValueError):
    """A value a validator refuses: its problem as a catalogue text (``config.problem.*``),
    which ``bot.core.config_errors`` puts into the ConfigError."""

    def __init__(self, key: str, /, **params: Any) -> None:
        self.text = text(key, **params)
        super().__init__(self.text.render(FALLBACK))


def close_match(word: str, choices: Any) -> Words | str:
    """``; did you mean 'x'?`` for a near miss, else nothing."""
    import difflib

    found = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return text("config.problem.did_you_mean", word=found[0]) if found else ""


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    found = _DAY.match(value) if isinstance(value, str) else None
    if found is None:
        raise Invalid("config.problem.date", value=value)
    year, month, day = (int(part) for part in found.groups())
    if not 1 <= month <= 12:
        raise Invalid("config.problem.no_month", value=value, month=month)
    try:
        return date(year, month, day)
    except ValueError:
        raise Invalid("config.problem.no_day", value=value, year=year, day=day,
                      month=text(f"config.month.{month}")) from None


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise Invalid("config.problem.time", value=value) from None


def _instant(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid("config.problem.instant", value=value) from None
    if not isinstance(value, datetime):
        raise Invalid("config.problem.instant", value=value)
    if value.tzinfo is None:
        raise Invalid("config.problem.offset")
    return value


def _identifier(value: str) -> str:
    if not _ID.match(value):
        raise Invalid("config.problem.identifier", value=value)
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("config.problem.timezone", value=value,
                      hint=close_match(value, available_timezones())) from None
    return value


def _two_letters(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}", value):
        raise Invalid("config.problem.language", value=value)
    return value


def _unique(values: list[Any]) -> list[Any]:
    twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
    if twice is not None:
        raise Invalid("config.problem.twice", value=twice)
    return values


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


if TYPE_CHECKING:
    Language = str
else:
    #: One of the languages with catalogues (``bot.core.i18n.LANGUAGES``).
    Language = Literal[tuple(LANGUAGES)]
Text = Annotated[str, Field(min_length=1)]
Identifier = Annotated[str, AfterValidator(_identifier)]
Day = Annotated[date, BeforeValidator(_day)]
ClockTime = Annotated[time, BeforeValidator(_clock)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
Texts = Annotated[list[Text], AfterValidator(_unique)]
AnnouncementText = Annotated[str, Field(min_length=1, max_length=ANNOUNCEMENT_MAX)]
Question = Literal["role", "department", "manager", "topics", "goals", "languages",
                   "meeting_mode", "location", "capacity", "working_time", "wishes",
                   "intro"]
#: The survey's questions, in their default order.
QUESTIONS: tuple[str, ...] = get_args(Question)
Weekday = Annotated[Literal["monday", "tuesday", "wednesday", "thursday", "friday",
                            "saturday", "sunday"], BeforeValidator(_lower)]


class Section(BaseModel):
    """A mapping in app.yaml: strict values, no unknown keys, ``key:`` left empty = default."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_default(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class Programme(Section):
    name: Text = Field()
    default_language: Language = Field("de")
    privacy_url: Text | None = Field(
        None)
    terms_url: Text | None = Field(
        None)
    timezone: Annotated[str, AfterValidator(_zone)] = Field(
        "Europe/Berlin")


def _platform_name(value: str) -> str:
    if not _ID.match(value):
        raise Invalid("config.problem.platform_name", value=value)
    return value


#: Lists keyed by platform name (``slack:``, ``teams:``, any adapter's name): which
#: names exist is the adapters' business, checked by ``bot.core.config`` against the
#: platforms the shell found.
PerPlatform = dict[Annotated[str, AfterValidator(_platform_name)], Texts]


class Topic(Section):
    id: Identifier = Field()
    de: Text = Field()
    en: Text = Field()


class Survey(Section):
    questions: Annotated[list[Question], AfterValidator(_unique)] = Field(
        list(get_args(Question)))
    topics: list[Topic] = Field(min_length=1)
    departments: Texts = Field([])
    languages: Annotated[list[Annotated[str, AfterValidator(_two_letters)]],
                         AfterValidator(_unique)] = Field(
        ["de", "en"])
    goals_max_length: int = Field(500, ge=50, le=2000)
    max_capacity: int = Field(4, ge=1, le=20)


class Weights(Section):
    topics: float | None = Field(None, ge=0)
    meeting_mode: float | None = Field(None, ge=0)
    timezone: float | None = Field(None, ge=0)
    location: float | None = Field(None, ge=0)
    languages: float | None = Field(None, ge=0)


class Matching(Section):
    reporting_line_depth: int = Field(2, ge=0, le=20)
    forbid_same_department: bool = Field(True)
    allow_repeat_pairs: bool = Field(False)
    fairness: bool = Field(False)
    weights: Weights = Field(Weights())


class Round(Section):
    name: Text = Field()
    signup_opens: Day = Field()
    signup_closes: Day = Field()
    starts: Day = Field()
    length_months: int = Field(6, ge=1, le=24)
    meetings_per_month: int = Field(1, ge=1, le=4)


def message_switches() -> tuple[str, ...]:
    """The keys of app.yaml's ``rhythm.messages``: one per scheduled kind that may be
    turned off. Each is declared with its kind in ``conversations/scheduled.py`` and
    explained by a ``switch.<name>`` catalogue key; the core reads them from the
    catalogue, as it may not import the flows (a test checks the two agree)."""
    return tuple(key.removeprefix("switch.") for key in catalogue(FALLBACK)
                 if key.startswith("switch."))


if TYPE_CHECKING:
    Messages = Section
else:
    #: ``rhythm.messages``: one true/false per switch, explained by its catalogue text.
    Messages = create_model("Messages", __base__=Section, **{
        name: (bool, Field(True, description=catalogue(FALLBACK)[f"switch.{name}"]))
        for name in message_switches()})


class Rhythm(Section):
    nudge_weekday: Weekday = Field("tuesday")
    nudge_time: ClockTime = Field(time(10, 0))
    lifecycle_time: ClockTime = Field(time(10, 0))
    grace_hours: int = Field(72, ge=1, le=24 * 27)
    reminder_days: int = Field(7, ge=1, le=21)
    stalled_after_periods: int = Field(2, ge=1, le=12)
    signup_reminder_days: int = Field(3, ge=1, le=30)
    tick_seconds: int = Field(60, ge=5, le=3600)
    claim_lease_seconds: int = Field(300, ge=5, le=3600)
    leader_lease_seconds: int = Field(30, ge=3, le=600)
    messages: Messages = Field(Messages())


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise Invalid("config.problem.country", value=value)
    return value


class Meetings(Section):
    length_minutes: int = Field(60, ge=15, le=240)
    working_hours_start: ClockTime = Field(time(9, 0))
    working_hours_end: ClockTime = Field(time(17, 0))
    working_days: Annotated[list[Weekday], AfterValidator(_unique)] = Field(
        ["monday", "tuesday", "wednesday", "thursday", "friday"])
    country: Annotated[str, AfterValidator(_country)] | None = Field(
        "DE")
    region: Text | None = Field(None)
    window_days: int = Field(14, ge=2, le=60)
    graph_tenant_id: Text | None = Field(None)


class Report(Section):
    min_group_size: int = Field(5, ge=3, le=100)


class Privacy(Section):
    retention_months: int | None = Field(None, ge=1, le=120)


class Announcement(Section):
    id: Identifier = Field()
    at: Instant = Field()
    channel: Text | None = Field(None)
    channels: Texts | None = Field(None)
    text_de: AnnouncementText = Field()
    text_en: AnnouncementText = Field()
    signup_button: bool = Field(False)


GuideText = Annotated[str, Field(min_length=1, max_length=1000)]


class Guide(Section):
    """A meeting guide of the company's own: added, or replacing a built-in one by id."""

    id: Identifier = Field()
    topic: Identifier | None = Field(None)
    meeting: Literal["first", "any", "last"] = Field("any")
    title_de: Annotated[str, Field(min_length=1, max_length=150)] = Field()
    title_en: Annotated[str, Field(min_length=1, max_length=150)] = Field()
    text_de: GuideText = Field()
    text_en: GuideText = Field()


class DirectoryColumns(Section):
    """Which column of the HR system's CSV export holds what (the header's text)."""

    key: Text | None = Field(None)
    name: Text | None = Field(None)
    department: Text | None = Field(None)
    manager: Text | None = Field(None)
    job_title: Text | None = Field(None)
    location: Text | None = Field(None)
    language: Text | None = Field(None)
    active: Text | None = Field(None)
    slack_id: Text | None = Field(None)
    teams_id: Text | None = Field(None)
    #: The one column every export must have: people are found by their e-mail.
    email: Text = Field()


class DirectoryCsv(Section):
    """An HR export: which of its columns hold what."""

    columns: DirectoryColumns = Field()


class NightlySource(Section):
    """A directory source the bot can read by itself: each night unless ``nightly`` is
    false (then only ``tandem directory sync`` reads it)."""

    nightly: bool = Field(True)


class DirectoryGraph(NightlySource):
    """Microsoft Graph: the tenant whose users are read (User.Read.All)."""

    tenant_id: Text = Field()


class DirectorySlack(NightlySource):
    """Slack's custom profile fields that hold the department and the manager."""

    department: Text | None = Field(None)
    manager: Text | None = Field(None)


SCIM_URL = "https://api.slack.com/scim/v2"


class DirectoryScim(NightlySource):
    """Slack's SCIM API (Enterprise Grid and Business+ plans; an admin token)."""

    url: Text = Field(SCIM_URL)


class Directory(Section):
    """Where the org chart comes from: any of the sources, one per platform."""

    csv: DirectoryCsv | None = Field(None)
    graph: DirectoryGraph | None = Field(None)
    slack: DirectorySlack | None = Field(None)
    scim: DirectoryScim | None = Field(None)


class AppYaml(Section):
    """The whole file."""

    programme: Programme = Field()
    coordinators: PerPlatform = Field({})
    channels: PerPlatform = Field({})
    organisation: PerPlatform = Field({})
    mentors_channel: dict[Annotated[str, AfterValidator(_platform_name)], Text] = Field({})
    survey: Survey = Field()
    matching: Matching = Field(Matching())
    round: Round = Field()
    rhythm: Rhythm = Field(Rhythm())
    meetings: Meetings = Field(Meetings())
    report: Report = Field(Report())
    privacy: Privacy = Field(Privacy())
    announcements: list[Announcement] = Field([])
    guides: list[Guide] = Field([])
    directory: Directory = Field(Directory())


def field_at(where: tuple[str | int, ...], root: type[BaseModel] = AppYaml
             ) -> tuple[type[BaseModel] | None, Any]:
    """The model that holds the key at ``where`` (in ``root``), and that key's FieldInfo
    (None if unknown)."""
    from typing import get_args, get_origin

    model: type[BaseModel] | None = root
    info: Any = None
    for step in where:
        if isinstance(step, int):
            continue
        if model is None or step not in model.model_fields:
            return model, None
        info = model.model_fields[step]
        inner: Any = info.annotation
        model = None
        while inner is not None and not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            args = [a for a in get_args(inner) if a is not type(None)]
            inner = args[0] if args and get_origin(inner) is not Literal else None
        model = inner
    return model, info
