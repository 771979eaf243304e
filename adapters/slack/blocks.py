"""Neutral messages and forms as Block Kit, and Block Kit form state back as values.

Text from the flows goes out as ``plain_text`` wherever Slack allows it, so what
people typed can never become a mention, a link or markup in a channel.
"""

from __future__ import annotations

from typing import Any

from conversations.events import FormValue
from conversations.forms import (
    Choice,
    DateInput,
    Field,
    Form,
    PeopleInput,
    TextInput,
    UserInput,
)
from conversations.messages import Button, Facts, Message, Paragraph

SECTION_TEXT_MAX = 3000
FIELDS_PER_SECTION = 10


def escape_mrkdwn(text: str) -> str:
    """Slack's control characters; after this, <!channel>, <@U…> and links are inert."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def fallback_text(message: Message) -> str:
    """The notification text; escaped, because Slack parses it for mentions."""
    return escape_mrkdwn(message.plain())[:3000]


def message_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if message.title:
        blocks.append({"type": "header", "text": plain(message.title, 150)})
    for block in message.blocks:
        if isinstance(block, Paragraph):
            blocks.append({"type": "section", "text": plain(block.text)})
        elif isinstance(block, Facts):
            blocks.extend(_facts(block))
    if message.buttons:
        blocks.append({"type": "actions", "elements": [_button(b) for b in message.buttons]})
    return blocks


def _facts(facts: Facts) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    for label, value in facts.items:
        fields.append({"type": "mrkdwn", "text": f"*{escape_mrkdwn(label)}*"})
        fields.append(plain(value, 2000))
    return [
        {"type": "section", "fields": fields[i : i + FIELDS_PER_SECTION]}
        for i in range(0, len(fields), FIELDS_PER_SECTION)
    ]


def _button(button: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": button.action_id,
        "text": plain(button.label, 75),
        "value": button.value or button.action_id,
    }
    if button.style:
        element["style"] = button.style
    return element


def options(choices: list[Choice]) -> list[dict[str, Any]]:
    """Choices as a select's options (the answer to a type-ahead search)."""
    return [_option(c.value, c.label) for c in choices]


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, 75), "value": value}


def _element(field: Field) -> dict[str, Any]:
    if isinstance(field, TextInput):
        element: dict[str, Any] = {
            "type": "plain_text_input", "action_id": field.id,
            "multiline": field.multiline, "max_length": field.max_length,
        }
        if field.initial:
            element["initial_value"] = field.initial
        return element
    if isinstance(field, DateInput):
        element = {"type": "datepicker", "action_id": field.id}
        if field.initial:
            element["initial_date"] = field.initial
        return element
    if isinstance(field, UserInput):
        element = {"type": "users_select", "action_id": field.id}
        if field.initial:
            element["initial_user"] = field.initial
        return element
    if isinstance(field, PeopleInput):
        element = {"type": "multi_users_select", "action_id": field.id,
                   "max_selected_items": field.most}
        if field.initial:
            element["initial_users"] = [c.value for c in field.initial]
        return element
    options = [_option(c.value, c.label) for c in field.choices]
    chosen = [o for o in options if o["value"] in field.initial]
    if field.search is not None:
        # Choices as typed: Slack asks the app (a signed block_suggestion, ``options``).
        element = {"type": "external_select", "action_id": field.id, "min_query_length": 1}
        if chosen:
            element["initial_option"] = chosen[0]
        return element
    kind = {
        ("dropdown", False): "static_select", ("dropdown", True): "multi_static_select",
        ("checkboxes", True): "checkboxes", ("checkboxes", False): "checkboxes",
        ("radio", False): "radio_buttons", ("radio", True): "checkboxes",
    }[(field.style, field.multi)]
    element = {"type": kind, "action_id": field.id, "options": options}
    if chosen:
        if kind in ("static_select", "radio_buttons"):
            element["initial_option"] = chosen[0]
        else:
            element["initial_options"] = chosen
    return element


def modal(form: Form, values: dict[str, FormValue] | None = None) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if form.intro:
        blocks.append({"type": "section", "text": plain(form.intro)})
    for field in form.fields:
        block: dict[str, Any] = {
            "type": "input", "block_id": field.id, "label": plain(field.label, 2000),
            "element": _element(field), "optional": not field.required,
        }
        if field.hint:
            block["hint"] = plain(field.hint, 2000)
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": form.id,
        "title": plain(form.title, 24),
        "submit": plain(form.submit_label, 24),
        "close": plain(form.cancel_label, 24),
        "private_metadata": form.context[:3000],
        "blocks": blocks,
    }


def notice_modal(title: str, message: Message, close_label: str) -> dict[str, Any]:
    """A modal that only shows a message: a form's answer when it cannot just close."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain(close_label, 24),
        "blocks": [b for b in message_blocks(message) if b["type"] != "actions"],
    }


def form_values(view: dict[str, Any]) -> dict[str, FormValue]:
    """The values of a submitted modal, keyed by field id, whatever element it was."""
    values: dict[str, FormValue] = {}
    state = ((view or {}).get("state") or {}).get("values") or {}
    for block_id, actions in state.items():
        if not isinstance(actions, dict):
            continue
        for action in actions.values():
            if isinstance(action, dict):
                values[block_id] = _element_value(action)
    return values


def _element_value(action: dict[str, Any]) -> FormValue:
    kind = action.get("type")
    if kind in ("multi_static_select", "checkboxes", "multi_users_select"):
        selected = action.get("selected_options") or action.get("selected_users") or []
        return [o["value"] if isinstance(o, dict) else str(o) for o in selected]
    if kind in ("static_select", "radio_buttons", "external_select"):
        option = action.get("selected_option")
        return option.get("value") if isinstance(option, dict) else None
    if kind == "users_select":
        return action.get("selected_user")
    if kind == "datepicker":
        day = action.get("selected_date")
        return day if isinstance(day, str) else None
    value = action.get("value")
    return value if isinstance(value, str) else None
