"""Export and erasure of one person, row by row, where other people's data sits
beside theirs: stored matching proposals (pairs, unmatched, warnings), Teams
chats in inbound event ids, who created or confirmed what. Real database.

The flows' tests (test_privacy_*.py) show that forget-me works end to end; these
pin what must stay untouched for everybody else, which those cannot see.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.core.config import AppConfig
from storage import personal_data
from storage.db import Database
from storage.models import (
    ConversationRef,
    MatchProposal,
    Participant,
    ProcessedEvent,
    Reminder,
    Tandem,
)
from tests.helpers.personal_data import NOW, TOKEN
from tests.helpers.seed import seed_tandems


def pair(mentor: int, mentee: int, names: tuple[str, str]) -> dict[str, Any]:
    return {"mentor": mentor, "mentee": mentee, "mentor_name": names[0],
            "mentee_name": names[1], "score": 70,
            "explanation": {"offered_wished": ["ai_tools"], "languages": ["de"],
                            "timezone": "same"}}


async def people(db: Database, config: AppConfig) -> tuple[int, dict[str, int]]:
    """A round with three tandems; participant ids by user id."""
    seeded = await seed_tandems(db, config, 3)
    async with db.session() as session:
        rows = await session.scalars(select(Participant))
        return seeded.round_id, {p.user_id: p.id for p in rows}


def proposal_result(ids: dict[str, int]) -> dict[str, Any]:
    me, partner = ids["UJ00000"], ids["US00000"]
    other_mentor, other_mentee = ids["UJ00001"], ids["US00001"]
    return {
        "pairs": [pair(me, partner, ("Mentor 0", "Mentee 0")),
                  pair(other_mentor, other_mentee, ("Mentor 1", "Mentee 1"))],
        "unmatched": [{"participant": ids["UJ00002"], "name": "Mentor 2", "role": "mentor",
                       "reason": "no_partners", "params": {}}],
        "warnings": [
            {"key": "match.warn.capacity", "people": [me], "params": {"name": "Mentor 0"}},
            {"key": "match.warn.capacity", "people": [str(me)],
             "params": {"name": "Mentor 0"}},
            {"key": "match.warn.language", "people": [other_mentor, str(other_mentee)],
             "params": {"name": "Mentor 1", "count": 2}},
            {"key": "match.warn.general", "params": {"count": 3}},
        ],
    }


async def test_forget_me_keeps_other_peoples_pairs_and_warnings_in_stored_proposals(
        db: Database, config: AppConfig) -> None:
    round_id, ids = await people(db, config)
    result = proposal_result(ids)
    async with db.session() as session:
        for number, status in ((1, "draft"), (2, "confirmed")):
            session.add(MatchProposal(round_id=round_id, number=number, status=status,
                                      created_by="UCOORD", created_at=NOW, result=result,
                                      confirmed_by="UJ00000" if number == 2 else "UCOORD"))
    async with db.session() as session:
        person = await personal_data.find_person(session, "slack", "UJ00000")
        await personal_data.erase(session, person, NOW, token=TOKEN)
    async with db.session() as session:
        draft, confirmed = await session.scalars(select(MatchProposal)
                                                 .order_by(MatchProposal.number))
    others = result["warnings"][2:]
    me, partner = ids["UJ00000"], ids["US00000"]
    # a draft may still be confirmed: the person is gone from it, their partner unmatched
    assert draft.result["pairs"] == [result["pairs"][1]]
    assert draft.result["unmatched"] == [
        result["unmatched"][0],
        {"participant": partner, "name": "Mentee 0", "role": "mentee",
         "reason": "no_partners", "params": {}}]
    assert draft.result["warnings"] == others
    assert (draft.created_by, draft.confirmed_by) == ("UCOORD", "UCOORD")
    # a confirmed one is history: the pair stays, without their name and what described them
    mine = {**result["pairs"][0], "mentor_name": "–",
            "explanation": {"offered_wished": [], "languages": [], "timezone": "same"}}
    assert confirmed.result["pairs"] == [mine, result["pairs"][1]]
    assert confirmed.result["unmatched"] == result["unmatched"]
    assert confirmed.result["warnings"] == [
        {"key": "match.warn.capacity", "people": [me], "params": {}},
        {"key": "match.warn.capacity", "people": [str(me)], "params": {}},
        *others]
    assert (confirmed.created_by, confirmed.confirmed_by) == ("UCOORD", TOKEN)


async def test_my_data_shows_my_proposals_and_whether_i_created_or_confirmed_them(
        db: Database, config: AppConfig) -> None:
    round_id, ids = await people(db, config)
    result = proposal_result(ids)
    async with db.session() as session:
        for number, created, confirmed in ((1, "UJ00000", None), (2, "UCOORD", "UJ00000"),
                                           (3, "UCOORD", "UCOORD")):
            session.add(MatchProposal(round_id=round_id, number=number, status="confirmed",
                                      created_by=created, created_at=NOW, result=result,
                                      confirmed_by=confirmed))
        session.add(MatchProposal(round_id=round_id, number=4, status="draft",
                                  created_by="UCOORD", created_at=NOW,
                                  result={"pairs": [result["pairs"][1]]}))
    async with db.session() as session:
        me = await personal_data.export(
            session, await personal_data.find_person(session, "slack", "UJ00000"))
        unmatched = await personal_data.export(
            session, await personal_data.find_person(session, "slack", "UJ00002"))
    rows = me.tables["match_proposals"]
    assert [(r["number"], r["created_by_me"], r["confirmed_by_me"]) for r in rows] == [
        (1, True, False), (2, False, True), (3, False, False)]
    why = {"offered_wished": ["ai_tools"], "languages": ["de"]}  # theirs, not "timezone"
    assert rows[0]["my_pairs"] == [{**{k: v for k, v in result["pairs"][0].items()
                                       if k != "explanation"}, "why": why}]
    assert rows[0]["me_unmatched"] == []
    [first, *_] = unmatched.tables["match_proposals"]
    assert first["my_pairs"] == [] and first["me_unmatched"] == result["unmatched"]
    assert len(unmatched.tables["match_proposals"]) == 3  # not the draft without them


async def test_teams_chats_are_found_and_their_events_exported_and_erased(
        db: Database) -> None:
    refs = [("user", "aad-1", {"conversation": {"id": "a:chat-1"}}),
            ("user", "aad-2", {"conversation": {"id": "a:chat-2"}}),
            ("user", "aad-3", {"conversation": {"id": ""}}),
            ("user", "aad-4", {"conversation": {}}),
            ("channel", "aad-1", {"conversation": {"id": "19:team@thread"}})]
    events = ["a:chat-1|act-1", "a:chat-2|act-2", "19:team@thread|act-3", "aad-1-invoke"]
    async with db.session() as session:
        for kind, key, reference in refs:
            session.add(ConversationRef(platform="teams", kind=kind, key=key, reference=reference,
                                        updated_at=NOW))
        session.add(ConversationRef(platform="slack", kind="user", key="aad-1",
                                    reference={"conversation": {"id": "D-slack"}},
                                    updated_at=NOW))
        for event_id in events:
            session.add(ProcessedEvent(source="teams", event_id=event_id, received_at=NOW))
        session.add(ProcessedEvent(source="slack", event_id="a:chat-1|act-9", received_at=NOW))
    async with db.session() as session:
        for user_id in ("aad-3", "aad-4", "nobody"):
            assert (await personal_data.find_person(session, "teams", user_id)).chats == set()
        person = await personal_data.find_person(session, "teams", "aad-1")
        assert person.chats == frozenset({"a:chat-1"})
        assert not person.signed_up
        found = await personal_data.export(session, person)
        assert [e["event_id"] for e in found.tables["processed_events"]] == [
            "a:chat-1|act-1", "aad-1-invoke"]
        assert [r["kind"] for r in found.tables["conversation_refs"]] == ["user"]
        assert not found.empty
        await personal_data.erase(session, person, NOW, token=TOKEN)
    async with db.session() as session:
        left = set(await session.scalars(select(ProcessedEvent.event_id)))
        kept_refs = list(await session.scalars(select(ConversationRef.key)
                                               .order_by(ConversationRef.id)))
        nobody = await personal_data.export(
            session, await personal_data.find_person(session, "teams", "aad-1"))
    assert left == {"a:chat-2|act-2", "19:team@thread|act-3", "a:chat-1|act-9"}
    # other people's chats, the channel and the Slack account stay
    assert kept_refs == ["aad-2", "aad-3", "aad-4", "aad-1", "aad-1"]
    assert nobody.empty


async def test_a_forgotten_participant_keeps_counts_and_when_they_left(
        db: Database, config: AppConfig) -> None:
    _, ids = await people(db, config)
    left_before = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    async with db.session() as session:
        gone = await session.get(Participant, ids["UJ00001"])
        assert gone is not None
        gone.left_at, gone.display_name = left_before, "   "
        [tandem_id] = (await personal_data.find_person(session, "slack", "UJ00000")).tandem_ids
        mine = await session.get(Tandem, tandem_id)
        assert mine is not None
        mine.explanation = {"offered_wished": ["ai_tools"], "timezone": "same",
                            "mentee_goals": "their words"}
    async with db.session() as session:
        me = await personal_data.find_person(session, "slack", "UJ00000")
        blank = await personal_data.find_person(session, "slack", "UJ00001")
        assert me.names == frozenset({"Mentor 0"}) and blank.names == frozenset()
        [tandem] = (await personal_data.export(session, me)).tables["tandems"]
        assert tandem["why"] == {"offered_wished": ["ai_tools"]}
        assert (tandem["partner"], tandem["my_role"]) == ("Mentee 0", "mentor")
        token = await personal_data.erase(session, me, NOW)
        await personal_data.erase(session, blank, NOW)
    assert re.fullmatch(r"forgotten-[0-9a-f]{12}", token)
    async with db.session() as session:
        mine_now = await session.get(Participant, ids["UJ00000"])
        gone_now = await session.get(Participant, ids["UJ00001"])
    assert mine_now is not None and gone_now is not None
    assert (mine_now.user_id, mine_now.status, mine_now.left_at) == (token, "forgotten", NOW)
    assert gone_now.left_at == left_before and gone_now.status == "forgotten"


async def test_someone_never_signed_up_exports_empty_tables_and_erases_nothing(
        db: Database, config: AppConfig) -> None:
    await people(db, config)
    async with db.session() as session:
        session.add(ConversationRef(platform="teams", kind="user", key="aad-9", reference=None,
                                    updated_at=NOW))
    async with db.session() as session:
        person = await personal_data.find_person(session, "teams", "aad-9")
        assert person.chats == frozenset() and not person.signed_up
        found = await personal_data.export(session, person)
        assert {name: rows for name, rows in found.tables.items() if rows} == {
            "conversation_refs": found.tables["conversation_refs"]}
        assert all(rows == [] for name, rows in found.tables.items()
                   if name != "conversation_refs")
        await personal_data.erase(session, person, NOW)
    async with db.session() as session:
        statuses = set(await session.scalars(select(Participant.status)))
    assert "forgotten" not in statuses


async def test_proposals_i_only_created_are_mine_and_my_tandems_reminders_go(
        db: Database, config: AppConfig) -> None:
    round_id, ids = await people(db, config)
    others = {"pairs": [pair(ids["UJ00001"], ids["US00001"], ("Mentor 1", "Mentee 1"))]}
    async with db.session() as session:
        session.add(MatchProposal(round_id=round_id, number=1, status="confirmed",
                                  created_by="UJ00000", created_at=NOW, result=others))
        me = await personal_data.find_person(session, "slack", "UJ00000")
        other = await personal_data.find_person(session, "slack", "UJ00001")
        for tandem_id in (*me.tandem_ids, *other.tandem_ids):
            session.add(Reminder(tandem_id=tandem_id, period=1, due_at=NOW, created_at=NOW))
    async with db.session() as session:
        found = await personal_data.export(session, me)
        [proposal] = found.tables["match_proposals"]
        assert (proposal["created_by_me"], proposal["my_pairs"]) == (True, [])
        assert len(found.tables["reminders"]) == 1
        await personal_data.erase(session, me, NOW, token=TOKEN)
    async with db.session() as session:
        left = list(await session.scalars(select(Reminder.tandem_id)))
        [stored] = await session.scalars(select(MatchProposal))
    assert left == list(other.tandem_ids)
    assert stored.created_by == TOKEN and stored.result["pairs"] == others["pairs"]
