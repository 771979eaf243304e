"""Export and erasure of one person in the coordinators' records and the lookups
by user id: the audit log, coordinator actions, match rules, the outbox and
inbound event ids. Real database.

What is pinned here is what must stay untouched for everybody else (a user id
that is a LIKE pattern matching another's, a namesake, the same user id on
the other platform, entries a coordinator wrote about someone), and what the
person gets back in ``my-data`` about records others keep.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.core.config import AppConfig
from storage import personal_data
from storage.db import Database
from storage.models import (
    AuditEntry,
    CoordinatorAction,
    Delivery,
    MatchProposal,
    MatchRule,
    Participant,
    ProcessedEvent,
    Tandem,
)
from tests.helpers.personal_data import NOW, TOKEN, erase, export
from tests.helpers.seed import seed_tandems


def delivery(key: str, recipient: str, **fields: Any) -> Delivery:
    return Delivery(key=key, kind="nudge", platform="slack", recipient=recipient,
                    status=fields.pop("status", "sent"), created_at=NOW, **fields)


async def test_a_user_id_is_looked_up_literally_not_as_a_pattern(db: Database) -> None:
    """"U_1" as a LIKE pattern would also find "UX1": his deliveries, events, audit."""
    async with db.session() as session:
        session.add_all([
            delivery("nudge:U_1", "U_1", message_ref="D1:1"),
            delivery("owed:U_1", "U_1", status="pending", payload={"to": "U_1", "text": "Hi"}),
            delivery("nudge:UX1", "UX1", message_ref="D2:1"),
            delivery("owed:UX1", "UX1", status="pending",
                     payload={"to": "UX1", "text": "Hello"}),
            ProcessedEvent(source="slack", event_id="U_1-ev", received_at=NOW),
            ProcessedEvent(source="slack", event_id="UX1-ev", received_at=NOW),
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="pin",
                       detail={"about": "UX1", "name": "Ann Lee"}),
        ])
    mine = await export(db, "slack", "U_1")
    # once each, though the owed one is found both by its recipient and its payload
    assert [d["key"] for d in mine["deliveries"]] == ["nudge:U_1", "owed:U_1"]
    assert [e["event_id"] for e in mine["processed_events"]] == ["U_1-ev"]
    await erase(db, "slack", "U_1")
    async with db.session() as session:
        theirs = {d.key: (d.status, d.payload, d.message_ref)
                  for d in await session.scalars(select(Delivery))}
        events = set(await session.scalars(select(ProcessedEvent.event_id)))
    assert theirs == {f"nudge:{TOKEN}": ("sent", None, None),
                      f"owed:{TOKEN}": ("failed", None, None), "nudge:UX1": ("sent", None, "D2:1"),
                      "owed:UX1": ("pending", {"to": "UX1", "text": "Hello"}, None)}
    assert events == {"UX1-ev"}


async def test_an_id_inside_a_longer_id_is_somebody_else(db: Database) -> None:
    """Slack ids differ in length: forgetting U1 must leave U12's records whole."""
    async with db.session() as session:
        session.add_all([
            delivery("nudge:U1", "U1", message_ref="D1:1"),
            delivery("nudge:U12", "U12", message_ref="D12:1"),
            delivery("intro:U12,U7", "U12,U7", message_ref="G1:1"),
            delivery("owed:U12", "U12", status="pending",
                     payload={"to": "U12", "text": "Hi <@U12>"}),
            ProcessedEvent(source="slack", event_id="U1-ev", received_at=NOW),
            ProcessedEvent(source="slack", event_id="U12-ev", received_at=NOW),
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="pin",
                       detail={"about": "U12", "with": "<@U1>"}),
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="block",
                       detail={"about": "U12"}),
        ])
    mine = await export(db, "slack", "U1")
    assert [d["key"] for d in mine["deliveries"]] == ["nudge:U1"]
    assert [e["event_id"] for e in mine["processed_events"]] == ["U1-ev"]
    await erase(db, "slack", "U1")
    async with db.session() as session:
        keys = {d.key: (d.recipient, d.message_ref, d.payload)
                for d in await session.scalars(select(Delivery))}
        events = set(await session.scalars(select(ProcessedEvent.event_id)))
        details = [a.detail for a in await session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]
    assert keys == {f"nudge:{TOKEN}": (TOKEN, None, None),
                    "nudge:U12": ("U12", "D12:1", None),
                    "intro:U12,U7": ("U12,U7", "G1:1", None),
                    "owed:U12": ("U12", None, {"to": "U12", "text": "Hi <@U12>"})}
    assert events == {"U12-ev"}
    assert details == [{"about": "U12", "with": f"<@{TOKEN}>"}, {"about": "U12"}]


async def test_a_namesake_keeps_their_name_in_the_audit_log(
        db: Database, config: AppConfig) -> None:
    await seed_tandems(db, config, 2)
    async with db.session() as session:
        for participant in await session.scalars(select(Participant)):
            participant.display_name = "Ann Lee"  # two people, one name
            # and ids one of which, as a LIKE pattern, matches the other
            participant.user_id = {"UJ00000": "U_1", "UJ00001": "UX1"}.get(
                participant.user_id, participant.user_id)
        session.add_all([
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="pin",
                       detail={"about": "UX1", "name": "Ann Lee"}),
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="pin",
                       detail={"about": "U_1", "name": "Ann Lee"}),
        ])
    await erase(db, "slack", "U_1")
    async with db.session() as session:
        details = list(await session.scalars(select(AuditEntry.detail).order_by(AuditEntry.id)))
    assert details == [{"about": "UX1", "name": "Ann Lee"},
                       {"about": TOKEN, "name": personal_data.ERASED_NAME}]


async def test_the_audit_log_exports_what_i_did_and_erases_me_wherever_i_am_named(
        db: Database) -> None:
    async with db.session() as session:
        session.add_all([
            AuditEntry(at=NOW, platform="slack", user_id="UME", action="announce",
                       detail={"channel": "C1"}),
            AuditEntry(at=NOW, platform="slack", user_id="UC", action="pin",
                       detail={"about": "UME"}),
            # the same id on the other platform is somebody else's account
            AuditEntry(at=NOW, platform="teams", user_id="UME", action="announce",
                       detail={"about": "UME"}),
        ])
    mine = await export(db, "slack", "UME")
    assert [(a["user_id"], a["action"]) for a in mine["audit_log"]] == [("UME", "announce")]
    await erase(db, "slack", "UME")
    async with db.session() as session:
        after = [(a.platform, a.user_id, a.detail) for a in
                 await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert after == [("slack", TOKEN, {"channel": "C1"}),
                     ("slack", "UC", {"about": TOKEN}),
                     ("teams", "UME", {"about": TOKEN})]


async def test_coordinator_actions_i_drafted_or_decided(db: Database) -> None:
    def action(by: str, status: str, payload: dict[str, Any], decided_by: str | None = None,
               platform: str = "slack") -> CoordinatorAction:
        return CoordinatorAction(kind="announce", platform=platform, created_by=by,
                                 payload=payload, status=status, created_at=NOW,
                                 decided_by=decided_by)

    async with db.session() as session:
        session.add_all([
            action("UME", "pending", {"text": "my draft"}),
            action("UME", "done", {"text": "my post"}, decided_by="UME"),
            action("UC", "done", {"text": "theirs"}, decided_by="UME"),
            action("UC", "pending", {"text": "someone else's"}),
            action("UME", "pending", {"text": "teams"}, platform="teams"),
        ])
    mine = await export(db, "slack", "UME")
    assert [a["payload"]["text"] for a in mine["coordinator_actions"]] == [
        "my draft", "my post", "theirs"]
    await erase(db, "slack", "UME")
    async with db.session() as session:
        after = [(a.created_by, a.status, a.payload, a.decided_by) for a in
                 await session.scalars(select(CoordinatorAction).order_by(CoordinatorAction.id))]
    assert after == [
        (TOKEN, "cancelled", {}, None),  # what they drafted is gone, and not posted later
        (TOKEN, "done", {}, TOKEN),
        ("UC", "done", {"text": "theirs"}, TOKEN),
        ("UC", "pending", {"text": "someone else's"}, None),
        ("UME", "pending", {"text": "teams"}, None),
    ]


async def test_match_rules_about_me_go_and_those_i_made_stay_anonymous(
        db: Database, config: AppConfig) -> None:
    seeded = await seed_tandems(db, config, 2)
    async with db.session() as session:
        ids = {p.user_id: p.id for p in await session.scalars(select(Participant))}

        def rule(kind: str, mentor: str, mentee: str, by: str) -> MatchRule:
            return MatchRule(round_id=seeded.round_id, kind=kind, mentor_id=ids[mentor],
                             mentee_id=ids[mentee], created_by=by, created_at=NOW)

        session.add_all([rule("pin", "UJ00000", "US00001", "UC"),
                         rule("block", "UJ00001", "US00000", "UJ00000"),
                         rule("block", "UJ00001", "US00001", "UC")])
    mine = await export(db, "slack", "UJ00000")
    assert [(r["kind"], r["about_me"], r["created_by_me"]) for r in mine["match_rules"]] == [
        ("pin", True, False), ("block", False, True)]
    await erase(db, "slack", "UJ00000")
    async with db.session() as session:
        left = [(r.kind, r.created_by) for r in
                await session.scalars(select(MatchRule).order_by(MatchRule.id))]
    assert left == [("block", TOKEN), ("block", "UC")]


async def test_rows_without_optional_json_are_exported_and_erased(
        db: Database, config: AppConfig) -> None:
    seeded = await seed_tandems(db, config, 1)
    async with db.session() as session:
        [tandem] = await session.scalars(select(Tandem))
        tandem.explanation = None
        session.add(MatchProposal(round_id=seeded.round_id, number=1, status="confirmed",
                                  created_by="UJ00000", created_at=NOW, result=None))
        session.add(MatchProposal(round_id=seeded.round_id, number=2, status="confirmed",
                                  created_by="UC", created_at=NOW, result={"pairs": [
                                      {"mentor": tandem.mentor_id, "mentee": tandem.mentee_id,
                                       "mentor_name": "Mentor 0", "mentee_name": "Mentee 0"}]}))
    mine = await export(db, "slack", "UJ00000")
    assert [t["why"] for t in mine["tandems"]] == [{}]
    assert [(p["number"], p["my_pairs"]) for p in mine["match_proposals"]] == [
        (1, []), (2, [{"mentor": tandem.mentor_id, "mentee": tandem.mentee_id,
                       "mentor_name": "Mentor 0", "mentee_name": "Mentee 0", "why": {}}])]
    await erase(db, "slack", "UJ00000")
    async with db.session() as session:
        first, second = await session.scalars(select(MatchProposal).order_by(MatchProposal.id))
    assert (first.created_by, first.result) == (TOKEN, {"pairs": [], "unmatched": [],
                                                        "warnings": []})
    assert second.result["pairs"] == [{"mentor": tandem.mentor_id, "mentee": tandem.mentee_id,
                                       "mentor_name": "–", "mentee_name": "Mentee 0",
                                       "explanation": {}}]


@pytest.mark.parametrize("run", ["export", "erase"])
async def test_a_table_nobody_described_stops_export_and_erasure(
        db: Database, monkeypatch: pytest.MonkeyPatch, run: str) -> None:
    async with db.session() as session:
        session.add(AuditEntry(at=NOW, platform="slack", user_id="UME", action="announce",
                               detail={}))
    monkeypatch.delitem(personal_data.REGISTRY, "leases")
    with pytest.raises(RuntimeError, match=r"\['leases'\]"):
        await (export if run == "export" else erase)(db, "slack", "UME")
    async with db.session() as session:
        assert list(await session.scalars(select(AuditEntry.user_id))) == ["UME"]


async def test_a_participant_without_a_name_is_found_and_erased(
        db: Database, config: AppConfig) -> None:
    await seed_tandems(db, config, 1)
    async with db.session() as session:
        [mine] = await session.scalars(select(Participant).where(
            Participant.user_id == "UJ00000"))
        mine.display_name = None
    async with db.session() as session:
        person = await personal_data.find_person(session, "slack", "UJ00000")
    assert person.signed_up and person.names == frozenset()
    await erase(db, "slack", "UJ00000")
    async with db.session() as session:
        statuses = {p.user_id: p.status for p in await session.scalars(select(Participant))}
    assert statuses == {TOKEN: "forgotten", "US00000": "active"}


async def test_messages_still_owed_about_me_are_not_sent_after_i_am_forgotten(
        db: Database, config: AppConfig) -> None:
    await seed_tandems(db, config, 1)
    async with db.session() as session:
        [mine] = await session.scalars(select(Participant).where(
            Participant.user_id == "UJ00000"))
        mine.display_name = "Jürgen Groß"  # stored JSON would spell it J\\u00fcrgen
        session.add_all([
            delivery("note:1", "UC", status="pending",
                     payload={"to": "UC", "text": "Jürgen Groß is looking for a partner"}),
            delivery("note:2", "UC", status="pending",
                     payload={"to": "UC", "text": "Mentee 0 is looking for a partner"}),
        ])
    mine_now = await export(db, "slack", "UJ00000")
    assert mine_now["deliveries"] == []  # the coordinators' messages are not mine
    await erase(db, "slack", "UJ00000")
    async with db.session() as session:
        after = {d.key: (d.status, d.payload) for d in await session.scalars(select(Delivery))}
    assert after == {
        "note:1": ("failed", None),
        "note:2": ("pending", {"to": "UC", "text": "Mentee 0 is looking for a partner"})}


async def test_forget_me_when_unmatched_drops_me_from_drafts_and_my_name_from_history(
        db: Database, config: AppConfig) -> None:
    seeded = await seed_tandems(db, config, 2)
    async with db.session() as session:
        ids = {p.user_id: p.id for p in await session.scalars(select(Participant))}
        unmatched = [{"participant": ids["UJ00000"], "name": "Mentor 0", "role": "mentor",
                      "reason": "capacity", "params": {"name": "Mentor 0"}},
                     {"participant": ids["UJ00001"], "name": "Mentor 1", "role": "mentor",
                      "reason": "no_partners", "params": {}}]
        for number, status in ((1, "draft"), (2, "confirmed")):
            session.add(MatchProposal(round_id=seeded.round_id, number=number, status=status,
                                      created_by="UC", created_at=NOW,
                                      result={"pairs": [], "unmatched": unmatched}))
    await erase(db, "slack", "UJ00000")
    async with db.session() as session:
        draft, confirmed = await session.scalars(select(MatchProposal)
                                                 .order_by(MatchProposal.number))
    assert draft.result["unmatched"] == [unmatched[1]]
    assert confirmed.result["unmatched"] == [
        {**unmatched[0], "name": personal_data.ERASED_NAME, "params": {}}, unmatched[1]]
