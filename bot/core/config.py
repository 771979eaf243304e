"""app.yaml: the programme's own settings, read and validated once at start.

The schema (``bot.core.config_schema``, pydantic) checks every key and value;
this module adds the rules that span two keys and turns the result into the
frozen settings the rest of the code reads. Every problem is a ``ConfigError``
naming the file, the line, the key and what is wrong; the CLI prints it and
exits with code 2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from bot.core import config_schema as schema
from bot.core.config_errors import config_error
from bot.core.config_schema import (
    ANNOUNCEMENT_MAX,
    QUESTIONS,
    REQUIRED_QUESTIONS,
    WEEKDAYS,
    message_switches,
)
from bot.core.config_yaml import Location, dotted, line_of, read_yaml
from bot.core.errors import ConfigError
from bot.core.slots import is_known_country

__all__ = ["ANNOUNCEMENT_MAX", "QUESTIONS", "REQUIRED_QUESTIONS", "WEEKDAYS",
           "AppConfig", "load_config", "message_switches", "parse_config"]

#: ``fail(where, problem, **params)``: a ConfigError at that key, with its line.
Fail = Callable[..., ConfigError]


@dataclass(frozen=True)
class Topic:
    id: str
    labels: dict[str, str]

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels["en"]


@dataclass(frozen=True)
class Survey:
    questions: tuple[str, ...]
    topics: tuple[Topic, ...]
    departments: tuple[str, ...]
    languages: tuple[str, ...]
    goals_max_length: int = 500
    max_capacity: int = 4

    def topic(self, topic_id: str) -> Topic | None:
        return next((tp for tp in self.topics if tp.id == topic_id), None)


@dataclass(frozen=True)
class RoundSettings:
    name: str
    signup_opens: datetime
    signup_closes: datetime
    starts: datetime
    length_months: int
    meetings_per_month: int


@dataclass(frozen=True, slots=True)
class MatchingSettings:
    reporting_line_depth: int = 2
    forbid_same_department: bool = True
    allow_repeat_pairs: bool = False
    fairness: bool = False
    weights: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RhythmSettings:
    """The round's cadence: when nudges go out, and which lifecycle messages are sent."""

    nudge_weekday: int = 1  # Monday is 0
    nudge_time: time = time(10, 0)
    lifecycle_time: time = time(10, 0)
    grace: timedelta = timedelta(days=3)
    reminder_after: timedelta = timedelta(days=7)
    stalled_after_periods: int = 2
    signup_reminder_days: int = 3
    #: the ``rhythm.messages`` switches that are on
    enabled: frozenset[str] = field(default_factory=lambda: frozenset(message_switches()))
    tick_seconds: int = 60
    #: How long a claimed delivery is held before another sender may take it over:
    #: longer than the slowest send, rate-limit waits included.
    claim_lease: timedelta = timedelta(minutes=5)
    #: The scheduler's leader lease: another instance takes over this long after
    #: the leader stopped renewing it.
    leader_lease: timedelta = timedelta(seconds=30)

    def sends(self, switch: str) -> bool:
        """Whether app.yaml leaves the scheduled messages behind ``switch`` on."""
        return switch in self.enabled


@dataclass(frozen=True)
class MeetingSettings:
    """Find a time: the meeting's length, and the working time assumed for everyone
    whose own is not known (times in each person's own zone)."""

    length: timedelta = timedelta(minutes=60)
    day_starts: time = time(9, 0)
    day_ends: time = time(17, 0)
    #: Monday is 0
    working_days: frozenset[int] = frozenset(range(5))
    country: str | None = "DE"
    region: str | None = None
    window: timedelta = timedelta(days=14)
    #: Microsoft Graph calendars (free/busy, Outlook events) of this tenant, if any.
    graph_tenant: str | None = None


@dataclass(frozen=True)
class ReportSettings:
    """The programme's figures: a breakdown over fewer people than ``min_group_size``
    (a topic, a month, a rating distribution, the evaluation answers) is not shown."""

    min_group_size: int = 5


@dataclass(frozen=True)
class PrivacySettings:
    """How long personal data is kept: a round's people are erased this many months
    after the round ended (``None``: kept until each person asks, ``forget-me``)."""

    retention_months: int | None = None


@dataclass(frozen=True)
class DirectorySettings:
    """The company directory's sources: for the CSV import, field -> column header."""

    csv_columns: dict[str, str] | None = None
    #: Microsoft Graph: the tenant whose users are read, and whether nightly.
    graph_tenant: str | None = None
    graph_nightly: bool = False
    #: Slack's custom profile fields (``department``, ``manager``: a field's id or
    #: label), or None when Slack profiles are not a source.
    slack_fields: dict[str, str] | None = None
    slack_nightly: bool = False
    #: Slack's SCIM API (its base URL), or None when SCIM is not a source.
    scim_url: str | None = None
    scim_nightly: bool = False


@dataclass(frozen=True)
class AppConfig:
    """app.yaml, checked and resolved: what every flow reads (``source`` is the
    file it came from, for messages that point at a line)."""

    source: str
    programme_name: str
    default_language: str
    timezone: ZoneInfo
    coordinators: dict[str, tuple[str, ...]]
    channels: dict[str, tuple[str, ...]]
    survey: Survey
    matching: MatchingSettings
    round: RoundSettings
    rhythm: RhythmSettings = field(default_factory=RhythmSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    meetings: MeetingSettings = field(default_factory=MeetingSettings)
    #: Each platform's own section of app.yaml (``slack:``), validated by the schema
    #: its adapter declares (``Platform.options``); read by that adapter only.
    platform_options: dict[str, Any] = field(default_factory=dict)
    directory: DirectorySettings = field(default_factory=DirectorySettings)
    #: The groups' members, filled in and refreshed by the platform adapters.
    group_members: CoordinatorGroups = field(default_factory=lambda: CoordinatorGroups(),
                                             compare=False, repr=False)
    announcements: tuple[ScheduledAnnouncement, ...] = ()
    #: The company's own meeting guides (app.yaml ``guides``), added to the built-in
    #: ones or replacing one by id (``conversations.guides``).
    guides: tuple[GuideSettings, ...] = ()
    #: Per platform, the juniors' channel (Slack: its id; Teams: its link), or none.
    mentors_channel: dict[str, str] = field(default_factory=dict)
    #: The programme's privacy notice and terms of use (https://...), which app
    #: listings link to (the Teams package needs both).
    privacy_url: str | None = None
    terms_url: str | None = None
    #: Per platform, the organisation (Slack: an Enterprise Grid id or workspace ids)
    #: whose requests and installations are served; empty: any.
    organisation: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def is_coordinator(self, platform: str, user_id: str) -> bool:
        return (user_id in self.coordinators.get(platform, ())
                or user_id in self.group_members.of(platform))

    def coordinator_ids(self, platform: str) -> tuple[str, ...]:
        """app.yaml's coordinators, then the members of the coordinator group."""
        listed = self.coordinators.get(platform, ())
        return listed + tuple(sorted(self.group_members.of(platform) - set(listed)))


class CoordinatorGroups:
    """Members of the coordinator groups per platform; adapters replace them on refresh."""

    def __init__(self) -> None:
        self._members: dict[str, frozenset[str]] = {}

    def of(self, platform: str) -> frozenset[str]:
        return self._members.get(platform, frozenset())

    def replace(self, platform: str, user_ids: Iterable[str]) -> None:
        self._members[platform] = frozenset(user_ids)


@dataclass(frozen=True)
class ScheduledAnnouncement:
    """A channel post planned in app.yaml, sent once at ``at`` by the rhythm."""

    id: str
    at: datetime
    texts: dict[str, str]
    #: (platform, channel id); all programme channels when app.yaml names none.
    channels: tuple[tuple[str, str], ...]
    signup_button: bool = False

    def text(self, language: str) -> str:
        return self.texts.get(language) or next(iter(self.texts.values()))


@dataclass(frozen=True)
class GuideSettings:
    """A meeting guide from app.yaml: for a survey topic (None: any tandem) and a
    meeting (``first``, ``last`` or ``any`` month between), its title and text."""

    id: str
    topic: str | None
    meeting: str
    titles: dict[str, str]
    texts: dict[str, str]


#: The platforms app.yaml may name (under ``coordinators:`` and ``channels:``), each
#: with the schema of its own section (``slack:``), or None if it has none. Given by
#: the shell, which finds the adapters (``bot.platforms.app_yaml_platforms``); the
#: core does not know which platforms exist.
Platforms = Mapping[str, type[BaseModel] | None]


def load_config(path: str | Path, platforms: Platforms | None = None) -> AppConfig:
    """app.yaml, validated; with ``platforms``, also its platform names and sections."""
    raw, lines = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "(file)", "config.problem.not_mapping")
    return _parse(str(path), raw, lines, platforms)


def parse_config(source: str, raw: dict[str, Any], platforms: Platforms | None = None
                 ) -> AppConfig:
    """Validate data already read (tests build it in code): problems carry no line."""
    return _parse(source, raw, {}, platforms)


def _parse(source: str, raw: dict[str, Any], lines: dict[Location, int],
           platforms: Platforms | None) -> AppConfig:
    def fail(where: Location, problem: str, /, **params: Any) -> ConfigError:
        return ConfigError(source, dotted(where), problem, line=line_of(lines, where), **params)

    raw = dict(raw)
    own: dict[str, Any] = {}
    if platforms is not None:
        _check_platform_names(raw, platforms, fail)
        own = {name: raw.pop(name) for name, options in platforms.items()
               if options is not None and name in raw}
    try:
        checked = schema.AppYaml.model_validate(raw)
    except ValidationError as error:
        raise config_error(source, error, lines) from None
    options: dict[str, Any] = {}
    for name, model in (platforms or {}).items():
        if model is None:
            continue
        try:
            options[name] = model.model_validate(own.get(name) or {})
        except ValidationError as error:
            raise config_error(source, error, lines, root=model, at=(name,)) from None

    zone = ZoneInfo(checked.programme.timezone)
    return AppConfig(
        source=source,
        programme_name=checked.programme.name,
        privacy_url=checked.programme.privacy_url,
        terms_url=checked.programme.terms_url,
        default_language=checked.programme.default_language,
        timezone=zone,
        coordinators=_per_platform(checked.coordinators),
        platform_options=options,
        channels=_per_platform(checked.channels),
        organisation=_per_platform(checked.organisation),
        announcements=_announcements(checked, fail),
        guides=_guides(checked, fail),
        mentors_channel=dict(checked.mentors_channel),
        survey=_survey(checked.survey, fail),
        matching=_matching(checked.matching),
        round=_round(checked.round, zone, fail),
        rhythm=_rhythm(checked.rhythm),
        report=ReportSettings(min_group_size=checked.report.min_group_size),
        privacy=PrivacySettings(retention_months=checked.privacy.retention_months),
        meetings=_meetings(checked.meetings, fail),
        directory=_directory(checked.directory),
    )


def _directory(section: schema.Directory) -> DirectorySettings:
    csv, graph = section.csv, section.graph
    return DirectorySettings(
        csv_columns=None if csv is None else {
            name: column for name, column in csv.columns.model_dump().items() if column},
        graph_tenant=None if graph is None else graph.tenant_id,
        graph_nightly=graph is not None and graph.nightly,
        slack_fields=None if section.slack is None else {
            name: value for name in ("department", "manager")
            if (value := getattr(section.slack, name))},
        slack_nightly=section.slack is not None and section.slack.nightly,
        scim_url=None if section.scim is None else section.scim.url.rstrip("/"),
        scim_nightly=section.scim is not None and section.scim.nightly)


def _per_platform(lists: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """Lists keyed by platform name (``slack:``, ``teams:``; ``local:`` in tests and the
    demo). Which platforms exist is the adapters' business, not app.yaml's."""
    return {key: tuple(value) for key, value in lists.items()}


def _check_platform_names(raw: dict[str, Any], platforms: Platforms, fail: Fail) -> None:
    """Every key under ``coordinators:``, ``channels:`` and ``organisation:`` names a
    platform: a typo
    (``slak:``) would silently leave a platform without coordinators or channels."""
    names = sorted(platforms)
    for section in ("coordinators", "channels", "organisation", "mentors_channel"):
        lists = raw.get(section)
        for key in lists if isinstance(lists, dict) else ():
            if key in platforms:
                continue
            problem, params = "config.problem.not_platform", {
                "hint": schema.close_match(str(key), names), "platforms": names}
            # A platform's own setting written here (coordinators.slack_usergroup, as
            # app.yaml had it before each platform got its own section).
            owner, _, rest = str(key).partition("_")
            model = platforms.get(owner)
            moved = [name for name in (model.model_fields if model else ()) if rest in name]
            if rest and moved:
                problem, params = "config.problem.moved", {"owner": owner, "key": moved[0]}
            raise fail((section, key), problem, **params)


def _survey(survey: schema.Survey, fail: Fail) -> Survey:
    for needed in REQUIRED_QUESTIONS:
        if needed not in survey.questions:
            raise fail(("survey", "questions"), "config.problem.question_needed",
                       question=needed)
    seen: set[str] = set()
    for index, topic in enumerate(survey.topics):
        if topic.id in seen:
            raise fail(("survey", "topics", index, "id"), "config.problem.used_twice",
                       value=topic.id)
        seen.add(topic.id)
    return Survey(
        questions=tuple(survey.questions),
        topics=tuple(Topic(tp.id, {"de": tp.de, "en": tp.en}) for tp in survey.topics),
        departments=tuple(survey.departments),
        languages=tuple(survey.languages),
        goals_max_length=survey.goals_max_length,
        max_capacity=survey.max_capacity,
    )


def _matching(matching: schema.Matching) -> MatchingSettings:
    weights = {key: float(value) for key, value in matching.weights.model_dump().items()
               if value is not None}
    return MatchingSettings(
        reporting_line_depth=matching.reporting_line_depth,
        forbid_same_department=matching.forbid_same_department,
        allow_repeat_pairs=matching.allow_repeat_pairs,
        fairness=matching.fairness,
        weights=weights,
    )


def _round(round_: schema.Round, zone: ZoneInfo, fail: Fail) -> RoundSettings:
    # Both rules name signup_closes: it is the date between the other two, and the
    # one a coordinator moves when sign-up is extended.
    if round_.signup_closes < round_.signup_opens:
        raise fail(("round", "signup_closes"), "config.problem.closes_before_opens",
                   closes=round_.signup_closes, opens=round_.signup_opens)
    if round_.signup_closes >= round_.starts:
        raise fail(("round", "signup_closes"), "config.problem.closes_after_start",
                   closes=round_.signup_closes, starts=round_.starts)
    return RoundSettings(
        name=round_.name,
        signup_opens=_midnight(round_.signup_opens, zone),
        # The closing day is the last day to sign up: the window ends at its midnight.
        signup_closes=_midnight(round_.signup_closes, zone) + timedelta(days=1),
        starts=_midnight(round_.starts, zone),
        length_months=round_.length_months,
        meetings_per_month=round_.meetings_per_month,
    )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def _rhythm(rhythm: schema.Rhythm) -> RhythmSettings:
    return RhythmSettings(
        nudge_weekday=WEEKDAYS.index(rhythm.nudge_weekday),
        nudge_time=rhythm.nudge_time,
        lifecycle_time=rhythm.lifecycle_time,
        grace=timedelta(hours=rhythm.grace_hours),
        reminder_after=timedelta(days=rhythm.reminder_days),
        stalled_after_periods=rhythm.stalled_after_periods,
        signup_reminder_days=rhythm.signup_reminder_days,
        enabled=frozenset(name for name in message_switches()
                          if getattr(rhythm.messages, name)),
        tick_seconds=rhythm.tick_seconds,
        claim_lease=timedelta(seconds=rhythm.claim_lease_seconds),
        leader_lease=timedelta(seconds=rhythm.leader_lease_seconds),
    )


def _meetings(meetings: schema.Meetings, fail: Fail) -> MeetingSettings:
    if meetings.working_hours_end <= meetings.working_hours_start:
        raise fail(("meetings", "working_hours_end"), "config.problem.day_ends_early",
                   end=meetings.working_hours_end, start=meetings.working_hours_start)
    end = datetime.combine(date.min, meetings.working_hours_end)
    if end - datetime.combine(date.min, meetings.working_hours_start) < timedelta(
            minutes=meetings.length_minutes):
        raise fail(("meetings", "length_minutes"), "config.problem.meeting_too_long",
                   minutes=meetings.length_minutes)
    if meetings.region is not None and meetings.country is None:
        raise fail(("meetings", "region"), "config.problem.region_needs_country")
    if meetings.country is not None and not is_known_country(meetings.country, meetings.region):
        where = "region" if meetings.region is not None and is_known_country(
            meetings.country) else "country"
        raise fail(("meetings", where), "config.problem.no_holidays",
                   value=getattr(meetings, where))
    return MeetingSettings(
        length=timedelta(minutes=meetings.length_minutes),
        day_starts=meetings.working_hours_start,
        day_ends=meetings.working_hours_end,
        working_days=frozenset(WEEKDAYS.index(day) for day in meetings.working_days),
        country=meetings.country,
        region=meetings.region,
        window=timedelta(days=meetings.window_days),
        graph_tenant=meetings.graph_tenant_id,
    )


_Listed = TypeVar("_Listed", schema.Announcement, schema.Guide)


def _with_unique_ids(section: str, entries: Iterable[_Listed], fail: Fail
                     ) -> Iterator[tuple[Location, _Listed]]:
    """Each entry of a list in app.yaml with where it stands; an id used twice is an error."""
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        here: Location = (section, index)
        if entry.id in seen:
            raise fail((*here, "id"), "config.problem.used_twice", value=entry.id)
        seen.add(entry.id)
        yield here, entry


def _announcements(checked: schema.AppYaml, fail: Fail) -> tuple[ScheduledAnnouncement, ...]:
    channels = _per_platform(checked.channels)
    found: list[ScheduledAnnouncement] = []
    for here, entry in _with_unique_ids("announcements", checked.announcements, fail):
        if entry.channel is not None and entry.channels is not None:
            raise fail((*here, "channel"), "config.problem.channel_or_channels")
        key = "channel" if entry.channel is not None else "channels"
        named = (entry.channel,) if entry.channel is not None else tuple(entry.channels or ())
        chosen: list[tuple[str, str]] = []
        for channel in named:
            platform = next((p for p, listed in channels.items() if channel in listed), None)
            if platform is None:
                raise fail((*here, key), "config.problem.unknown_channel", value=channel)
            chosen.append((platform, channel))
        found.append(ScheduledAnnouncement(
            id=entry.id, at=entry.at, texts={"de": entry.text_de, "en": entry.text_en},
            channels=tuple(chosen) or tuple((p, c) for p, listed in channels.items()
                                            for c in listed),
            signup_button=entry.signup_button,
        ))
    return tuple(found)


def _guides(checked: schema.AppYaml, fail: Fail) -> tuple[GuideSettings, ...]:
    topics = [topic.id for topic in checked.survey.topics]
    found: list[GuideSettings] = []
    for here, entry in _with_unique_ids("guides", checked.guides, fail):
        if entry.topic is not None and entry.topic not in topics:
            raise fail((*here, "topic"), "config.problem.not_topic", value=entry.topic,
                       hint=schema.close_match(entry.topic, topics))
        if entry.topic is not None and entry.meeting != "any":
            raise fail((*here, "topic"), "config.problem.guide_for_all", meeting=entry.meeting)
        found.append(GuideSettings(
            id=entry.id, topic=entry.topic, meeting=entry.meeting,
            titles={"de": entry.title_de, "en": entry.title_en},
            texts={"de": entry.text_de, "en": entry.text_en}))
    return tuple(found)
