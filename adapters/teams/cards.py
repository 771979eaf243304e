"""Neutral messages and forms as Adaptive Cards (schema 1.5), and card submissions back.

Who sees what: every card goes to one person in their personal chat with the
bot (or, for announcements, to a channel). All text from the flows is put in
``TextRun`` elements, which Adaptive Cards never read as Markdown, so nothing
a person typed can become a link, a mention or formatting when others see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conversations.events import FormValue
from conversations.forms import (
    Choice,
    DateInput,
    Field,
    Form,
    PeopleInput,
    SelectInput,
    TextInput,
    UserInput,
)
from conversations.messages import Button, Facts, Message, Paragraph

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
#: Keys in a submit's ``data`` that are ours, not a field's.
FORM_KEY = "tandem_form"
MULTI_KEY = "tandem_multi"
CANCEL_KEY = "tandem_cancel"
ACTION_KEY = "tandem_action"
CONTEXT_KEY = "tandem_context"
VALUE_KEY = "value"
RESERVED = frozenset({FORM_KEY, MULTI_KEY, CANCEL_KEY, ACTION_KEY, CONTEXT_KEY, "msteams"})
PEOPLE_DATASET = "graph.microsoft.com/users"
SEARCH_RESPONSE = "application/vnd.microsoft.search.searchResponse"
TEXT_MAX = 4000


def _clip(text: str, limit: int = TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run(text: str, **style: Any) -> dict[str, Any]:
    """A ``TextRun``: shown as typed, never parsed as Markdown."""
    return {"type": "TextRun", "text": _clip(text), **style}


def rich(*runs: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(runs), **props}


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
    }
    if actions:
        content["actions"] = actions
    # Cards use the full width of the chat in Teams.
    content["msteams"] = {"width": "Full"}
    return content


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": content}


def message_body(message: Message) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    if message.title:
        body.append(rich(run(message.title, size="Large", weight="Bolder")))
    for block in message.blocks:
        if isinstance(block, Paragraph):
            body.append(rich(run(block.text)))
        elif isinstance(block, Facts):
            body.append(
                {
                    "type": "Container",
                    "items": [
                        rich(run(f"{label}: ", weight="Bolder"), run(value), spacing="Small")
                        for label, value in block.items
                    ],
                }
            )
    return body


def button_action(button: Button) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": _clip(button.label, 100),
        "data": {ACTION_KEY: button.action_id, VALUE_KEY: button.value},
    }
    if button.style:
        action["style"] = "positive" if button.style == "primary" else "destructive"
    return action


def message_card(message: Message) -> dict[str, Any]:
    return card(message_body(message), [button_action(b) for b in message.buttons])


def _joined(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _people_picker(field: UserInput | PeopleInput, value: str) -> dict[str, Any]:
    """Teams' people picker (a ChoiceSet fed by the Graph users dataset); several
    people for a ``PeopleInput``, their ids comma-separated on the wire."""
    names = {c.value: c.label for c in field.initial} if isinstance(field, PeopleInput) else {}
    chosen = [v for v in value.split(",") if v] if value else []
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "style": "filtered",
        "choices": [{"title": _clip(names.get(v, v), 200), "value": v} for v in chosen],
        "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET},
        # Hosts without the people picker (the Emulator, older clients) show a text field.
        "fallback": {"type": "Input.Text", "id": field.id, "label": _clip(field.label, 200)},
    }
    if isinstance(field, PeopleInput):
        element["isMultiSelect"] = True
    return element


def _input(field: Field, value: str, error: str | None) -> dict[str, Any]:
    element: dict[str, Any]
    if isinstance(field, TextInput):
        element = {
            "type": "Input.Text",
            "maxLength": field.max_length,
            "isMultiline": field.multiline,
        }
    elif isinstance(field, DateInput):
        element = {"type": "Input.Date"}
        value = value or field.initial
    elif isinstance(field, UserInput | PeopleInput):
        element = _people_picker(field, value)
    elif field.search is not None:
        # A type-ahead: Teams asks the bot for choices as typed (``application/search``).
        element = {
            "type": "Input.ChoiceSet",
            "style": "filtered",
            "choices": [{"title": _clip(c.label, 200), "value": c.value} for c in field.choices],
            "choices.data": {"type": "Data.Query", "dataset": field.search},
        }
    else:
        element = {
            "type": "Input.ChoiceSet",
            "choices": [{"title": _clip(c.label, 200), "value": c.value} for c in field.choices],
            "isMultiSelect": field.multi,
            "style": "compact" if field.style == "dropdown" else "expanded",
        }
    element.update(id=field.id, label=_clip(field.label, 200), isRequired=field.required)
    if value:
        element["value"] = value
    if error:
        element["errorMessage"] = _clip(error, 500)
    return element


def form_card(
    form: Form,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The form as a card; after a failed submit, with the values kept and an
    error under each wrong field (and as the field's ``errorMessage``)."""
    errors = errors or {}
    body: list[dict[str, Any]] = [rich(run(form.title, size="Large", weight="Bolder"))]
    if form.intro:
        body.append(rich(run(form.intro)))
    for field in form.fields:
        if values is not None and field.id in values:
            value = _joined(values[field.id])
        elif isinstance(field, SelectInput):
            value = _joined(field.initial)
        elif isinstance(field, PeopleInput):
            value = _joined([c.value for c in field.initial])
        else:
            value = field.initial or ""
        error = errors.get(field.id)
        body.append(_input(field, value, error))
        if field.hint:
            body.append(rich(run(field.hint, isSubtle=True, size="Small"), spacing="None"))
        if error:
            body.append(rich(run(error, color="Attention", weight="Bolder"), spacing="Small"))
    multi = [f.id for f in form.fields
             if (isinstance(f, SelectInput) and f.multi) or isinstance(f, PeopleInput)]
    actions = [
        {
            "type": "Action.Submit",
            "title": _clip(form.submit_label, 100),
            "style": "positive",
            "data": {FORM_KEY: form.id, MULTI_KEY: multi, CONTEXT_KEY: form.context},
        },
        {
            "type": "Action.Submit",
            "title": _clip(form.cancel_label, 100),
            "associatedInputs": "none",
            "data": {CANCEL_KEY: form.id},
        },
    ]
    return card(body, actions)


def search_response(choices: list[Choice]) -> dict[str, Any]:
    """The answer to a type-ahead search (the invoke's body)."""
    return {"statusCode": 200, "type": SEARCH_RESPONSE,
            "value": {"results": [{"title": _clip(c.label, 200), "value": c.value}
                                  for c in choices]}}


def submitted_values(data: Mapping[str, Any]) -> dict[str, FormValue]:
    """A card submission's field values: multi-selects (comma-separated strings
    on the wire) as lists, empty answers as None."""
    multi = data.get(MULTI_KEY)
    multi_ids = {str(m) for m in multi} if isinstance(multi, list) else set()
    values: dict[str, FormValue] = {}
    for key, raw in data.items():
        if key in RESERVED or not isinstance(key, str):
            continue
        if isinstance(raw, list):
            items = [str(v) for v in raw if v is not None and str(v).strip()]
        elif raw is None:
            items = []
        else:
            text = str(raw)
            if key in multi_ids:
                items = [p.strip() for p in text.split(",") if p.strip()]
            else:
                values[key] = text if text.strip() else None
                continue
        values[key] = items if key in multi_ids else (items[0] if items else None)
    return values
