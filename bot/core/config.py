"""app.yaml: the programme's own settings, read and validated once at start.

Every problem is reported as file, field and what is wrong (a ``ConfigError``);
the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.core.errors import ConfigError
from bot.core.i18n import FALLBACK, LANGUAGES, catalogue

QUESTIONS = (
    "role",
    "department",
    "manager",
    "topics",
    "goals",
    "languages",
    "meeting_mode",
    "location",
    "capacity",
)
REQUIRED_QUESTIONS = ("role", "topics", "languages")
#: Keys of ``coordinators:`` that are not a platform's list of user ids.
COORDINATOR_OPTIONS = ("slack_usergroup",)
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")


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


@dataclass(frozen=True)
class MatchingSettings:
    reporting_line_depth: int = 2
    forbid_same_department: bool = True
    allow_repeat_pairs: bool = False
    fairness: bool = False
    weights: dict[str, float] = field(default_factory=dict)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def message_switches() -> tuple[str, ...]:
    """The keys of app.yaml's ``rhythm.messages``: one per scheduled kind that may be
    turned off. Each is declared with its kind in ``conversations/scheduled.py`` and
    explained by a ``switch.<name>`` catalogue key; the core reads them from the
    catalogue, as it may not import the flows (a test checks the two agree)."""
    return tuple(key.removeprefix("switch.") for key in catalogue(FALLBACK)
                 if key.startswith("switch."))


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
class AppConfig:
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
    #: Per platform, a group whose members are coordinators too (Slack: "@hr-mentoring").
    coordinator_groups: dict[str, str] = field(default_factory=dict)
    #: The groups' members, filled in and refreshed by the platform adapters.
    group_members: CoordinatorGroups = field(default_factory=lambda: CoordinatorGroups(),
                                             compare=False, repr=False)
    announcements: tuple[ScheduledAnnouncement, ...] = ()
    #: The programme's privacy notice and terms of use (https://...), which app
    #: listings link to (the Teams package needs both).
    privacy_url: str | None = None
    terms_url: str | None = None

    def is_coordinator(self, platform: str, user_id: str) -> bool:
        return (user_id in self.coordinators.get(platform, ())
                or user_id in self.group_members.of(platform))

    def coordinator_ids(self, platform: str) -> tuple[str, ...]:
        """app.yaml's coordinators, then the members of the coordinator group."""
        listed = self.coordinators.get(platform, ())
        return listed + tuple(sorted(self.group_members.of(platform) - set(listed)))


class _Reader:
    """Walks a YAML mapping and names the exact field of every problem."""

    def __init__(self, source: str, data: Any, path: str = "") -> None:
        self.source, self.data, self.path = source, data, path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, self._join(key), problem)

    def _join(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def section(self, key: str, required: bool = True) -> _Reader:
        value = self.data.get(key) if isinstance(self.data, dict) else None
        if value is None:
            if required:
                raise self.fail(key, "is missing")
            value = {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, not {type(value).__name__}")
        return _Reader(self.source, value, self._join(key))

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data or self.data[key] is None:
            if default is ...:
                raise self.fail(key, "is missing")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(key, f"must be {_kind_name(kinds)}, not true/false")
        if not isinstance(value, kinds):
            raise self.fail(key, f"must be {_kind_name(kinds)}, not {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value: str = self.get(key, str, default)
        if isinstance(value, str) and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def number(self, key: str, default: Any = ..., low: int = 0, high: int = 10**6) -> int:
        value: int = self.get(key, int, default)
        if not low <= value <= high:
            raise self.fail(key, f"must be between {low} and {high}, not {value}")
        return value

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(key, list, default)
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{index}]", f"must be a non-empty text, not {item!r}")
        if len(set(value)) != len(value):
            raise self.fail(key, "lists the same entry twice")
        return tuple(value)

    def day(self, key: str, zone: ZoneInfo) -> datetime:
        value = self.get(key, (date, str))
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                raise self.fail(key, f"must be a date like 2027-02-01, not {value!r}") from None
        if isinstance(value, datetime):
            value = value.date()
        return datetime.combine(value, time(0, 0), tzinfo=zone)


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a text",
        int: "a whole number",
        list: "a list",
        dict: "a mapping",
        bool: "true or false",
        date: "a date",
        float: "a number",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def load_config(path: str | Path) -> AppConfig:
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            source, "(file)", "does not exist; set TANDEM_CONFIG or create it"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(source, where, f"is not valid YAML: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(source, "(file)", "must be a YAML mapping of sections")
    return parse_config(source, raw)


def parse_config(source: str, raw: dict[str, Any]) -> AppConfig:
    root = _Reader(source, raw)
    programme = root.section("programme")
    default_language = programme.text("default_language", "de")
    if default_language not in LANGUAGES:
        raise programme.fail("default_language", f"must be one of {', '.join(LANGUAGES)}")
    zone_name = programme.text("timezone", "Europe/Berlin")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise programme.fail("timezone", f"{zone_name!r} is not a known time zone") from None

    return AppConfig(
        source=source,
        programme_name=programme.text("name"),
        privacy_url=programme.get("privacy_url", str, None),
        terms_url=programme.get("terms_url", str, None),
        default_language=default_language,
        timezone=zone,
        coordinators=_per_platform(root.section("coordinators", required=False),
                                   besides=COORDINATOR_OPTIONS),
        coordinator_groups=_coordinator_groups(root.section("coordinators", required=False)),
        announcements=_announcements(root, zone),
        channels=_per_platform(root.section("channels", required=False)),
        survey=_survey(root.section("survey")),
        matching=_matching(root.section("matching", required=False)),
        round=_round(root.section("round"), zone),
        rhythm=_rhythm(root.section("rhythm", required=False)),
        report=_report(root.section("report", required=False)),
        privacy=_privacy(root.section("privacy", required=False)),
    )


def _per_platform(section: _Reader, besides: Iterable[str] = ()
                  ) -> dict[str, tuple[str, ...]]:
    """Lists keyed by platform name (``slack:``, ``teams:``; ``local:`` in tests and the
    demo). Which platforms exist is the adapters' business, not app.yaml's."""
    found = {}
    for key in section.data:
        if key in besides:
            continue
        if not isinstance(key, str) or not _ID.match(key):
            raise section.fail(str(key), "must be a platform's name, like slack or teams")
        found[key] = section.strings(key, [])
    return found


def _survey(section: _Reader) -> Survey:
    questions = section.strings("questions", list(QUESTIONS))
    for index, question in enumerate(questions):
        if question not in QUESTIONS:
            raise section.fail(
                f"questions[{index}]",
                f"unknown question {question!r}; known: {', '.join(QUESTIONS)}",
            )
    for needed in REQUIRED_QUESTIONS:
        if needed not in questions:
            raise section.fail("questions", f"must include {needed!r}: matching needs it")
    raw_topics = section.get("topics", list)
    if not raw_topics:
        raise section.fail("topics", "must list at least one topic")
    topics: list[Topic] = []
    for index, item in enumerate(raw_topics):
        entry = _Reader(section.source, item, f"{section.path}.topics[{index}]")
        if not isinstance(item, dict):
            raise section.fail(f"topics[{index}]", "must be a mapping with id, de and en")
        topic_id = entry.text("id")
        if not _ID.match(topic_id):
            raise entry.fail("id", "must be lower-case letters, digits and _ (max 40)")
        if any(tp.id == topic_id for tp in topics):
            raise entry.fail("id", f"{topic_id!r} is used twice")
        topics.append(Topic(topic_id, {lang: entry.text(lang) for lang in LANGUAGES}))
    languages = section.strings("languages", list(LANGUAGES))
    for index, code in enumerate(languages):
        if not _LANGUAGE_CODE.match(code):
            raise section.fail(f"languages[{index}]", "must be a two-letter code like de")
    return Survey(
        questions=questions,
        topics=tuple(topics),
        departments=section.strings("departments", []),
        languages=languages,
        goals_max_length=section.number("goals_max_length", 500, low=50, high=2000),
        max_capacity=section.number("max_capacity", 4, low=1, high=20),
    )


def _matching(section: _Reader) -> MatchingSettings:
    weights_section = section.section("weights", required=False)
    weights: dict[str, float] = {}
    for key in ("topics", "meeting_mode", "timezone", "location", "languages"):
        value = weights_section.get(key, (int, float), None)
        if value is not None:
            if value < 0:
                raise weights_section.fail(key, "must not be negative")
            weights[key] = float(value)
    return MatchingSettings(
        reporting_line_depth=section.number("reporting_line_depth", 2, low=0, high=20),
        forbid_same_department=section.get("forbid_same_department", bool, True),
        allow_repeat_pairs=section.get("allow_repeat_pairs", bool, False),
        fairness=section.get("fairness", bool, False),
        weights=weights,
    )


def _clock_time(section: _Reader, key: str, default: str) -> time:
    text = section.text(key, default)
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise section.fail(key, f"must be a time like 10:00, not {text!r}") from None


def _rhythm(section: _Reader) -> RhythmSettings:
    weekday = section.text("nudge_weekday", "tuesday").lower()
    if weekday not in WEEKDAYS:
        raise section.fail("nudge_weekday", f"must be one of {', '.join(WEEKDAYS)}")
    messages = section.section("messages", required=False)
    switches = message_switches()
    enabled = frozenset(name for name in switches if messages.get(name, bool, True))
    unknown = set(messages.data) - set(switches)
    if unknown:
        raise messages.fail(sorted(unknown)[0], f"unknown message; known: {', '.join(switches)}")
    return RhythmSettings(
        nudge_weekday=WEEKDAYS.index(weekday),
        nudge_time=_clock_time(section, "nudge_time", "10:00"),
        lifecycle_time=_clock_time(section, "lifecycle_time", "10:00"),
        grace=timedelta(hours=section.number("grace_hours", 72, low=1, high=24 * 27)),
        reminder_after=timedelta(days=section.number("reminder_days", 7, low=1, high=21)),
        stalled_after_periods=section.number("stalled_after_periods", 2, low=1, high=12),
        signup_reminder_days=section.number("signup_reminder_days", 3, low=1, high=30),
        enabled=enabled,
        tick_seconds=section.number("tick_seconds", 60, low=5, high=3600),
        claim_lease=timedelta(seconds=section.number("claim_lease_seconds", 300, low=5,
                                                     high=3600)),
        leader_lease=timedelta(seconds=section.number("leader_lease_seconds", 30, low=3,
                                                      high=600)),
    )


def _round(section: _Reader, zone: ZoneInfo) -> RoundSettings:
    settings = RoundSettings(
        name=section.text("name"),
        signup_opens=section.day("signup_opens", zone),
        # The closing day is the last day to sign up: the window ends at its midnight.
        signup_closes=section.day("signup_closes", zone) + timedelta(days=1),
        starts=section.day("starts", zone),
        length_months=section.number("length_months", 6, low=1, high=24),
        meetings_per_month=section.number("meetings_per_month", 1, low=1, high=4),
    )
    if settings.signup_closes <= settings.signup_opens:
        raise section.fail("signup_closes", "must be after signup_opens")
    if settings.starts < settings.signup_closes:
        raise section.fail("starts", "must not be before signup_closes")
    return settings


def _report(section: _Reader) -> ReportSettings:
    # Below 3, a "group" is one person and a partner: suppression would protect nobody.
    return ReportSettings(min_group_size=section.number("min_group_size", 5, low=3, high=100))


def _privacy(section: _Reader) -> PrivacySettings:
    months = section.get("retention_months", int, None)
    if months is not None and not 1 <= months <= 120:
        raise section.fail("retention_months", f"must be between 1 and 120, not {months}")
    return PrivacySettings(retention_months=months)


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


_USERGROUP = re.compile(r"^(@[a-z0-9][a-z0-9._-]{0,79}|S[A-Z0-9]{2,20})$")
ANNOUNCEMENT_MAX = 3000


def _coordinator_groups(section: _Reader) -> dict[str, str]:
    handle = section.get("slack_usergroup", str, None)
    if handle is None:
        return {}
    if not _USERGROUP.match(handle):
        raise section.fail("slack_usergroup",
                           f"must be a user group handle like @hr-mentoring, not {handle!r}")
    return {"slack": handle}


def _announcements(root: _Reader, zone: ZoneInfo) -> tuple[ScheduledAnnouncement, ...]:
    raw = root.get("announcements", list, [])
    channels = _per_platform(root.section("channels", required=False))
    found: list[ScheduledAnnouncement] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise root.fail(f"announcements[{index}]", "must be a mapping with id, at, texts")
        entry = _Reader(root.source, item, f"announcements[{index}]")
        unknown = set(item) - {"id", "at", "channel", "channels", "text_de", "text_en",
                               "signup_button"}
        if unknown:
            raise entry.fail(sorted(unknown)[0], "unknown field")
        announcement_id = entry.text("id")
        if not _ID.match(announcement_id):
            raise entry.fail("id", "must be lower-case letters, digits and _ (max 40)")
        if any(a.id == announcement_id for a in found):
            raise entry.fail("id", f"{announcement_id!r} is used twice")
        texts = {lang: entry.text(f"text_{lang}") for lang in LANGUAGES}
        for lang, text in texts.items():
            if len(text) > ANNOUNCEMENT_MAX:
                raise entry.fail(f"text_{lang}", f"must be at most {ANNOUNCEMENT_MAX} characters")
        found.append(ScheduledAnnouncement(
            id=announcement_id, at=_instant(entry, "at"), texts=texts,
            channels=_announcement_channels(entry, channels),
            signup_button=entry.get("signup_button", bool, False),
        ))
    return tuple(found)


def _instant(entry: _Reader, key: str) -> datetime:
    value: datetime | str = entry.get(key, (datetime, str))
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise entry.fail(key, "must be a date and time like 2027-03-01T10:00:00+01:00, "
                                  f"not {value!r}") from None
    if value.tzinfo is None:
        raise entry.fail(key, "must name its time zone offset, like 2027-03-01T10:00:00+01:00")
    return value


def _announcement_channels(entry: _Reader, channels: dict[str, tuple[str, ...]]
                           ) -> tuple[tuple[str, str], ...]:
    if "channel" in entry.data and "channels" in entry.data:
        raise entry.fail("channel", "give either channel or channels, not both")
    if "channel" in entry.data:
        named: tuple[str, ...] = (entry.text("channel"),)
        key = "channel"
    else:
        named, key = entry.strings("channels", []), "channels"
    if not named:
        return tuple((p, c) for p, listed in channels.items() for c in listed)
    chosen: list[tuple[str, str]] = []
    for channel in named:
        platform = next((p for p, listed in channels.items() if channel in listed), None)
        if platform is None:
            raise entry.fail(key, f"{channel!r} is not one of the channels in app.yaml")
        chosen.append((platform, channel))
    return tuple(chosen)
