"""Plain data of the matching engine: who takes part, the rules, and the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["mentor", "mentee"]
MeetingMode = Literal["remote", "in_person", "either"]
#: A language code with a message catalogue (``bot.core.i18n.LANGUAGES``).
Language = str


@dataclass(frozen=True)
class Person:
    """A participant. Mentors are the juniors, mentees the seniors.

    ``topics`` are what a mentor offers or what a mentee wants to learn;
    ``interests`` are optional further interests, used only to explain a tandem.
    """

    id: str
    name: str
    role: Role
    department: str | None = None
    manager_id: str | None = None
    topics: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    meeting_mode: MeetingMode = "either"
    timezone: str | None = None
    location: str | None = None
    capacity: int = 1
    language: Language = "en"
    available: bool = True
    interests: frozenset[str] = frozenset()
    #: The one platform this person can be reached on; None: from any (``reach``).
    reach: str | None = None


@dataclass(frozen=True)
class Weights:
    """Relative weights of the soft score; they are normalised to 0..100 per tandem."""

    topics: float = 50.0
    meeting_mode: float = 15.0
    timezone: float = 15.0
    location: float = 10.0
    languages: float = 10.0


@dataclass(frozen=True)
class Rules:
    """Hard rules and weights of one matching round. Pairs are (mentor_id, mentee_id)."""

    reporting_line_depth: int = 2
    forbid_same_department: bool = True
    forbid_same_manager: bool = True
    allow_repeat_pairs: bool = False
    previous_pairs: frozenset[tuple[str, str]] = frozenset()
    pins: frozenset[tuple[str, str]] = frozenset()
    blocks: frozenset[tuple[str, str]] = frozenset()
    #: Pairs a participant privately wished not to be in (either order): as hard as a
    #: block, and never named anywhere (only "a private wish of a participant").
    wishes: frozenset[tuple[str, str]] = frozenset()
    weights: Weights = field(default_factory=Weights)
    fairness: bool = False


@dataclass(frozen=True)
class Explanation:
    """Why a tandem fits, as data; ``explain.describe_tandem`` turns it into text."""

    offered_wished: tuple[str, ...]
    shared_topics: tuple[str, ...]
    mentor_mode: MeetingMode
    mentee_mode: MeetingMode
    mode_compatible: bool
    tz_difference_hours: float | None
    same_location: bool | None
    languages: tuple[str, ...]
    points: Mapping[str, float]


@dataclass(frozen=True)
class Tandem:
    mentor_id: str
    mentee_id: str
    mentor_name: str
    mentee_name: str
    score: float
    explanation: Explanation
    pinned: bool = False


@dataclass(frozen=True)
class Unmatched:
    """A person without a tandem; ``reason`` is a code, ``params`` fill its text."""

    person_id: str
    name: str
    role: Role
    reason: str
    params: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class MatchWarning:
    """Something the coordinator should fix in the data (cycles, broken pins, ...)."""

    code: str
    person_ids: tuple[str, ...]
    params: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class SolveStats:
    """How the exact solver got there: rounds of re-solving and the graph size."""

    rounds: int = 0
    candidate_edges: int = 0
    feasible_pairs: int = 0
    proven_optimal: bool = True


@dataclass(frozen=True)
class MatchResult:
    tandems: tuple[Tandem, ...]
    total_score: float
    average_score: float
    worst_score: float | None
    unmatched: tuple[Unmatched, ...]
    warnings: tuple[MatchWarning, ...]
    stats: SolveStats = field(default_factory=SolveStats)
