"""Export and erasure of one person in the tables the other personal-data tests do not
reach row by row: private wishes (theirs, and those that name them), the rows a
tandem keeps as a whole (meetings, guides), their company-directory records, the
outbox by platform, and a coordinator's note that quotes their id. Real database.

Each test puts the person's rows next to somebody else's and checks both sides:
forget-me leaves nothing of them, and nothing of anyone else goes with them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.core.config import AppConfig
from storage import personal_data
from storage.db import Database
from storage.models import (
    AuditEntry,
    ConversationRef,
    Delivery,
    DirectoryAccount,
    DirectoryPerson,
    Meeting,
    Participant,
    PrivateWish,
    TandemGuide,
)
from tests.helpers.personal_data import NOW, TOKEN, erase, export
from tests.helpers.seed import seed_tandems


async def participant_ids(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {p.user_id: p.id for p in await session.scalars(select(Participant))}


async def test_my_wishes_and_the_wishes_that_name_me_go_and_nobody_elses(
        db: Database, config: AppConfig) -> None:
    await seed_tandems(db, config, 2)
    ids = await participant_ids(db)

    def wish(by: str, named: str, platform: str = "slack") -> PrivateWish:
        return PrivateWish(participant_id=ids[by], platform=platform, user_id=named,
                           created_at=NOW)

    async with db.session() as session:
        session.add_all([
            wish("UJ00000", "US00001"),                 # mine
            wish("US00001", "UJ00000"),                 # names me
            wish("US00001", "UJ00001"),                 # names somebody else
            wish("US00000", "UJ00000", "teams"),        # my id, but a Teams account
            wish("UJ00001", "US00000"),                 # nothing to do with me
        ])
    # my-data shows the wish I made; a wish that names me is its wisher's secret
    mine = await export(db, "slack", "UJ00000")
    assert [(w["platform"], w["user_id"]) for w in mine["private_wishes"]] == [
        ("slack", "US00001")]
    await erase(db, "slack", "UJ00000")
    async with db.session() as session:
        left = {(w.participant_id, w.platform, w.user_id)
                for w in await session.scalars(select(PrivateWish))}
    assert left == {(ids["US00001"], "slack", "UJ00001"),
                    (ids["US00000"], "teams", "UJ00000"),
                    (ids["UJ00001"], "slack", "US00000")}


async def test_someone_never_signed_up_is_dropped_from_the_wishes_that_name_them(
        db: Database, config: AppConfig) -> None:
    await seed_tandems(db, config, 1)
    ids = await participant_ids(db)
    async with db.session() as session:
        session.add_all([PrivateWish(participant_id=ids["UJ00000"], platform="slack",
                                     user_id=named, created_at=NOW)
                         for named in ("UOUT", "UOTHER")])
    async with db.session() as session:
        assert not (await personal_data.find_person(session, "slack", "UOUT")).signed_up
    await erase(db, "slack", "UOUT")
    async with db.session() as session:
        assert list(await session.scalars(select(PrivateWish.user_id))) == ["UOTHER"]


async def test_meetings_and_guides_of_my_tandem_are_mine_and_go_with_me(
        db: Database, config: AppConfig) -> None:
    seeded = await seed_tandems(db, config, 2)
    (mine, _, partner), (theirs, _, _) = seeded.tandems
    async with db.session() as session:
        for tandem_id in (mine, theirs):
            session.add(Meeting(tandem_id=tandem_id, period=1, offered=[], shown=[],
                                created_at=NOW, updated_at=NOW))
            session.add(TandemGuide(tandem_id=tandem_id, period=1, guide="first-meeting",
                                    created_at=NOW))
    for user_id in ("UJ00000", partner):  # either partner gets the tandem's rows
        found = await export(db, "slack", user_id)
        assert [m["tandem_id"] for m in found["meetings"]] == [mine]
        assert [g["tandem_id"] for g in found["tandem_guides"]] == [mine]
    nobody = await export(db, "slack", "UOUT")
    assert nobody["meetings"] == [] and nobody["tandem_guides"] == []
    await erase(db, "slack", "UJ00000")
    async with db.session() as session:
        assert list(await session.scalars(select(Meeting.tandem_id))) == [theirs]
        assert list(await session.scalars(select(TandemGuide.tandem_id))) == [theirs]


async def test_my_directory_record_is_exported_and_erased_and_a_colleagues_stays(
        db: Database) -> None:
    async with db.session() as session:
        for key, name, accounts in (
                ("e-1", "Ann Lee", [("slack", "UANN"), ("teams", "aad-ann")]),
                ("e-2", "Bo Chen", [("slack", "UBO"), ("teams", "UANN")])):
            person = DirectoryPerson(key=key, email=f"{key}@example.com", display_name=name,
                                     department="Legal", source="csv", last_seen_at=NOW)
            session.add(person)
            await session.flush()
            session.add_all([DirectoryAccount(person_id=person.id, platform=platform,
                                              user_id=user_id)
                             for platform, user_id in accounts])
    async with db.session() as session:
        ann = await personal_data.find_person(session, "slack", "UANN")
        assert ann.names == frozenset({"Ann Lee"}) and len(ann.directory_ids) == 1
    mine = await export(db, "slack", "UANN")
    assert [p["display_name"] for p in mine["directory_people"]] == ["Ann Lee"]
    assert sorted((a["platform"], a["user_id"]) for a in mine["directory_accounts"]) == [
        ("slack", "UANN"), ("teams", "aad-ann")]
    await erase(db, "slack", "UANN")
    async with db.session() as session:
        people = list(await session.scalars(select(DirectoryPerson.display_name)))
        accounts = {(a.platform, a.user_id) for a in await session.scalars(
            select(DirectoryAccount))}
    assert people == ["Bo Chen"]
    assert accounts == {("slack", "UBO"), ("teams", "UANN")}


def delivery(key: str, recipient: str, platform: str = "slack", **fields: Any) -> Delivery:
    return Delivery(key=key, kind="nudge", platform=platform, recipient=recipient,
                    status=fields.pop("status", "sent"), created_at=NOW, **fields)


async def test_the_outbox_of_my_id_on_the_other_platform_is_somebody_elses(
        db: Database) -> None:
    async with db.session() as session:
        session.add_all([
            delivery("nudge:slack:U1", "U1", message_ref="D1:1"),
            delivery("nudge:teams:U1", "U1", platform="teams", message_ref="a:chat-9|1"),
            # owed to a coordinator, naming me by id only: not sent once I am gone
            delivery("note:7", "UC", status="pending",
                     payload={"to": "UC", "text": "<@U1> is looking for a partner"}),
        ])
    mine = await export(db, "slack", "U1")
    assert [d["key"] for d in mine["deliveries"]] == ["nudge:slack:U1"]
    await erase(db, "slack", "U1")
    async with db.session() as session:
        after = {d.key: (d.platform, d.recipient, d.status, d.message_ref, d.payload)
                 for d in await session.scalars(select(Delivery))}
    assert after == {
        f"nudge:slack:{TOKEN}": ("slack", TOKEN, "sent", None, None),
        "nudge:teams:U1": ("teams", "U1", "sent", "a:chat-9|1", None),
        "note:7": ("slack", "UC", "failed", None, None),
    }


async def test_a_coordinators_note_quoting_my_id_in_german_quotes_loses_it(
        db: Database) -> None:
    async with db.session() as session:
        session.add_all([
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="note",
                       detail={"text": "Bitte »U1« neu zuordnen"}),
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="note",
                       detail={"text": "Bitte »U12« neu zuordnen"}),
        ])
    await erase(db, "slack", "U1")
    async with db.session() as session:
        details = list(await session.scalars(select(AuditEntry.detail).order_by(AuditEntry.id)))
    assert details == [{"text": f"Bitte »{TOKEN}« neu zuordnen"},
                       {"text": "Bitte »U12« neu zuordnen"}]


async def test_a_teams_reference_whose_chat_id_is_not_text_names_no_chat(
        db: Database) -> None:
    async with db.session() as session:
        session.add(ConversationRef(platform="teams", kind="user", key="aad-7",
                                    reference={"conversation": {"id": 7}}, updated_at=NOW))
    async with db.session() as session:
        person = await personal_data.find_person(session, "teams", "aad-7")
        assert person.chats == frozenset()
        found = await personal_data.export(session, person)
    assert [r["key"] for r in found.tables["conversation_refs"]] == ["aad-7"]


async def test_a_namesake_whose_id_contains_mine_keeps_their_name_in_the_audit_log(
        db: Database) -> None:
    """The audit log is searched for my id as text, which also finds U12 (and my id as
    somebody's account on Teams); only entries that name me as a whole id are mine."""
    async with db.session() as session:
        person = DirectoryPerson(key="e-1", display_name="Ann Lee", source="csv",
                                 last_seen_at=NOW)
        session.add(person)
        await session.flush()
        session.add(DirectoryAccount(person_id=person.id, platform="slack", user_id="U1"))
        session.add_all([
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="pin",
                       detail={"about": "U12", "name": "Ann Lee"}),
            AuditEntry(at=NOW, platform="teams", user_id="U1", action="pin",
                       detail={"about": "U12", "name": "Ann Lee"}),
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="pin",
                       detail={"about": "U1", "name": "Ann Lee"}),
        ])
    await erase(db, "slack", "U1")
    async with db.session() as session:
        after = [(a.platform, a.user_id, a.detail) for a in
                 await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert after == [("slack", "UC", {"about": "U12", "name": "Ann Lee"}),
                     ("teams", "U1", {"about": "U12", "name": "Ann Lee"}),
                     ("slack", "UC", {"about": TOKEN, "name": personal_data.ERASED_NAME})]
