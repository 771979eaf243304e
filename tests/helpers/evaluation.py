"""The closing evaluation as people fill it in, on Slack and on Teams: open the form
from the invitation, send it with answers (and a highlight, where given)."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.bot_connector import Call, TeamsUser, TeamsWorld
from tests.fakes.slack_api import FakeSlack
from tests.helpers.meetings_teams import actions
from tests.helpers.meetings_teams import post as teams_post
from tests.helpers.roundlife import text_of
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import block_action, evaluation_state, view_submission
from tests.helpers.teams import idle, submit_data

#: What everyone answers besides the highlight.
ANSWERS = {"rating": "5", "valuable": "", "recommend": "yes", "continue": "new"}


def slack_posts(slack: FakeSlack, channel: str, marker: str = "") -> list[dict[str, Any]]:
    """Messages posted to ``channel`` (a user id means the DM), with ``marker`` in them."""
    return [c for c in slack.of("chat.postMessage")
            if slack.channel_of(c["channel"]) == channel and marker in text_of(c)]


async def slack_open(server: Served, slack: FakeSlack, user: str, round_id: str
                     ) -> dict[str, Any]:
    """Press "Give feedback" as ``user``; the modal Slack is asked to open."""
    opened = len(slack.of("views.open"))
    assert (await post(server, block_action(user, "evaluation.open", round_id)))[0] == 200
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    return view if isinstance(view, dict) else json.loads(view)


async def slack_evaluate(server: Served, user: str, round_id: str, **answers: Any
                         ) -> dict[str, Any]:
    """Send the evaluation modal as ``user``; Slack's answer (errors, or nothing)."""
    status, body = await post(server, view_submission(
        user, "evaluation", evaluation_state(**{**ANSWERS, **answers}),
        private_metadata=round_id))
    assert status == 200
    assert await server.runtime.background.idle(60)
    return body if isinstance(body, dict) else {}


async def teams_open(world: TeamsWorld, user: TeamsUser) -> Call:
    """Press "Give feedback" on the newest invitation in ``user``'s chat; the form card."""
    invite = next(c for c in reversed(world.connector.messages(user.chat))
                  if actions(c, "evaluation.open"))
    before = len(world.connector.calls)
    await teams_post(world, user, value=actions(invite, "evaluation.open")[0],
                     replyToId=invite.activity_id)
    await idle(world)
    [form] = [c for c in world.connector.calls[before:] if c.conversation_id == user.chat]
    return form


async def teams_evaluate(world: TeamsWorld, user: TeamsUser, **answers: str) -> Call:
    """Open the evaluation and send it with ``answers``; what replaced the form card."""
    form = await teams_open(world, user)
    assert form.card is not None
    before = len(world.connector.calls)
    await teams_post(world, user, value={**submit_data(form.card), **ANSWERS, **answers},
                     replyToId=form.activity_id)
    assert await world.runtime.background.idle(60)
    await idle(world)
    [answer] = [c for c in world.connector.calls[before:]
                if c.kind == "update" and c.activity_id == form.activity_id]
    return answer
