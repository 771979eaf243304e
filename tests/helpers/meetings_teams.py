"""Teams' side of Find a time, shared by the meeting tests: the cast, posting and
pressing as a person over the fake Bot Connector, and a tandem introduced on Teams."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.clock import FixedClock
from tests.fakes.bot_connector import TENANT, Call, TeamsUser, TeamsWorld
from tests.helpers.teams import confirm_data, idle

CLARA = TeamsUser("aad-clara", "Clara Koch", locale="en-US")
LENA = TeamsUser("aad-lena", "Lena Weber", locale="de-DE")
SARAH = TeamsUser("aad-sarah", "Sarah Miller", locale="en-US", timezone="America/New_York")
SURVEYS = {
    LENA: {"role": "mentor", "department": "Marketing", "topics": "ai_tools",
           "languages": "en"},
    SARAH: {"role": "mentee", "department": "Human Resources", "topics": "ai_tools",
            "languages": "en"},
}
CONSENT = "application/vnd.microsoft.teams.card.file.consent"


async def post(world: TeamsWorld, user: TeamsUser, **fields: Any) -> None:
    activity = world.driver.activity(user, **fields)
    activity["conversation"] = {"id": user.chat, "conversationType": "personal",
                                "tenantId": TENANT}
    status, _ = await world.driver.post(activity)
    assert status == 201


def actions(call: Call, action: str) -> list[dict[str, Any]]:
    return [a["data"] for a in (call.card or {}).get("actions", [])
            if a.get("data", {}).get("tandem_action") == action]


def newest(world: TeamsWorld, user: TeamsUser, action: str) -> tuple[Call, dict[str, Any]]:
    for call in reversed(world.connector.messages(user.chat)):
        found = actions(call, action)
        if found:
            return call, found[0]
    raise AssertionError(f"{user.key} has no {action} button")


async def press(world: TeamsWorld, user: TeamsUser, call: Call, data: dict[str, Any]) -> Call:
    before = len(world.connector.calls)
    await post(world, user, value=data, replyToId=call.activity_id)
    await idle(world)
    [answer] = [c for c in world.connector.calls[before:]
                if c.conversation_id == user.chat and c.kind in ("update", "reply")]
    return answer


async def sign_up(world: TeamsWorld, user: TeamsUser) -> None:
    before = len(world.connector.calls)
    await post(world, user, text="signup")
    [form] = world.connector.calls[before:]
    assert form.card is not None
    data = next(a["data"] for a in form.card["actions"] if "tandem_form" in a["data"])
    values = {"manager": "", "goals": "", "meeting_mode": "remote", "location": "",
              "capacity": "1", "consent": "yes", **SURVEYS[user]}
    await post(world, user, value={**data, **values}, replyToId=form.activity_id)
    assert await world.runtime.background.idle(60)


async def introduced(world: TeamsWorld, clock: FixedClock) -> None:
    """Lena and Sarah sign up, are matched and introduced (each privately)."""
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    for user in (LENA, SARAH, CLARA):
        await post(world, user, text="help")
    await sign_up(world, LENA)
    await sign_up(world, SARAH)
    clock.set(datetime(2027, 1, 16, 9, 30, tzinfo=UTC))
    before = len(world.connector.calls)
    await post(world, CLARA, text="match")
    await idle(world)
    proposal = next(c for c in world.connector.calls[before:] if actions(c, "match.confirm"))
    await post(world, CLARA, value=confirm_data(proposal), replyToId=proposal.activity_id)
    await idle(world)
