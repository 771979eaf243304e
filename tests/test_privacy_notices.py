"""Who is told what when someone is forgotten, what the my-data file looks like, and
what retention does with its settings and its clock. Local platform, real database.

test_privacy_local.py walks forget-me end to end for a mentor; these pin the sides it
does not: a mentee forgetting, a partner who has already left or has no name, the
notes arriving with the answer (not only when ``run_due`` re-drives them), no byte
of the person left in the SQLite files, and retention's own switches.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, PrivacySettings
from bot.core.i18n import t
from conversations import privacy
from conversations.outcomes import Reply
from storage.db import Database
from storage.models import Participant
from tests.helpers.local import ANNA, BEN, COORDINATOR, KATRIN, SARAH, matched, signed_up

ROUND = "2027-spring"


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, coordinators={**config.coordinators, "local": (COORDINATOR.user_id,)})


def inboxes(platform: LocalPlatform) -> dict[str, int]:
    return {user: len(box) for user, box in platform.messenger.inbox.items()}


def new_since(platform: LocalPlatform, seen: dict[str, int]) -> dict[str, list[str]]:
    """What each user got after ``seen`` was taken, for those who got anything."""
    return {user: [s.text() for s in box[seen.get(user, 0):]]
            for user, box in platform.messenger.inbox.items() if len(box) > seen.get(user, 0)}


async def forget(platform: LocalPlatform, user: LocalUser) -> tuple[Reply, dict[str, int]]:
    """forget-me, confirmed; the answer, and who had got how much before "Yes"."""
    await platform.command(user, "forget-me")
    seen = inboxes(platform)
    done = await platform.press(user, "forget.confirm")
    assert isinstance(done, Reply)
    return done, seen


async def test_a_forgotten_mentee_ends_the_tandem_and_the_mentor_is_told_at_once(
    platform: LocalPlatform, clock: FixedClock
) -> None:
    await matched(platform, clock)
    done, seen = await forget(platform, KATRIN)
    assert done.message.plain() == t("de", "privacy.forgotten", cmd="/tandem ")
    # Sent with the answer, not left for run_due: Anna (mentor) in her German, the
    # coordinators (in the programme's language) that Anna may be matched again;
    # nobody else hears anything.
    got = new_since(platform, seen)
    assert set(got) == {KATRIN.user_id, ANNA.user_id, COORDINATOR.user_id}
    assert got[KATRIN.user_id] == [done.message.plain()]  # the answer, nothing else
    assert got[ANNA.user_id] == [t("de", "privacy.partner_forgotten")]
    [note] = got[COORDINATOR.user_id]
    assert note == t("de", "privacy.coordinators_forgotten", partner="Anna", round=ROUND)


async def test_a_partner_who_has_left_is_not_told_and_not_offered_for_matching(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    await matched(platform, clock)
    async with db.session() as session:
        await session.execute(update(Participant).where(Participant.user_id == ANNA.user_id)
                              .values(status="left"))
    _, seen = await forget(platform, KATRIN)
    assert set(new_since(platform, seen)) == {KATRIN.user_id}  # only her answer


async def test_the_coordinators_get_the_partners_user_id_when_they_have_no_name(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    await matched(platform, clock)
    async with db.session() as session:
        await session.execute(update(Participant).where(Participant.user_id == SARAH.user_id)
                              .values(display_name=None))
    _, seen = await forget(platform, BEN)
    got = new_since(platform, seen)
    assert got[SARAH.user_id] == [t("en", "privacy.partner_forgotten")]
    [note] = got[COORDINATOR.user_id]
    assert note == t("de", "privacy.coordinators_forgotten", partner=SARAH.user_id,
                     round=ROUND)


async def test_pressing_yes_again_replaces_the_question_with_nothing_stored(
    platform: LocalPlatform
) -> None:
    stranger = await platform.command(LocalUser("u-x", "X", locale="en"), "forget-me")
    assert isinstance(stranger, Reply) and stranger.message.buttons == ()
    assert stranger.message.plain() == t("en", "privacy.nothing_stored")
    await signed_up(platform, BEN)
    await forget(platform, BEN)
    again = await platform.press(BEN, "forget.confirm")
    assert isinstance(again, Reply) and again.replace
    assert again.message.plain() == t("en", "privacy.nothing_stored")


async def test_the_my_data_file_is_readable_json_with_names_as_written(
    platform: LocalPlatform, clock: FixedClock
) -> None:
    jurgen = LocalUser("u-juergen", "Jürgen Groß", locale="de")
    await signed_up(platform, jurgen, goals="Über KI lernen")
    await platform.command(jurgen, "my-data")
    [(_, content)] = platform.messenger.files[jurgen.user_id]
    text = content.decode("utf-8")
    data = json.loads(text)
    # Umlauts as written (not \u00fc), indented by two spaces, times in ISO 8601.
    assert "Jürgen Groß" in text and "Über KI lernen" in text
    assert text == json.dumps(data, ensure_ascii=False, indent=2)
    assert data["exported_at"] == clock.now().isoformat()
    [me] = data["tables"]["participants"]
    assert datetime.fromisoformat(me["created_at"]) == clock.now()


def sqlite_bytes(db: Database) -> bytes:
    path = Path(db.url.split("///", 1)[1])
    return b"".join(f.read_bytes() for f in (path, Path(f"{path}-wal")) if f.exists())


async def test_forget_me_leaves_no_byte_of_the_person_in_the_sqlite_files(
    platform: LocalPlatform, db: Database
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the database file and its write-ahead log are SQLite's")
    marker = "FILE-MARKER-forget-5c1"
    await signed_up(platform, BEN, goals=marker)
    assert marker.encode() in sqlite_bytes(db)
    await forget(platform, BEN)
    assert marker.encode() not in sqlite_bytes(db)


async def test_retention_erases_as_of_the_time_it_is_given_and_says_so(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    await matched(platform, clock)
    ctx = platform.ctx
    ctx.config = replace(ctx.config, privacy=PrivacySettings(retention_months=2))
    clock.set(datetime(2027, 9, 1, 9, 0, tzinfo=UTC))  # the clock: a month too early
    nothing = await privacy.purge_expired(ctx)
    assert (nothing.people, nothing.rounds) == (0, [])
    assert nothing.summary() == t("en", "cli.retention.none")
    done = await privacy.purge_expired(ctx, datetime(2027, 10, 2, 9, 0, tzinfo=UTC))
    assert (done.people, done.rounds, done.dry_run) == (4, [ROUND], False)
    assert done.summary("de") == t("de", "cli.retention.erased", people=4, rounds=ROUND)
    async with db.session() as session:
        assert set(await session.scalars(select(Participant.status))) == {"forgotten"}
    if db.dialect == "sqlite":
        assert b"Katrin" not in sqlite_bytes(db)


async def test_without_a_retention_period_nobody_is_erased(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    await matched(platform, clock)
    ctx = platform.ctx
    ctx.config = replace(ctx.config, privacy=PrivacySettings(retention_months=None))
    gone = await privacy.purge_expired(ctx, datetime(2035, 1, 1, tzinfo=UTC))
    assert (gone.people, gone.rounds) == (0, [])
    async with db.session() as session:
        assert "forgotten" not in set(await session.scalars(select(Participant.status)))
