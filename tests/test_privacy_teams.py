"""my-data and forget-me on Teams, end to end: the JSON file through the file-consent
card, and forget-me's confirm card; the conversation reference is gone afterwards."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.core.i18n import t
from storage.models import ConversationRef, Participant
from tests.fakes.bot_connector import TeamsUser, TeamsWorld
from tests.helpers.privacy import everything, leaks
from tests.helpers.teams import action_data, submit_data

FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
ANNEGRET = TeamsUser("aad-annegret", "Annegret Quist", locale="en-US")
GOOD = {"role": "mentor", "department": "Legal", "manager": "aad-boss",
        "topics": "ai_tools", "goals": "MARKER-teams my goal", "languages": "de,en",
        "meeting_mode": "remote", "location": "", "capacity": "1", "consent": "yes"}


async def test_my_data_as_a_file_then_forget_me_on_teams(world: TeamsWorld) -> None:
    driver, connector = world.driver, world.connector
    await driver.say(ANNEGRET, "signup")
    form = connector.of_kind("reply")[-1]
    assert await driver.submit(ANNEGRET, {**submit_data(form.card), **GOOD},
                               form.activity_id) == 201

    # 1. my-data: the file is offered with a consent card; on "Allow" it is uploaded.
    connector.clear()
    assert await driver.say(ANNEGRET, "my-data") == 201
    assert t("en", "privacy.my_data_sent") in connector.of_kind("reply")[-1].all_text()
    [offer] = [c for c in connector.calls if any(
        a.get("contentType") == FILE_CONSENT for a in c.body.get("attachments", []))]
    assert offer.conversation_id == ANNEGRET.chat
    consent = next(a for a in offer.body["attachments"] if a["contentType"] == FILE_CONSENT)
    assert consent["name"].startswith("tandem-my-data-") and consent["name"].endswith(".json")
    accept = driver.activity(
        ANNEGRET, type="invoke", name="fileConsent/invoke",
        value={"type": "fileUpload", "action": "accept",
               "context": consent["content"]["acceptContext"],
               "uploadInfo": {"name": consent["name"], "fileType": "json",
                              "uploadUrl": connector.url + "upload/" + consent["name"],
                              "contentUrl": "https://drive.example/my-data.json",
                              "uniqueId": "u1"}},
    )
    assert (await driver.post(accept))[0] == 200
    data = json.loads(connector.uploads[consent["name"]])
    [me] = data["tables"]["participants"]
    assert (me["user_id"], me["department"]) == (ANNEGRET.key, "Legal")
    [ref] = data["tables"]["conversation_refs"]
    assert ref["key"] == ANNEGRET.key

    # 2. forget-me: a confirm card; "Yes" erases, and the answer replaces the card.
    await driver.say(ANNEGRET, "forget-me")
    question = connector.of_kind("reply")[-1]
    assert t("en", "privacy.forget_question") in question.all_text()
    confirm = action_data(question.card, "forget.confirm")
    assert await driver.submit(ANNEGRET, confirm, question.activity_id) == 201
    answer = connector.of_kind("update")[-1]
    assert answer.activity_id == question.activity_id
    assert t("en", "privacy.forgotten", cmd="") in answer.all_text()

    db = world.runtime.db
    assert leaks(await everything(db), [ANNEGRET.key, "Annegret", "Quist", "Legal",
                                        "MARKER-teams", "aad-boss"]) == []
    async with db.session() as session:
        assert list(await session.scalars(select(ConversationRef))) == []
        [gone] = list(await session.scalars(select(Participant)))
    assert gone.status == "forgotten"
