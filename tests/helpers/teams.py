"""People, the programme channel and card helpers for tests that talk to the bot as
Microsoft Teams does (through ``tests.fakes.bot_connector``)."""

from __future__ import annotations

from typing import Any

from tests.fakes.bot_connector import BOT_ID, TENANT, Call, TeamsUser, TeamsWorld

CLARA = TeamsUser("aad-clara", "Clara Koch", locale="en-US")  # the coordinator

LENA = TeamsUser("aad-lena", "Lena Weber", locale="de-DE")
MEHMET = TeamsUser("aad-mehmet", "Mehmet Yilmaz", locale="de-DE")
JAMAL = TeamsUser("aad-jamal", "Jamal Okafor", locale="de-AT")
SARAH = TeamsUser("aad-sarah", "Sarah Miller", locale="en-US")
KATRIN = TeamsUser("aad-katrin", "Katrin Vogel", locale="de-DE")
PARTICIPANTS = (LENA, MEHMET, JAMAL, SARAH, KATRIN)
# The team's General channel: its id is also the team's id, as in Teams.
CHANNEL = "19:programme-general@thread.tacv2"
CONFIRM = "match.confirm"


async def idle(world: TeamsWorld) -> None:
    """Wait for the work the bot does after answering (proposals, introductions)."""
    adapter = next(a for a in world.runtime.adapters if a.platform == "teams")
    assert await adapter.bot.idle(grace_seconds=60)


async def bot_added_to_team(world: TeamsWorld, by: TeamsUser) -> None:
    """Someone adds the app to the programme team: Teams tells the bot in the General
    channel, which is how the bot learns it can post there."""
    activity = world.driver.activity(
        by, type="conversationUpdate",
        conversation={"id": CHANNEL, "conversationType": "channel", "isGroup": True,
                      "tenantId": TENANT},
        membersAdded=[{"id": BOT_ID}],
        channelData={"tenant": {"id": TENANT}, "team": {"id": CHANNEL, "name": "Programme"},
                     "eventType": "teamMemberAdded"},
    )
    before = len(world.connector.calls)
    assert (await world.driver.post(activity))[0] == 201
    assert world.connector.calls[before:] == []  # joining a team posts nothing


def confirm_data(call: Call) -> dict[str, Any]:
    assert call.card is not None
    return next(a["data"] for a in call.card.get("actions", [])
                if a["data"].get("tandem_action") == CONFIRM)


def submit_data(card: dict[str, Any]) -> dict[str, Any]:
    return next(a["data"] for a in card["actions"] if "tandem_form" in a["data"])


def action_data(card: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(a["data"] for a in card["actions"] if a["data"].get("tandem_action") == action_id)


async def sign_up(world: TeamsWorld, user: TeamsUser, **answers: str) -> None:
    """``signup`` in the personal chat, then the survey card submitted."""
    assert await world.driver.say(user, "signup") == 201
    form = world.connector.of_kind("reply")[-1]
    data = {**submit_data(form.card), "role": "mentor", "manager": "", "goals": "",
            "meeting_mode": "remote", "location": "", "capacity": "1", "consent": "yes",
            **answers}
    assert await world.driver.submit(user, data, form.activity_id) == 201
