"""Teams sending on its own: references remembered from activities, personal chats
created for people known only from a team, channel posts, and failures mapped."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.core.errors import PlatformError
from bot.core.i18n import t
from conversations.messages import Message
from storage.models import ConversationRef
from tests.fakes.bot_connector import BOT_ID, TENANT, TeamsUser, TeamsWorld

ANNA = TeamsUser("aad-anna", "Anna Jung", locale="de-DE")
BEN = TeamsUser("aad-ben", "Ben Senior")
CHANNEL = "19:programme@thread.tacv2"
TEAM = "19:team-general@thread.tacv2"


async def added_to_team(world: TeamsWorld, *people: TeamsUser) -> None:
    """A conversationUpdate in a team channel: these people joined (or the bot did)."""
    activity = world.driver.activity(
        people[0],
        type="conversationUpdate",
        conversation={"id": CHANNEL, "conversationType": "channel", "isGroup": True,
                      "tenantId": TENANT},
        membersAdded=[p.account() for p in people],
        channelData={"tenant": {"id": TENANT}, "team": {"id": TEAM},
                     "channel": {"id": CHANNEL}, "eventType": "teamMemberAdded"},
    )
    activity["from"] = {"id": "29:someone-else", "aadObjectId": "aad-admin"}
    assert (await world.driver.post(activity))[0] == 201


async def refs(world: TeamsWorld) -> dict[tuple[str, str], ConversationRef]:
    async with world.runtime.db.session() as s:
        rows = await s.scalars(select(ConversationRef))
        return {(r.kind, r.key): r for r in rows}


async def test_dm_to_someone_known_only_from_a_team_creates_the_chat(world: TeamsWorld) -> None:
    await added_to_team(world, BEN)
    stored = await refs(world)
    assert ("user", BEN.key) in stored and ("channel", CHANNEL) in stored
    assert ("channel", TEAM) in stored and stored["user", BEN.key].tenant_id == TENANT
    assert world.connector.calls == []

    messenger = world.runtime.messengers["teams"]
    ref = await messenger.send_direct(BEN.key, Message.text("Hello Ben"))
    [created] = world.connector.of_kind("create")
    assert created.body["members"] == [{"id": BEN.bf_id}]
    assert created.body["bot"]["id"] == BOT_ID
    assert created.body["isGroup"] is False
    assert created.body["tenantID"] == TENANT
    assert created.body["channelData"] == {"tenant": {"id": TENANT}}
    [sent] = world.connector.messages()
    assert sent.kind == "send" and sent.conversation_id == created.conversation_id
    assert sent.body["recipient"]["id"] == BEN.bf_id
    assert "Hello Ben" in sent.all_text()
    assert ref == f"{created.conversation_id}|{sent.activity_id}"

    # The chat is remembered: the next message goes straight to it.
    await messenger.send_direct(BEN.key, Message.text("Again"))
    assert len(world.connector.of_kind("create")) == 1
    assert world.connector.messages()[-1].conversation_id == created.conversation_id

    # A later team event does not replace the personal chat with the membership.
    await added_to_team(world, BEN)
    ref_row = (await refs(world))["user", BEN.key]
    assert ref_row.reference["conversation"]["id"] == created.conversation_id


async def test_personal_chat_is_used_once_the_person_wrote(world: TeamsWorld) -> None:
    await world.driver.say(ANNA, "hilfe")
    world.connector.clear()
    await world.runtime.messengers["teams"].send_direct(ANNA.key, Message.text("Hallo"))
    assert world.connector.of_kind("create") == []
    [sent] = world.connector.messages()
    assert sent.conversation_id == ANNA.chat and sent.kind == "send"
    assert "replyToId" not in sent.body


async def test_group_message_goes_to_each_partner_privately(world: TeamsWorld) -> None:
    await world.driver.say(ANNA, "hilfe")
    await added_to_team(world, BEN)
    world.connector.clear()
    ids = await world.runtime.messengers["teams"].send_group(
        [ANNA.key, BEN.key], Message.text("You are a tandem")
    )
    assert len(ids) == 2
    chats = {c.conversation_id for c in world.connector.messages()}
    assert ANNA.chat in chats and len(chats) == 2


async def test_channel_post_starts_a_thread_in_a_known_channel(world: TeamsWorld) -> None:
    await added_to_team(world, BEN)
    await world.runtime.messengers["teams"].post_channel(CHANNEL, Message.text("Sign up now"))
    [post] = world.connector.messages()
    assert post.kind == "send" and post.conversation_id == CHANNEL
    with pytest.raises(PlatformError) as unknown:
        await world.runtime.messengers["teams"].post_channel("19:nope", Message.text("x"))
    assert unknown.value.unreachable


@pytest.mark.parametrize(("status", "unreachable", "retry"), [
    (403, True, False), (404, True, False), (429, False, True), (500, False, True),
])
async def test_send_failures_become_platform_errors(
    world: TeamsWorld, status: int, unreachable: bool, retry: bool
) -> None:
    await world.driver.say(ANNA, "hilfe")
    world.connector.fail_next(status, times=5)
    with pytest.raises(PlatformError) as failed:
        await world.runtime.messengers["teams"].send_direct(ANNA.key, Message.text("x"))
    assert (failed.value.unreachable, failed.value.retry) == (unreachable, retry)
    assert str(status) in str(failed.value)


async def test_failure_opening_a_chat_and_unknown_people(world: TeamsWorld) -> None:
    messenger = world.runtime.messengers["teams"]
    with pytest.raises(PlatformError) as unknown:
        await messenger.send_direct("aad-stranger", Message.text("x"))
    assert unknown.value.unreachable
    await added_to_team(world, BEN)
    world.connector.fail_next(403)
    with pytest.raises(PlatformError) as refused:
        await messenger.send_direct(BEN.key, Message.text("x"))
    assert refused.value.unreachable and world.connector.messages() == []


async def test_installation_update_remembers_the_installer(world: TeamsWorld) -> None:
    activity = world.driver.activity(ANNA, type="installationUpdate", action="add")
    assert (await world.driver.post(activity))[0] == 201
    assert ("user", ANNA.key) in await refs(world)
    assert world.connector.calls == []


async def test_files_are_offered_and_uploaded_when_allowed(world: TeamsWorld) -> None:
    await world.driver.say(ANNA, "hilfe")
    world.connector.clear()
    messenger = world.runtime.messengers["teams"]
    assert messenger.supports_group is False
    await messenger.send_file(ANNA.key, "proposal.csv", b"a,b\n1,2\n", Message.text("CSV"))
    [offer] = world.connector.messages()
    consent = offer.body["attachments"][-1]
    assert consent["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    assert consent["content"]["sizeInBytes"] == 8

    def answer(user: TeamsUser, action: str) -> dict:
        return world.driver.activity(
            user, type="invoke", name="fileConsent/invoke",
            value={"type": "fileUpload", "action": action,
                   "context": consent["content"]["acceptContext"],
                   "uploadInfo": {"name": "proposal.csv", "fileType": "csv",
                                  "uploadUrl": world.connector.url + "upload/proposal.csv",
                                  "contentUrl": "https://drive.example/proposal.csv",
                                  "uniqueId": "u1"}},
        )

    # Someone else cannot take it; the owner can, once.
    assert (await world.driver.post(answer(BEN, "accept")))[0] == 200
    assert world.connector.uploads == {}
    assert (await world.driver.post(answer(ANNA, "accept")))[0] == 200
    assert world.connector.uploads == {"proposal.csv": b"a,b\n1,2\n"}
    info = world.connector.messages(ANNA.chat)[-1].body["attachments"][0]
    assert info["contentType"] == "application/vnd.microsoft.teams.card.file.info"
    assert info["contentUrl"] == "https://drive.example/proposal.csv"
    assert (await world.driver.post(answer(ANNA, "accept")))[0] == 200
    assert t("de", "teams.file_expired") in world.connector.messages(ANNA.chat)[-1].all_text()
