"""adapters/slack/payloads.py decodes Slack's bodies exactly as the standard library
(and so bolt) would, whatever the text: property tests against ``parse_qsl``."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.payloads import decode_form, parse, unquote_plus
from adapters.slack.shapes import problem
from tests.helpers.slack_requests import slash_command, survey_state, view_submission

texts = st.text(st.characters(codec="utf-8"), max_size=40)


def standard(body: str) -> dict[str, str]:
    return dict(parse_qsl(body, keep_blank_values=True))


@settings(max_examples=400)
@given(st.dictionaries(texts, texts, max_size=6))
def test_encoded_forms_decode_as_the_standard_library_does(fields: dict[str, str]) -> None:
    body = urlencode(fields)
    assert decode_form(body) == standard(body) == fields


@settings(max_examples=600)
@given(st.text(st.sampled_from("%+&=aZ09\\x.~-_ä€\n"), max_size=30)
       | st.text(st.characters(codec="utf-8"), max_size=30))
def test_any_text_decodes_as_the_standard_library_does(body: str) -> None:
    # Stray and broken escapes, backslashes, raw non-ASCII: the same answer.
    assert decode_form(body) == standard(body)


@pytest.mark.parametrize("text", ["%zz", "%4", "%E4%B8", "\\x41%41", "%C3%A4+%2B", "%00",
                                  "a%25b", "%%41", "+++", ""])
def test_awkward_escapes(text: str) -> None:
    assert unquote_plus(text) == standard(f"k={text}").get("k", "")


def test_a_survey_submission_is_the_payload_as_json() -> None:
    body = view_submission("U1", "survey", survey_state(role="mentor", goals="ä & <b> 100%"))
    payload = parse(body.encode(), "application/x-www-form-urlencoded")
    assert payload == json.loads(standard(body)["payload"])
    assert problem(payload) is None


def test_a_slash_command_is_its_fields_even_when_it_says_payload() -> None:
    # bolt's own parser takes any body containing "payload" for an interaction and
    # loses such a command; these are the form's fields, as sent.
    body = slash_command("U1", "payload please")
    fields = parse(body.encode(), "application/x-www-form-urlencoded")
    assert fields["text"] == "payload please" and problem(fields) is None


@pytest.mark.parametrize(("body", "content_type", "ok"), [
    ('{"type": "event_callback", "event": {"type": "message"}}', "application/json", True),
    ('{"type": "event_callback", "event": {}}', "application/json", False),
    ('{"type": "event_callback", "event": null}', "application/json", False),
    ('{"type": "block_actions", "user": {"id": "U1"}, "actions": []}', "application/json",
     False),
    ('{"type": "block_actions", "user": "U1", "actions": [{"action_id": "a"}]}',
     "application/json", False),
    ('{"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": 5}]}',
     "application/json", False),
    ('{"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "x", '
     '"state": {"values": {"b": {"a": {"type": "checkboxes", "selected_options": [{}]}}}}}}',
     "application/json", False),
    ('{"type": "shortcut", "callback_id": "x"}', "application/json", False),
    ('{"no": "type"}', "application/json", False),
    ("[1, 2]", "application/json", False),
    ("ssl_check=1&token=x", "application/x-www-form-urlencoded", True),
    ("text=signup", "application/x-www-form-urlencoded", False),
    ("payload=" + quote("[]"), "application/x-www-form-urlencoded", False),
])
def test_well_formed_is_what_slack_sends(body: str, content_type: str, ok: bool) -> None:
    assert (problem(parse(body.encode(), content_type)) is None) is ok


@pytest.mark.parametrize(("body", "content_type"), [
    ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
    ("[1, 2", "application/json"),
    ("{", "application/x-www-form-urlencoded"),
    ("[" * 100_000 + "]" * 100_000, "application/json"),
    ("payload=" + "%5B" * 100_000, "application/x-www-form-urlencoded"),
])
def test_a_broken_body_raises_value_error(body: str, content_type: str) -> None:
    with pytest.raises(ValueError):
        parse(body.encode(), content_type)


def test_a_body_that_is_not_utf8_raises_value_error() -> None:
    with pytest.raises(ValueError):
        parse(b"command=%2Ftandem&user_id=\xff\xfe", "application/x-www-form-urlencoded")
