"""A directory sync: one source's people (Microsoft Graph, Slack's profiles, Slack's
SCIM API) into the directory, and what follows for those who left. The sources are
pluggable (``DirectorySource``); this flow does not know which platform one reads.

Who sees what, in order:
1. Whoever runs it (``tandem directory sync``, or the scheduler at night) gets
   one line: people read, new, changed, unchanged, gone, participants marked left.
2. Each participant the sync finds deactivated or gone is marked as left (their
   active tandems end) in the transaction that saves the sync. Their partner
   gets a kind private note; the coordinators are told who left and whose
   partner needs a new one. Both are owed with that change, so each is sent once,
   whichever instance syncs and however often, and a crash or restart loses none.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol

from bot.core.i18n import t
from conversations.audience import Languages, coordinator_languages
from conversations.context import FlowContext
from conversations.messages import Message
from conversations.owed import Owed, deliver, for_coordinators, for_person, record
from storage import directory, leases, participants, rounds, tandems
from storage.db import Session
from storage.directory import Record, SnapshotCounts
from storage.models import STILL_IN, Participant, ParticipantStatus

log = logging.getLogger(__name__)
#: The nightly sync starts at this local time (programme.timezone), within a window.
NIGHT = time(2, 0)
WINDOW = timedelta(hours=4)


class DirectorySource(Protocol):
    """A directory that can be read whole (Microsoft Graph, Slack profiles, SCIM)."""

    name: str

    async def people(self, progress: Callable[[str, int, int], None] | None = None
                     ) -> list[Record]: ...

    async def probe(self) -> str:
        """For ``tandem doctor``: one small read with what IT granted; what it found."""
        ...


@dataclass
class SyncReport:
    source: str
    people: int
    counts: SnapshotCounts
    leavers: list[int] = field(default_factory=list)

    def text(self, language: str) -> str:
        counts = self.counts
        return t(language, "directory.sync.report", source=self.source, people=self.people,
                 added=counts.added, updated=counts.updated, unchanged=counts.unchanged,
                 left=len(counts.left), leavers=len(self.leavers))


async def sync(ctx: FlowContext, source: DirectorySource,
               progress: Callable[[str, int, int], None] | None = None) -> SyncReport:
    """Read the source whole, save it, and mark and tell about leavers (module doc)."""
    records = await source.people(progress)
    languages = await coordinator_languages(ctx)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        counts = await directory.save_snapshot(session, source.name, records, now)
        gone = await directory.participants_of(session, counts.left, STILL_IN)
        # All of them are marked first, so that partners who left together are not
        # told about each other.
        for person in gone:
            participants.set_status(person, ParticipantStatus.LEFT, now)
        owed: list[Owed] = []
        for person in gone:
            owed += await _leaver(ctx, session, person, languages)
        keys = await record(session, owed, now)
    await deliver(ctx, keys)
    return SyncReport(source.name, len(records), counts, [p.id for p in gone])


async def _leaver(ctx: FlowContext, session: Session, person: Participant,
                  languages: Languages) -> list[Owed]:
    """End the tandems of one participant marked as left; their partners' notes (to
    those still in) and the coordinators' note."""
    owed: list[Owed] = []
    partners: list[str] = []
    for tandem in await tandems.end_tandems_of(session, person):
        other_id = tandem.mentee_id if tandem.mentor_id == person.id else tandem.mentor_id
        other = await participants.participant_by_id(session, other_id)
        if other is None or other.status not in STILL_IN:
            continue
        partners.append(other.display_name or other.user_id)
        owed += for_person(ctx, other, tandem.round_id, "partner_left",
                           f"directory-partner-left:{tandem.id}:{other.id}",
                           lambda lang, _reader: Message.text(
                               t(lang, "directory.leaver.partner")))
    current = await rounds.round_by_id(session, person.round_id) if person.round_id else None
    name = person.display_name or person.user_id
    round_name = current.name if current else "–"

    def note(language: str) -> Message:
        more = t(language, "directory.leaver.partners", partners=", ".join(partners)) \
            if partners else ""
        return Message.text(t(language, "directory.leaver.coordinators", name=name,
                              round=round_name, partners=more))

    owed += for_coordinators(ctx, languages, f"directory-left:{person.id}", person.round_id,
                             note)
    return owed


_nightly: list[DirectorySource] = []


def use_nightly(sources: Sequence[DirectorySource]) -> None:
    """The sources the scheduler syncs from at night (set by the process at start)."""
    _nightly[:] = sources


async def nightly(ctx: FlowContext, now: datetime) -> list[SyncReport]:
    """Once a night, on whichever instance asks first: each source's sync, in turn.

    A lease named after the night makes it once across instances; a failed sync
    gives the lease back, so the next tick tries again (the sources that did sync
    then sync again: a snapshot saved twice changes nothing, and whoever was
    already told about a leaver is not told again).
    """
    if not _nightly:
        return []
    zone = ctx.config.timezone
    day = now.astimezone(zone).date()
    start = datetime.combine(day, NIGHT, zone)
    if not start <= now < start + WINDOW:
        return []
    name, holder = f"directory-sync:{day.isoformat()}", secrets.token_hex(8)
    async with ctx.db.session() as session:
        if not await leases.hold_lease(session, name, holder, now, timedelta(hours=20)):
            return []
    reports: list[SyncReport] = []
    failed = False
    for source in list(_nightly):
        try:
            reports.append(await sync(ctx, source))
        except Exception:
            log.exception("directory: the nightly sync of %s failed; the next tick tries "
                          "again", source.name)
            failed = True
    if failed:
        async with ctx.db.session() as session:
            await leases.release_lease(session, name, holder)
    return reports
