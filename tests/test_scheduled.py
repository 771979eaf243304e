"""The registry of scheduled kinds is the one declaration the rest follows:
app.yaml's switches, the router's buttons, and delivery keys that never change."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.config import load_config, message_switches
from bot.core.errors import ConfigError
from bot.core.i18n import LANGUAGES, catalogue
from conversations.router import BUTTONS
from conversations.scheduled import KINDS, SWITCHES
from tests.helpers import ROOT

#: The delivery keys every running database has recorded: changing one would send
#: that kind again to everyone who already got it.
KEYS = {
    "scheduled_announcement": "scheduled-announcement:{announcement}",
    "signup_opened": "signup-opened:{round}",
    "signup_reminder": "signup-reminder:{round}",
    "signup_closed": "signup-closed:{round}",
    "kickoff": "kickoff:{tandem}",
    "nudge": "nudge:{tandem}:{period}",
    "meeting_checkin": "meeting-checkin:{tandem}:{period}",
    "stalled": "stalled:{tandem}:{since}",
    "reminder": "reminder:{tandem}:{period}",
    "pulse": "pulse:{round}:{person}",
    "evaluation": "evaluation:{round}:{person}",
    "wrapup": "wrapup:{round}",
    "fit": "fit:{tandem}:{person}",
    "waiting": "waiting:{round}:{n}",
    "directory_sync": "directory-sync:{day}",
    "mentor_tip": "mentor-tip:{round}:{person}:{period}",
    "mentors_channel": "mentors-channel:{round}:{person}",
    "highlights": "highlights:{round}",
}


def test_delivery_keys_stay_what_databases_know() -> None:
    assert {kind.name: kind.key for kind in KINDS} == KEYS


def test_app_yaml_switches_are_the_registry_switches() -> None:
    assert set(message_switches()) == set(SWITCHES)
    for language in LANGUAGES:
        assert {f"switch.{name}" for name in SWITCHES} <= set(catalogue(language))


def test_every_scheduled_button_is_answered_by_its_kind_handler() -> None:
    declared = [spec for kind in KINDS for spec in kind.buttons]
    assert declared, "nudges, pulse and evaluation carry buttons"
    for spec in declared:
        if spec.handler is None:
            assert spec.action.startswith("command:")
        else:
            assert BUTTONS[spec.action] is spec.handler
        for language in LANGUAGES:
            assert spec.label in catalogue(language)


def test_every_switch_can_be_turned_off_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    data["rhythm"]["messages"] = dict.fromkeys(SWITCHES, False)
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data))
    rhythm = load_config(path).rhythm
    assert not any(rhythm.sends(switch) for switch in SWITCHES)
    data["rhythm"]["messages"] = {"kikoff": False}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert "kikoff" in str(refused.value) and "kickoff" in str(refused.value)
