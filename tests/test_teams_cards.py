"""Adaptive Cards from neutral messages and forms, submissions back, and who sent what."""

from __future__ import annotations

from botbuilder.schema import Activity

from adapters.teams.cards import (
    ACTION_KEY,
    CONTEXT_KEY,
    FORM_KEY,
    MULTI_KEY,
    form_card,
    message_card,
    submitted_values,
)
from adapters.teams.identity import actor_of, command_text
from conversations.forms import Choice, Form, SelectInput, TextInput, UserInput
from conversations.messages import Button, Facts, Message, Paragraph

FORM = Form(
    id="survey", title="Sign-up", submit_label="Go", cancel_label="Cancel", intro="Hi",
    fields=(
        SelectInput("role", "Role", (Choice("a", "A"), Choice("b", "B")), style="radio"),
        SelectInput("topics", "Topics", (Choice("x", "X"), Choice("y", "Y")), multi=True,
                    initial=("x",)),
        TextInput("goals", "Goals", multiline=True, max_length=50, required=False, hint="opt"),
        UserInput("manager", "Manager", initial="aad-boss"),
    ),
)


def by_id(card: dict) -> dict[str, dict]:
    return {e["id"]: e for e in card["body"] if "id" in e}


def test_form_card_maps_every_kind_of_field() -> None:
    card = form_card(FORM)
    fields = by_id(card)
    assert fields["role"]["style"] == "expanded" and fields["role"]["isMultiSelect"] is False
    assert fields["topics"]["isMultiSelect"] is True and fields["topics"]["value"] == "x"
    assert fields["goals"] | {"maxLength": 50, "isMultiline": True, "isRequired": False} == (
        fields["goals"]
    )
    manager = fields["manager"]
    assert manager["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert manager["value"] == "aad-boss" and manager["fallback"]["type"] == "Input.Text"
    submit = card["actions"][0]["data"]
    assert submit == {FORM_KEY: "survey", MULTI_KEY: ["topics"], CONTEXT_KEY: ""}
    assert card["actions"][1]["associatedInputs"] == "none"


def test_invalid_form_keeps_values_and_shows_errors() -> None:
    card = form_card(FORM, {"role": "Pick one"}, {"topics": ["x", "y"], "goals": "mine"})
    fields = by_id(card)
    assert fields["topics"]["value"] == "x,y" and fields["goals"]["value"] == "mine"
    assert fields["role"]["errorMessage"] == "Pick one"
    attention = [r for b in card["body"] if b["type"] == "RichTextBlock"
                 for r in b["inlines"] if r.get("color") == "Attention"]
    assert [r["text"] for r in attention] == ["Pick one"]


def test_submissions_split_multi_selects_and_drop_our_keys() -> None:
    data = {FORM_KEY: "survey", MULTI_KEY: ["topics", "consent"], "topics": "x, y,",
            "consent": "", "role": "a", "goals": "  ", "msteams": {"x": 1}}
    assert submitted_values(data) == {"topics": ["x", "y"], "consent": [], "role": "a",
                                      "goals": None}


def test_text_is_never_markdown_and_buttons_carry_their_action() -> None:
    message = Message(
        title="**T**",
        blocks=(Paragraph("[x](http://evil) <at>all</at>"), Facts((("Goal", "_g_"),))),
        buttons=(Button("leave.confirm", "Yes", style="danger"), Button("command:signup", "Go",
                                                                        style="primary")),
    )
    card = message_card(message)
    runs = [r for b in card["body"] for item in b.get("items", [b]) for r in item["inlines"]]
    assert all(r["type"] == "TextRun" for r in runs)
    assert "[x](http://evil) <at>all</at>" in [r["text"] for r in runs]
    assert not any(b["type"] == "TextBlock" for b in card["body"])
    first, second = card["actions"]
    assert first["data"] == {ACTION_KEY: "leave.confirm", "value": ""}
    assert (first["style"], second["style"]) == ("destructive", "positive")


def test_actor_and_command_text_from_an_activity() -> None:
    activity = Activity().deserialize({
        "type": "message", "text": "<at>Tandem Bot</at>  Anmelden&nbsp;",
        "from": {"id": "29:x", "name": "Eva", "aadObjectId": "aad-eva"},
        "recipient": {"id": "28:bot", "name": "Tandem Bot"},
        "conversation": {"id": "19:c;messageid=1", "conversationType": "channel",
                         "tenantId": "t-conv"},
        "entities": [{"type": "mention", "text": "<at>Tandem Bot</at>",
                      "mentioned": {"id": "28:bot", "name": "Tandem Bot"}}],
        "locale": "de-AT", "localTimezone": "Europe/Vienna",
    })
    assert command_text(activity) == "Anmelden"
    actor = actor_of(activity)
    assert (actor.user_id, actor.workspace_id, actor.display_name) == ("aad-eva", "t-conv", "Eva")
    assert (actor.locale, actor.timezone, actor.platform) == ("de-AT", "Europe/Vienna", "teams")
    emulator = Activity().deserialize({"type": "message", "from": {"id": "user-1"},
                                       "conversation": {"id": "c1"}})
    assert (actor_of(emulator).user_id, actor_of(emulator).workspace_id) == ("user-1", "default")
