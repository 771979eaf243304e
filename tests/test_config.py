"""app.yaml validation: every problem names the file, the field and what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.config import load_config
from bot.core.errors import ConfigError
from bot.core.settings import Settings
from bot.platforms import settings_from_env
from tests.helpers import ROOT
from tests.helpers.cli import write


def test_shipped_app_yaml_is_valid() -> None:
    config = load_config(ROOT / "app.yaml")
    assert config.default_language in ("de", "en")
    assert len(config.survey.topics) >= 8
    assert all(set(tp.labels) == {"de", "en"} for tp in config.survey.topics)
    assert config.round.signup_opens.tzinfo is not None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"programme.default_language": "fr"}, "programme.default_language", "one of de, en"),
        ({"programme.timezone": "Mars/Olympus"}, "programme.timezone", "not a known time zone"),
        ({"programme.name": ...}, "programme.name", "is missing"),
        ({"round.signup_closes": "2026-10-01"}, "round.signup_closes", "after signup_opens"),
        ({"round.starts": "someday"}, "round.starts", "must be a date"),
        ({"round.length_months": 0}, "round.length_months", "between 1 and 24"),
        ({"round.length_months": "six"}, "round.length_months", "a whole number"),
        ({"survey.topics": []}, "survey.topics", "at least one topic"),
        ({"survey.questions": ["role", "topics", "shoe_size", "languages"]},
         "survey.questions[2]", "unknown question 'shoe_size'"),
        ({"survey.questions": ["role", "languages"]}, "survey.questions", "include 'topics'"),
        ({"survey.languages": ["german"]}, "survey.languages[0]", "two-letter code"),
        ({"matching.weights": {"topics": -1}}, "matching.weights.topics", "not be negative"),
        ({"matching.fairness": "yes"}, "matching.fairness", "true or false"),
        ({"coordinators.slack": "U1"}, "coordinators.slack", "must be a list"),
    ],
)
def test_problems_name_file_field_and_problem(
    tmp_path: Path, change: dict[str, Any], field: str, words: str
) -> None:
    path = write(tmp_path, change)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    assert caught.value.field == field
    assert words in caught.value.problem


def test_topic_without_german_label(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    del data["survey"]["topics"][1]["de"]
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.field == "survey.topics[1].de"


def test_broken_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line \d+: is not valid YAML"):
        load_config(write(tmp_path, text="programme:\n  name: [unclosed\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_check_config_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, {"programme.default_language": "fr"})
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config"],
        env={"TANDEM_CONFIG": str(path), "PATH": ""}, capture_output=True, text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "programme.default_language" in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_ok() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config"],
        env={"TANDEM_CONFIG": str(ROOT / "app.yaml")}, capture_output=True, text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_settings_from_environment_keep_secrets_out_of_repr() -> None:
    settings = settings_from_env({
        "SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_SIGNING_SECRET": "shh",
        "SLACK_API_URL": "http://127.0.0.1:9/api", "PORT": "8080",
    })
    slack = settings.platforms["slack"]
    assert slack.api_url == "http://127.0.0.1:9/api/"
    assert settings.port == 8080 and slack.enabled
    assert "secret" not in repr(settings) and "shh" not in repr(settings)
    with pytest.raises(ConfigError, match="PORT"):
        Settings.from_env({"PORT": "eighty"})


@pytest.mark.parametrize(("command", "variables", "missing"), [
    ("check-config", {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
    ("check-config", {"SLACK_SIGNING_SECRET": "shh"}, "SLACK_BOT_TOKEN"),
    ("check-config", {"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000000"},
     "MICROSOFT_APP_PASSWORD"),
    ("check-config", {"MICROSOFT_APP_TENANT_ID": "contoso"}, "MICROSOFT_APP_ID"),
    ("serve", {"SLACK_BOT_TOKEN": "xoxb-1", "PORT": "1"}, "SLACK_SIGNING_SECRET"),
])
def test_a_half_configured_platform_is_refused_naming_what_is_missing(
    command: str, variables: dict[str, str], missing: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", command],
        env={"TANDEM_CONFIG": str(ROOT / "app.yaml"), **variables,
             "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/t.db"},
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert missing in result.stderr and "half-configured" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "t.db").exists()


def test_check_config_names_the_configured_platforms() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config"],
        env={"TANDEM_CONFIG": str(ROOT / "app.yaml"), "SLACK_BOT_TOKEN": "xoxb-1",
             "SLACK_SIGNING_SECRET": "shh"},
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "platforms: Slack" in result.stdout and "shh" not in result.stdout
