"""Every participant command through the real flows on the local platform, de and en."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters.local.platform import LocalPlatform, LocalUser
from conversations.outcomes import FormDone, FormInvalid, Reply, ShowForm
from storage.db import Database
from storage.models import Participant, Workspace
from tests.helpers.local import ANSWERS, signed_up

WORDS = {
    "de": {"signup": "anmelden", "pause": "pausieren", "resume": "fortsetzen",
           "leave": "abmelden", "help": "hilfe", "status": "status"},
    "en": {"signup": "signup", "pause": "pause", "resume": "resume",
           "leave": "leave", "help": "help", "status": "status"},
}
EXPECT = {
    "de": {"form": "Tandem-Anmeldung", "saved": "Du bist angemeldet", "paused": "Pause",
           "resumed": "wieder aktiv", "leave_q": "wirklich verlassen", "left": "verlassen",
           "help": "Das kannst du tun", "status": "Dein Tandem-Status",
           "not_signed_up": "noch nicht angemeldet", "unknown": "kenne ich nicht"},
    "en": {"form": "Tandem sign-up", "saved": "You are signed up", "paused": "on a break",
           "resumed": "active in the programme again", "leave_q": "really want to leave",
           "left": "You have left", "help": "Here is what you can do",
           "status": "Your Tandem status", "not_signed_up": "not signed up yet",
           "unknown": "I don't know the command"},
}


async def rows(db: Database) -> list[Participant]:
    async with db.session() as session:
        return list(await session.scalars(select(Participant)))


@pytest.mark.parametrize("language", ["de", "en"])
async def test_every_command_in_both_languages(
    platform: LocalPlatform, db: Database, language: str
) -> None:
    user = LocalUser("u1", "Alex", locale=language)
    words, expect = WORDS[language], EXPECT[language]

    status = await platform.command(user, words["status"].upper())
    assert isinstance(status, Reply) and expect["not_signed_up"] in status.message.plain()

    form = await platform.command(user, words["signup"])
    assert isinstance(form, ShowForm) and form.form.title == expect["form"]
    done = await platform.submit(user, ANSWERS)
    assert isinstance(done, FormDone)
    # The form closes with a note, then the summary arrives as a DM.
    assert expect["saved"] in platform.transcript("u1")[-1]

    status = await platform.command(user, words["status"])
    assert isinstance(status, Reply) and expect["status"] in status.message.plain()

    paused = await platform.command(user, words["pause"])
    assert isinstance(paused, Reply) and expect["paused"] in paused.message.plain()
    assert (await rows(db))[0].status == "paused"
    resumed = await platform.command(user, words["resume"])
    assert isinstance(resumed, Reply) and expect["resumed"] in resumed.message.plain()

    question = await platform.command(user, words["leave"])
    assert isinstance(question, Reply) and expect["leave_q"] in question.message.plain()
    assert [b.action_id for b in question.message.buttons] == ["leave.confirm", "leave.cancel"]
    kept = await platform.press(user, "leave.cancel")
    assert isinstance(kept, Reply) and (await rows(db))[0].status == "active"
    left = await platform.press(user, "leave.confirm")
    assert isinstance(left, Reply) and expect["left"] in left.message.plain()
    [row] = await rows(db)
    assert row.status == "left" and row.left_at is not None

    helped = await platform.command(user, words["help"])
    assert isinstance(helped, Reply) and expect["help"] in helped.message.plain()
    unknown = await platform.command(user, "tanzen")
    assert isinstance(unknown, Reply) and expect["unknown"] in unknown.message.plain()
    empty = await platform.command(user, "   ")
    assert isinstance(empty, Reply) and expect["help"] in empty.message.plain()


async def test_edit_prefills_and_keeps_one_row(platform: LocalPlatform, db: Database) -> None:
    user = LocalUser("u2", "Kim", locale="en")
    await signed_up(platform, user, topics=["ai_tools", "agile"], goals="Learn")
    form = await platform.command(user, "edit")
    assert isinstance(form, ShowForm)
    topics = form.form.field("topics")
    goals = form.form.field("goals")
    assert topics is not None and topics.initial == ("ai_tools", "agile")  # type: ignore[union-attr]
    assert goals is not None and goals.initial == "Learn"  # type: ignore[union-attr]
    await platform.submit(user, {**ANSWERS, "goals": "Learn more"})
    [row] = await rows(db)
    assert row.goals == "Learn more"


async def test_pause_twice_resume_when_active_and_after_leaving(platform: LocalPlatform) -> None:
    user = LocalUser("u3", "Sam", locale="en")
    await signed_up(platform, user)
    resume = await platform.command(user, "resume")
    assert isinstance(resume, Reply) and "already active" in resume.message.plain()
    await platform.command(user, "pause")
    again = await platform.command(user, "pause")
    assert isinstance(again, Reply) and "already on a break" in again.message.plain()
    await platform.command(user, "leave")
    await platform.press(user, "leave.confirm")
    after = await platform.command(user, "pause")
    assert isinstance(after, Reply) and "have left" in after.message.plain()
    twice = await platform.press(user, "leave.confirm")
    assert isinstance(twice, Reply) and "already left" in twice.message.plain()


async def test_rejoin_after_leaving(platform: LocalPlatform, db: Database) -> None:
    user = LocalUser("u4", "Jo", locale="de")
    await signed_up(platform, user)
    await platform.command(user, "abmelden")
    await platform.press(user, "leave.confirm")
    await signed_up(platform, user)
    [row] = await rows(db)
    assert row.status == "active" and row.left_at is None


async def test_a_person_in_two_workspaces_is_one_participant(
    platform: LocalPlatform, db: Database
) -> None:
    here = LocalUser("u9", "Noa", locale="en", workspace_id="T-HERE")
    there = LocalUser("u9", "Noa", locale="en", workspace_id="T-THERE")
    await signed_up(platform, here, goals="First")

    # Known from the other workspace: the same person, the same row.
    status = await platform.command(there, "status")
    assert isinstance(status, Reply) and "Your Tandem status" in status.message.plain()
    form = await platform.command(there, "signup")
    assert isinstance(form, ShowForm)
    goals = form.form.field("goals")
    assert goals is not None and goals.initial == "First"  # type: ignore[union-attr]
    await platform.submit(there, {**ANSWERS, "goals": "Second"})
    [row] = await rows(db)
    assert row.goals == "Second"

    paused = await platform.command(there, "pause")
    assert isinstance(paused, Reply) and "on a break" in paused.message.plain()
    again = await platform.command(here, "pause")
    assert isinstance(again, Reply) and "already on a break" in again.message.plain()
    await platform.command(here, "resume")
    await platform.command(there, "leave")
    await platform.press(here, "leave.confirm")
    [row] = await rows(db)
    assert row.status == "left"


async def test_two_rows_of_one_person_give_one_answer(
    platform: LocalPlatform, db: Database
) -> None:
    """Rows an older version made per workspace: every command acts on the newer one."""
    here = LocalUser("u8", "Ira", locale="en", workspace_id="T-HERE")
    there = LocalUser("u8", "Ira", locale="en", workspace_id="T-THERE")
    await signed_up(platform, here)
    async with db.session() as session:
        [first] = list(await session.scalars(select(Participant)))
        workspace = Workspace(platform="local", external_id="T-THERE", created_at=first.created_at)
        session.add(workspace)
        await session.flush()
        session.add(Participant(
            workspace_id=workspace.id, platform="local", user_id="u8", round_id=first.round_id,
            role="mentee", status="active", created_at=first.created_at,
            updated_at=first.updated_at))

    for user in (here, there):
        paused = await platform.command(user, "pause")
        assert isinstance(paused, Reply), user
    # The first pause (typed in the first row's workspace) paused the newer row; the
    # second one, from the other workspace, found that same row already paused.
    assert "already on a break" in platform.transcript("u8")[-1]
    older, newer = sorted(await rows(db), key=lambda r: r.id)
    assert (older.status, newer.status) == ("active", "paused")
    for user in (here, there):
        status = await platform.command(user, "status")
        assert isinstance(status, Reply), user
        assert "Status: on a break\nTandem partner: not matched yet\nRole: senior mentee" in (
            status.message.plain()), user


async def test_bad_values_keep_values_and_store_nothing(
    platform: LocalPlatform, db: Database
) -> None:
    user = LocalUser("u5", "Lu", locale="en")
    await platform.command(user, "signup")
    outcome = await platform.submit(user, {
        **ANSWERS, "role": "ceo", "languages": ["xx"], "topics": ["astrology"],
        "meeting_mode": "telepathy", "manager": "u5",
    })
    assert isinstance(outcome, FormInvalid)
    assert set(outcome.errors) == {"role", "languages", "topics", "meeting_mode", "manager"}
    assert outcome.values["topics"] == ["astrology"]
    assert await rows(db) == []


async def test_stale_form_and_button_are_answered(platform: LocalPlatform) -> None:
    user = LocalUser("u6", "Max", locale="en")
    form = await platform.submit(user, ANSWERS, form_id="old-form")
    assert isinstance(form, Reply) and "no longer in use" in form.message.plain()
    button = await platform.press(user, "nonsense")
    assert isinstance(button, Reply) and "no longer in use" in button.message.plain()


async def test_sign_up_button_runs_the_command(platform: LocalPlatform) -> None:
    user = LocalUser("u7", "Ada", locale="en")
    outcome = await platform.press(user, "command:signup")
    assert isinstance(outcome, ShowForm)


async def test_flow_errors_become_kind_text(platform: LocalPlatform, db: Database) -> None:
    user = LocalUser("u8", "Eve", locale="de")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database on fire")

    # status only reads: both ways into the database are on fire.
    platform.ctx.db.session = broken  # type: ignore[method-assign,assignment]
    platform.ctx.db.reading = broken  # type: ignore[method-assign,assignment]
    outcome = await platform.command(user, "status")
    assert isinstance(outcome, Reply)
    assert "Entschuldigung" in outcome.message.plain()
    assert "fire" not in outcome.message.plain()
