"""Requests signed the way Slack signs them (v0 HMAC-SHA256 over "v0:ts:body")."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "test-signing-secret"
_triggers = itertools.count(1)


def _trigger() -> str:
    """Slack gives every interaction its own trigger id (redeliveries share it)."""
    return f"{next(_triggers)}.1395872398.9a2d7e33b1e5b8f1d0c0a16c1ab1e4e2"


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slash_command(user_id: str, text: str, *, team_id: str = "T1", response_url: str = "",
                  trigger_id: str = "13345224609.738474920.8088930838d88f008e0") -> str:
    return urlencode({
        "token": "deprecated", "team_id": team_id, "team_domain": "acme",
        "channel_id": "C0GENERAL", "channel_name": "general", "user_id": user_id,
        "user_name": user_id.lower(), "command": "/tandem", "text": text,
        "api_app_id": "A0TANDEM", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": trigger_id,
    })


def interactive(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def view_submission(user_id: str, callback_id: str, values: dict[str, dict[str, Any]],
                    *, team_id: str = "T1", private_metadata: str = "") -> str:
    """``values``: block id -> the element state Slack sends (type plus value/selection)."""
    return interactive({
        "type": "view_submission",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": "A0TANDEM", "token": "deprecated",
        "trigger_id": _trigger(),
        "view": {
            "id": "V0SURVEY", "team_id": team_id, "type": "modal", "callback_id": callback_id,
            "private_metadata": private_metadata, "hash": "156772938.1827394",
            "state": {"values": {
                block: {block: state} for block, state in values.items()
            }},
        },
        "response_urls": [],
    })


def block_action(user_id: str, action_id: str, value: str = "", *, team_id: str = "T1",
                 response_url: str = "") -> str:
    return interactive({
        "type": "block_actions",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": "A0TANDEM", "token": "deprecated",
        "trigger_id": _trigger(),
        "container": {"type": "message", "message_ts": "1.0001", "channel_id": "D0BOT",
                      "is_ephemeral": True},
        "channel": {"id": "D0BOT", "name": "directmessage"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "b1", "type": "button",
                     "value": value, "action_ts": "1.0002",
                     "text": {"type": "plain_text", "text": "x"}}],
    })


def evaluation_state(**answers: Any) -> dict[str, dict[str, Any]]:
    """Slack element states for the closing evaluation's answers as plain values."""
    kinds = {"rating": "radio_buttons", "valuable": "plain_text_input",
             "recommend": "radio_buttons", "continue": "radio_buttons",
             "highlight": "plain_text_input", "highlight_name": "radio_buttons"}
    return element_states(kinds, answers)


def survey_state(**answers: Any) -> dict[str, dict[str, Any]]:
    """Slack element states for survey answers given as plain values."""
    kinds = {
        "role": "radio_buttons", "department": "static_select", "manager": "users_select",
        "topics": "multi_static_select", "goals": "plain_text_input",
        "languages": "multi_static_select", "meeting_mode": "static_select",
        "location": "plain_text_input", "capacity": "static_select", "consent": "checkboxes",
        "wishes": "multi_users_select", "intro": "plain_text_input",
    }
    return element_states(kinds, answers)


def element_states(kinds: dict[str, str], answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each field's element state as Slack sends it, by the element's type."""
    state: dict[str, dict[str, Any]] = {}
    for name, kind in kinds.items():
        value = answers.get(name)
        if kind in ("multi_static_select", "checkboxes"):
            state[name] = {"type": kind, "selected_options": [
                {"value": v, "text": {"type": "plain_text", "text": v}} for v in (value or [])
            ]}
        elif kind in ("static_select", "radio_buttons"):
            state[name] = {"type": kind, "selected_option": (
                {"value": value, "text": {"type": "plain_text", "text": value}}
                if value is not None else None)}
        elif kind == "users_select":
            state[name] = {"type": kind, "selected_user": value}
        elif kind == "multi_users_select":
            state[name] = {"type": kind, "selected_users": list(value or [])}
        else:
            state[name] = {"type": kind, "value": value}
    return state

GOOD = {
    "role": "mentor", "department": "Marketing", "manager": "U0BOSS",
    "topics": ["ai_tools", "social_media"], "goals": "Show <!channel> how we use TikTok",
    "languages": ["de", "en"], "meeting_mode": "remote", "location": None,
    "capacity": None, "consent": ["yes"],
}
