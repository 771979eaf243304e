"""Tables, and the values of their status columns as ``StrEnum``s (stored as plain
strings, so a member compares equal to its text). Every datetime is stored
timezone-aware (UTC)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.core.clock import ensure_aware

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware datetimes out, on SQLite (which forgets zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else ensure_aware(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            from datetime import UTC

            return value.replace(tzinfo=UTC)
        return ensure_aware(value)


class RoundStatus(StrEnum):
    """``open`` for sign-up and matching, ``matched`` once a proposal is confirmed,
    ``ended`` at its end or when a coordinator ends it."""

    OPEN = "open"
    MATCHED = "matched"
    ENDED = "ended"


class ParticipantStatus(StrEnum):
    """``left``: withdrew (kept marked, not active); ``forgotten``: erased on request
    or by retention (an anonymous row that keeps the counts)."""

    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"
    FORGOTTEN = "forgotten"


#: Who is still in the programme: matched, nudged, asked to continue.
STILL_IN = (ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED)


class TandemStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class DeliveryStatus(StrEnum):
    """``claimed`` (being sent, under a lease), then ``sent`` or ``failed``; a message
    owed by a change is ``pending`` (with its payload) until a sender claims it."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"


class ActionStatus(StrEnum):
    """A coordinator action goes from ``pending`` to ``done`` or ``cancelled`` once."""

    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


class MeetingStatus(StrEnum):
    """``open`` while times are offered, ``scheduled`` once a partner accepted one
    (a move keeps it scheduled), ``cancelled`` when a partner called it off."""

    OPEN = "open"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


#: A platform's name (``slack``, ``teams``, ``local``).
PlatformName = Annotated[str, mapped_column(String(16))]
#: A person's id on their platform (a Slack user id, a Teams or Entra object id).
UserId = Annotated[str, mapped_column(String(128))]


class Base(DeclarativeBase):
    """A column's type follows from its annotation where the annotation says it all:
    ``int``, ``bool``, ``float``, every datetime as ``UtcDateTime`` and what is held as
    JSON; text names its length (or ``Text``) beside it."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[int]: JSON,
    }


class Workspace(Base):
    """A Slack workspace or a Teams tenant the bot is installed in."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_workspace_platform"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[PlatformName]
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Round(Base):
    """One programme round: sign-up, matching, the months of meetings, the end."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    signup_opens_at: Mapped[datetime]
    signup_closes_at: Mapped[datetime]
    starts_at: Mapped[datetime]
    length_months: Mapped[int]
    meetings_per_month: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.OPEN)
    created_at: Mapped[datetime]
    #: Changes coordinators made in chat (dates, length), applied on top of app.yaml.
    overrides: Mapped[dict[str, Any] | None]
    #: The round a coordinator started after this one in chat ("round next").
    followed_by: Mapped[int | None]


class Participant(Base):
    """One person in one workspace, with their survey answers.

    role: ``mentor`` is the junior who mentors, ``mentee`` the senior who learns.
    status: a ``ParticipantStatus``.
    """

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("workspace_id", "user_id", name="uq_participant_user"),
        Index("ix_participants_round_status", "round_id", "status"),
        Index("ix_participants_platform_user", "platform", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    platform: Mapped[PlatformName]
    user_id: Mapped[UserId]
    display_name: Mapped[str | None] = mapped_column(String(200))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(100))
    manager_user_id: Mapped[UserId | None]
    topics: Mapped[list[str]] = mapped_column(default=list)
    goals: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(default=list)
    timezone: Mapped[str | None] = mapped_column(String(64))
    meeting_mode: Mapped[str] = mapped_column(String(16), default="either")
    location: Mapped[str | None] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(default=1)
    #: Their own working time for Find a time ("09:00", "17:00", Monday = 0) and the
    #: country (ISO) and region whose holidays they keep; None: app.yaml's.
    work_start: Mapped[str | None] = mapped_column(String(5))
    work_end: Mapped[str | None] = mapped_column(String(5))
    work_days: Mapped[list[int] | None]
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(10))
    locale: Mapped[str | None] = mapped_column(String(16))
    consent_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=ParticipantStatus.ACTIVE)
    unreachable_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    #: When a break ends by itself (``paused`` with an end; None: until ``resume``).
    paused_until: Mapped[datetime | None]
    #: One or two sentences about themselves, shown to their partner in the introduction.
    intro: Mapped[str | None] = mapped_column(Text)
    #: They said the company directory is wrong about them: their note ("" for none).
    #: For the coordinators' proposals only; the directory's facts stay as they are.
    directory_flag: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PrivateWish(Base):
    """A colleague a participant prefers not to be paired with (platform + user id).

    Private to the participant who wished it: a hard rule for the matching, never
    shown to anyone else, not even the coordinators."""

    __tablename__ = "private_wishes"
    __table_args__ = (
        UniqueConstraint("participant_id", "platform", "user_id", name="uq_private_wish"),
        Index("ix_private_wishes_named", "platform", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))
    platform: Mapped[PlatformName]
    user_id: Mapped[UserId]
    created_at: Mapped[datetime]


class Tandem(Base):
    __tablename__ = "tandems"
    __table_args__ = (
        UniqueConstraint("round_id", "mentor_id", "mentee_id", name="uq_tandem_pair"),
        # A person's tandems, looked up on every status and check-in: without these
        # each lookup reads the whole table (10,000 tandems in a large programme).
        Index("ix_tandems_mentor", "mentor_id"),
        Index("ix_tandems_mentee", "mentee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    score: Mapped[float] = mapped_column(default=0.0)
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=TandemStatus.ACTIVE)
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    #: Matched into a running round: the first period of the rhythm it takes part in
    #: (its first nudge is meeting 1 of what is left). None: from the round's start.
    joined_period: Mapped[int | None]


class Delivery(Base):
    """The outbox: every message the bot sends on its own, claimed under a unique key.

    A row is claimed (``claimed``, with a lease) before sending and marked
    ``sent`` with the platform's message id after, so a crash, a restart or a
    second instance never sends the same key twice. A message owed because of a
    state change is written ``pending`` in that change's transaction, with what
    to send in ``payload`` (the rendered message and where it goes), so that
    ``run_due`` can send it should the sender die; the payload is dropped once
    the message is sent or given up.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status_lease", "status", "lease_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    platform: Mapped[PlatformName]
    recipient: Mapped[str] = mapped_column(String(255))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    period: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.CLAIMED)
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    message_ref: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any] | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class ConversationRef(Base):
    """Where the bot can reach a user or a channel later (Teams conversation references)."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("platform", "kind", "key", name="uq_conversation_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[PlatformName]
    kind: Mapped[str] = mapped_column(String(16))  # user or channel
    key: Mapped[str] = mapped_column(String(255))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class MatchProposal(Base):
    """A matching result shown to a coordinator; at most one per round is confirmed."""

    __tablename__ = "match_proposals"
    __table_args__ = (UniqueConstraint("round_id", "number", name="uq_proposal_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.DRAFT)
    created_by: Mapped[UserId]
    created_at: Mapped[datetime]
    #: pairs (participant ids, score, explanation), unmatched, warnings, figures
    result: Mapped[dict[str, Any]]
    confirmed_by: Mapped[UserId | None]
    confirmed_at: Mapped[datetime | None]


class MatchRule(Base):
    """A coordinator's pin (these two together) or block (never these two)."""

    __tablename__ = "match_rules"
    __table_args__ = (
        UniqueConstraint("round_id", "kind", "mentor_id", "mentee_id", name="uq_match_rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    kind: Mapped[str] = mapped_column(String(16))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    created_by: Mapped[UserId]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what, when: every coordinator action."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    platform: Mapped[PlatformName]
    user_id: Mapped[UserId]
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TandemMonth:
    """The columns of a row about one tandem's month (its meeting, check-in, reminder,
    guide), of which there is at most one per tandem and period: see ``one_per_month``."""

    tandem_id: Mapped[int] = mapped_column(ForeignKey("tandems.id", ondelete="CASCADE"))
    period: Mapped[int]


def one_per_month(name: str) -> UniqueConstraint:
    return UniqueConstraint("tandem_id", "period", name=name)


class Checkin(TandemMonth, Base):
    """A tandem's answer to a monthly nudge: met, not_yet or help."""

    __tablename__ = "checkins"
    __table_args__ = (one_per_month("uq_checkin_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer: Mapped[str] = mapped_column(String(16))
    answered_by: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime]


class Reminder(TandemMonth, Base):
    """A one-off "remind us in a week" for a tandem and period."""

    __tablename__ = "reminders"
    __table_args__ = (one_per_month("uq_reminder_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]


class TandemGuide(TandemMonth, Base):
    """Which meeting guide a tandem got with its nudge for one period: written in the
    transaction that owes the nudge, so no guide comes twice to one tandem."""

    __tablename__ = "tandem_guides"
    __table_args__ = (
        one_per_month("uq_tandem_guide_period"),
        UniqueConstraint("tandem_id", "guide", name="uq_tandem_guide_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guide: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Response(Base):
    """What a participant answered to a prompt: a reflection, the pulse, the evaluation.

    Reflections are private by default; ``visibility`` is the author's choice:
    ``private``, ``partner`` or ``coordinators``.
    """

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("participant_id", "round_id", "kind", "period", name="uq_response"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    tandem_id: Mapped[int | None] = mapped_column(ForeignKey("tandems.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[int] = mapped_column(default=0)
    rating: Mapped[int | None]
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HighlightStatus(StrEnum):
    """``pending`` until a coordinator approves or skips it; ``posted`` once the
    wrap-up's highlights went out with it; ``closed``: still pending then, never posted."""

    PENDING = "pending"
    APPROVED = "approved"
    SKIPPED = "skipped"
    POSTED = "posted"
    CLOSED = "closed"


class Highlight(Base):
    """One sentence a participant offers in the closing evaluation for the programme's
    channel, and whether their name may be shown with it. ``revision`` counts the
    person's edits: a review button names the revision it was sent for."""

    __tablename__ = "highlights"
    __table_args__ = (
        UniqueConstraint("participant_id", "round_id", name="uq_highlight_person_round"),
        Index("ix_highlights_round_status", "round_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    text: Mapped[str] = mapped_column(Text)
    show_name: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=HighlightStatus.PENDING)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    """An inbound event already acted on (Slack retries, Teams redeliveries)."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_processed_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(index=True)


class Lease(Base):
    """A named lease, e.g. the scheduler's: one holder at a time, taken over on expiry."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class CoordinatorAction(Base):
    """A coordinator's action waiting for a button: an announcement draft, a round change.

    ``status`` goes from ``pending`` to ``done`` or ``cancelled`` exactly once
    (compare-and-set), however often and by however many people it is pressed.
    """

    __tablename__ = "coordinator_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    platform: Mapped[PlatformName]
    created_by: Mapped[UserId]
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=ActionStatus.PENDING)
    created_at: Mapped[datetime]
    decided_by: Mapped[UserId | None]
    decided_at: Mapped[datetime | None]


class OAuthState(Base):
    """A state handed to an installer's browser, good once until ``expires_at``."""

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(128), unique=True)
    expires_at: Mapped[datetime]


class Installation(Base):
    """An app installation made through a platform's OAuth flow (Slack's OAuth mode):
    one row per workspace, or per organisation for an org-wide install.

    ``enterprise_id`` and ``team_id`` are '' when absent (an org-wide install has no
    team, a workspace outside Enterprise Grid no enterprise), so that the unique key
    holds. ``secrets`` is the tokens as the adapter encrypted them; ``data`` is the
    rest of what the platform said (names, scopes, ids), never a token.
    """

    __tablename__ = "installations"
    __table_args__ = (
        UniqueConstraint("platform", "enterprise_id", "team_id", name="uq_installation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[PlatformName]
    enterprise_id: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[str] = mapped_column(String(64))
    is_enterprise_install: Mapped[bool] = mapped_column(default=False)
    installer_user_id: Mapped[UserId | None]
    secrets: Mapped[str] = mapped_column(Text)
    #: When the bot token expires (token rotation); None for a token that does not.
    expires_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    installed_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Meeting(TandemMonth, Base):
    """A tandem's meeting for one month: the slots offered, a partner's pick, the agreed
    time and the invite's SEQUENCE. One row per tandem and period, so a month has one
    meeting; ``version`` makes every change a compare-and-set."""

    __tablename__ = "meetings"
    __table_args__ = (one_per_month("uq_meeting_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.OPEN)
    #: the starts on offer now, and every start offered for this month (ISO, UTC)
    offered: Mapped[list[str]] = mapped_column(default=list)
    shown: Mapped[list[str]] = mapped_column(default=list)
    picked_at: Mapped[datetime | None]
    picked_by: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    #: the SEQUENCE of the last invite sent (None: none yet)
    sequence: Mapped[int | None]
    #: the Microsoft Graph event in the organiser's calendar, once created
    calendar_event_id: Mapped[str | None] = mapped_column(String(500))
    #: the SEQUENCE the Graph calendar is owed (set with the change, cleared once made)
    calendar_owed: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DirectoryPerson(Base):
    """One employee as the company directory knows them (an HR export, Microsoft
    Graph, Slack profiles), kept apart from sign-ups: the org chart the matching
    reads, whether or not the person ever signed up.

    ``key`` is the source's stable id (employee id, Entra object id or the e-mail,
    lower-case); ``manager_key`` names the manager's ``key`` and may name nobody
    known (a dangling manager, reported to the coordinators).
    """

    __tablename__ = "directory_people"
    __table_args__ = (
        UniqueConstraint("key", name="uq_directory_people_key"),
        Index("ix_directory_people_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(320))
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    manager_key: Mapped[str | None] = mapped_column(String(320))
    job_title: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    preferred_language: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    #: ``csv``, ``graph`` or ``slack``: the source that last wrote the record.
    source: Mapped[str] = mapped_column(String(16))
    last_seen_at: Mapped[datetime]
    #: When a sync first found the person deactivated or gone.
    left_at: Mapped[datetime | None]


class DirectoryAccount(Base):
    """A directory person's user id on one platform (Slack user id, Teams/Entra
    object id, the local platform's id): how a sign-up finds its record."""

    __tablename__ = "directory_accounts"
    __table_args__ = (
        UniqueConstraint("platform", "user_id", name="uq_directory_account"),
        Index("ix_directory_accounts_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("directory_people.id", ondelete="CASCADE"))
    platform: Mapped[PlatformName]
    user_id: Mapped[UserId]
