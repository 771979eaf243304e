"""The shape of app.yaml, as pydantic models: the one description of every key.

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

from bot.core.i18n import FALLBACK, catalogue

REQUIRED_QUESTIONS = ("role", "topics", "languages")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ANNOUNCEMENT_MAX = 3000
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_USERGROUP = re.compile(r"^(@[a-z0-9][a-z0-9._-]{0,79}|S[A-Z0-9]{2,20})$")


def close_match(word: str, choices: Any) -> str:
    """``; did you mean 'x'?`` for a near miss, else nothing."""
    import difflib

    found = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {found[0]!r}?" if found else ""


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    found = _DAY.match(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"must be a date like 2027-02-01, not {value!r}")
    year, month, day = (int(part) for part in found.groups())
    if not 1 <= month <= 12:
        raise ValueError(f"{value} is not a date: there is no month {month}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{value} is not a date: {_MONTHS[month - 1]} {year} has no day {day}"
                         ) from None


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f'must be a time like "10:00", not {value!r}') from None


def _instant(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date and time like 2027-03-01T10:00:00+01:00, "
                             f"not {value!r}") from None
    if not isinstance(value, datetime):
        raise ValueError(f"must be a date and time like 2027-03-01T10:00:00+01:00, not {value!r}")
    if value.tzinfo is None:
        raise ValueError("must name its time zone offset, like 2027-03-01T10:00:00+01:00")
    return value


def _identifier(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"must be lower-case letters, digits and _ (max 40), not {value!r}")
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone"
                         + close_match(value, available_timezones())) from None
    return value


def _two_letters(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}", value):
        raise ValueError(f"must be a two-letter code like de, not {value!r}")
    return value


def _unique(values: list[Any]) -> list[Any]:
    twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
    if twice is not None:
        raise ValueError(f"lists {twice!r} twice")
    return values


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _usergroup(value: str) -> str:
    if not _USERGROUP.match(value):
        raise ValueError(f"must be a user group handle like @hr-mentoring, not {value!r}")
    return value


Text = Annotated[str, Field(min_length=1)]
Identifier = Annotated[str, AfterValidator(_identifier)]
Day = Annotated[date, BeforeValidator(_day)]
ClockTime = Annotated[time, BeforeValidator(_clock)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
Texts = Annotated[list[Text], AfterValidator(_unique)]
AnnouncementText = Annotated[str, Field(min_length=1, max_length=ANNOUNCEMENT_MAX)]
Question = Literal["role", "department", "manager", "topics", "goals", "languages",
                   "meeting_mode", "location", "capacity"]
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
    name: Text = Field(description="the programme's name, shown in messages, apps and reports")
    default_language: Literal["de", "en"] = Field(
        "de", description="the language of people whose locale is unknown")
    privacy_url: Text | None = Field(
        None, description="the programme's privacy notice (https://…), linked from app listings")
    terms_url: Text | None = Field(
        None, description="the programme's terms of use (https://…), linked from app listings")
    timezone: Annotated[str, AfterValidator(_zone)] = Field(
        "Europe/Berlin", description="an IANA time zone: the dates of round and rhythm are in it")


#: Keys of ``coordinators:`` that are not a platform's list of user ids.
COORDINATOR_OPTIONS = ("slack_usergroup",)


class PerPlatform(Section):
    """Lists keyed by platform name: the platforms below are documented; any other
    adapter's name (lower-case letters, digits, _) is accepted too."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    @model_validator(mode="after")
    def _platform_lists(self) -> PerPlatform:
        for key, value in (self.model_extra or {}).items():
            if not _ID.match(key):
                raise ValueError(f"{key!r} must be a platform's name, like slack or teams")
            if not isinstance(value, list) or not all(
                    isinstance(item, str) and item for item in value):
                raise ValueError(f"{key}: must be a list of texts, not {value!r}")
        return self


class Coordinators(PerPlatform):
    slack: Texts = Field([], description="Slack user ids of the coordinators (U…)")
    teams: Texts = Field([], description="Teams users by their Entra (AAD) object id")
    local: Texts = Field([], description="users of the in-process platform (tests, demo)")
    slack_usergroup: Annotated[str, AfterValidator(_usergroup)] | None = Field(
        None, description="a Slack user group whose members are coordinators too (@handle)")


class Channels(PerPlatform):
    slack: Texts = Field([], description="Slack channel ids that get the announcements")
    teams: Texts = Field([], description="Teams channel ids (19:…@thread.tacv2)")
    local: Texts = Field([], description="channels of the in-process platform (tests, demo)")


class Organisation(PerPlatform):
    slack: Texts = Field([], description="the Slack organisation the programme belongs to: its "
                         "Enterprise Grid id (E…) or its workspaces (T…); requests and installs "
                         "from elsewhere are refused (left out: any)")


class Topic(Section):
    id: Identifier = Field(description="a short id: lower-case letters, digits and _")
    de: Text = Field(description="the topic's German label")
    en: Text = Field(description="the topic's English label")


class Survey(Section):
    questions: Annotated[list[Question], AfterValidator(_unique)] = Field(
        list(get_args(Question)), description="the questions, in the order they are asked; "
        "role, topics and languages are needed by the matching")
    topics: list[Topic] = Field(min_length=1, description="the topics people choose from")
    departments: Texts = Field([], description="the departments offered in the survey")
    languages: Annotated[list[Annotated[str, AfterValidator(_two_letters)]],
                         AfterValidator(_unique)] = Field(
        ["de", "en"], description="languages people may say they speak (two-letter codes)")
    goals_max_length: int = Field(500, ge=50, le=2000,
                                  description="the most characters a goal may have")
    max_capacity: int = Field(4, ge=1, le=20, description="the most juniors one senior may take")


class Weights(Section):
    topics: float | None = Field(None, ge=0, description="shared topics (left out: 50)")
    meeting_mode: float | None = Field(None, ge=0, description="same meeting mode (left out: 15)")
    timezone: float | None = Field(None, ge=0, description="close time zones (left out: 15)")
    location: float | None = Field(None, ge=0, description="same location (left out: 10)")
    languages: float | None = Field(None, ge=0, description="more shared languages (left out: 10)")


class Matching(Section):
    reporting_line_depth: int = Field(2, ge=0, le=20, description="never pair someone with "
                                      "a manager this many levels up")
    forbid_same_department: bool = Field(True, description="never pair two people of one "
                                         "department")
    allow_repeat_pairs: bool = Field(False, description="allow pairs of an earlier round again")
    fairness: bool = Field(False, description="first lift the worst tandem's score, then the "
                           "total")
    weights: Weights = Field(Weights(), description="how much each criterion counts in a "
                             "pair's score, relative to the others")


class Round(Section):
    name: Text = Field(description="the round's name, used by `--round` and in reports")
    signup_opens: Day = Field(description="the first day to sign up")
    signup_closes: Day = Field(description="the last day to sign up; before starts")
    starts: Day = Field(description="the day the tandems start (kick-off)")
    length_months: int = Field(6, ge=1, le=24, description="how long the tandems run")
    meetings_per_month: int = Field(1, ge=1, le=4, description="meetings each tandem is "
                                    "nudged to have a month")


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
    nudge_weekday: Weekday = Field("tuesday", description="the weekday of the monthly nudge")
    nudge_time: ClockTime = Field(time(10, 0), description="the nudge's local time, in each "
                                  "person's time zone")
    lifecycle_time: ClockTime = Field(time(10, 0), description="the time of announcements and "
                                      "reminders, in programme.timezone")
    grace_hours: int = Field(72, ge=1, le=24 * 27, description="a message missed while the bot "
                             "was down goes out late within this many hours, else is skipped")
    reminder_days: int = Field(7, ge=1, le=21, description='"Not yet, remind me" comes back '
                               "after this many days")
    stalled_after_periods: int = Field(2, ge=1, le=12, description="tell the coordinators when "
                                       "a tandem missed this many months")
    signup_reminder_days: int = Field(3, ge=1, le=30, description="remind the channels this "
                                      "many days before sign-up closes")
    tick_seconds: int = Field(60, ge=5, le=3600, description='how often the scheduler asks '
                              '"what is due now?"')
    claim_lease_seconds: int = Field(300, ge=5, le=3600, description="another sender may take "
                                     "over a claimed message after this many seconds")
    leader_lease_seconds: int = Field(30, ge=3, le=600, description="with several instances, "
                                      "another takes over the scheduler this long after the "
                                      "leader stopped")
    messages: Messages = Field(Messages(), description="switch lifecycle messages off with false")


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f"must be a two-letter country code like DE, not {value!r}")
    return value


class Meetings(Section):
    length_minutes: int = Field(60, ge=15, le=240, description="how long a tandem's meeting "
                                "is; Find a time proposes slots of this length")
    working_hours_start: ClockTime = Field(time(9, 0), description="the start of the working "
                                           "day, in each person's time zone")
    working_hours_end: ClockTime = Field(time(17, 0), description="the end of the working "
                                         "day, in each person's time zone")
    working_days: Annotated[list[Weekday], AfterValidator(_unique)] = Field(
        ["monday", "tuesday", "wednesday", "thursday", "friday"],
        description="the days people work; meetings are proposed on these only")
    country: Annotated[str, AfterValidator(_country)] | None = Field(
        "DE", description="whose public holidays are skipped (ISO code, e.g. DE, US, IN), "
        "unless a person's own country is known")
    region: Text | None = Field(None, description="the country's region for regional "
                                "holidays (e.g. BY for Bavaria)")
    window_days: int = Field(14, ge=2, le=60, description="how far ahead Find a time looks")


class Report(Section):
    min_group_size: int = Field(5, ge=3, le=100, description='figures over fewer people are '
                                'shown as "fewer than N", so nobody can be identified')


class Privacy(Section):
    retention_months: int | None = Field(None, ge=1, le=120, description="erase a round's "
                                         "people this many months after it ended (left out: "
                                         "kept until each person types forget-me)")


class Announcement(Section):
    id: Identifier = Field(description="a short id; each announcement is sent once")
    at: Instant = Field(description="when to post it, with its offset: "
                        "2027-03-01T10:00:00+01:00")
    channel: Text | None = Field(None, description="one of the channels above (or use channels)")
    channels: Texts | None = Field(None, description="several of the channels above (left out: "
                                   "all)")
    text_de: AnnouncementText = Field(description="the German text")
    text_en: AnnouncementText = Field(description="the English text")
    signup_button: bool = Field(False, description='add a "Sign up" button')


class AppYaml(Section):
    """The whole file."""

    programme: Programme = Field(description="who runs it, in which language and time zone")
    coordinators: Coordinators = Field(Coordinators(), description="who may match, announce "
                                       "and see the figures")
    channels: Channels = Field(Channels(), description="where announcements go")
    organisation: Organisation = Field(Organisation(), description="whose workspaces may use "
                                       "the bot (OAuth installs)")
    survey: Survey = Field(description="the interest survey")
    matching: Matching = Field(Matching(), description="the matching's rules and weights")
    round: Round = Field(description="the current round's dates")
    rhythm: Rhythm = Field(Rhythm(), description="the round's cadence")
    meetings: Meetings = Field(Meetings(), description="finding a time for the tandems' "
                               "meetings")
    report: Report = Field(Report(), description="the programme's figures")
    privacy: Privacy = Field(Privacy(), description="how long personal data is kept")
    announcements: list[Announcement] = Field([], description="channel posts planned ahead")


def field_at(where: tuple[str | int, ...]) -> tuple[type[BaseModel] | None, Any]:
    """The model that holds the key at ``where``, and that key's FieldInfo (None if unknown)."""
    from typing import get_args, get_origin

    model: type[BaseModel] | None = AppYaml
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
