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
from tests.helpers.cli import tandem, write


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
        ({"survey.topics": []}, "survey.topics", "at least one"),
        ({"survey.questions": ["role", "topics", "shoe_size", "languages"]},
         "survey.questions[2]", "not 'shoe_size'"),
        ({"survey.questions": ["role", "languages"]}, "survey.questions", "include 'topics'"),
        ({"survey.languages": ["german"]}, "survey.languages[0]", "two-letter code"),
        ({"matching.weights": {"topics": -1}}, "matching.weights.topics", "not be negative"),
        ({"matching.fairness": "yes"}, "matching.fairness", "true or false"),
        ({"coordinators.slack": "U1"}, "coordinators.slack", "must be a list"),
        ({"meetings.working_hours_end": "08:00"}, "meetings.working_hours_end",
         "not after working_hours_start"),
        ({"meetings.length_minutes": 240, "meetings.working_hours_end": "10:00"},
         "meetings.length_minutes", "does not fit"),
        ({"meetings.country": "Germany"}, "meetings.country", "two-letter country code"),
        ({"meetings.country": "XQ"}, "meetings.country", "no known public holidays"),
        ({"meetings.region": "ZZ"}, "meetings.region", "no known public holidays"),
        ({"meetings.working_days": ["monday", "funday"]}, "meetings.working_days[1]",
         "must be one of"),
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


#: (what app.yaml says, the mistake, the key named, the exact problem)
MISTAKES = [
    ("signup_closes: 2027-01-15", "signup_closes: 2027-02-30", "round.signup_closes",
     "2027-02-30 is not a date: February 2027 has no day 30"),
    ("starts: 2027-02-01", "starts: 2027-13-01", "round.starts",
     "2027-13-01 is not a date: there is no month 13"),
    ("\nmatching:", "\nmatchng:", "matchng", "is not a known key; did you mean 'matching'?"),
    ("nudge_weekday: tuesday", "nudge_wekday: tuesday", "rhythm.nudge_wekday",
     "is not a known key; did you mean 'nudge_weekday'?"),
    ("length_months: 6", "lenght_months: 6", "round.lenght_months",
     "is not a known key; did you mean 'length_months'?"),
    ("weights: {topics: 10", "weights: {topic: 10", "matching.weights.topic",
     "is not a known key; did you mean 'topics'?"),
    ("signup_closes: 2027-01-15", "signup_closes: 2027-02-10", "round.signup_closes",
     "2027-02-10 is not before starts (2027-02-01): sign-up must close before the round starts"),
    ("length_months: 6", "length_months: six", "round.length_months",
     "must be a whole number, not 'six'"),
    ("fairness: false", "fairness: maybe", "matching.fairness",
     "must be true or false, not 'maybe'"),
    ("timezone: Europe/Berlin", "timezone: Europe/Berln", "programme.timezone",
     "'Europe/Berln' is not a known time zone; did you mean 'Europe/Berlin'?"),
    ("nudge_weekday: tuesday", "nudge_weekday: tuesdy", "rhythm.nudge_weekday",
     "must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday, "
     "not 'tuesdy'; did you mean 'tuesday'?"),
    ('nudge_time: "10:00"', "nudge_time: 25:00", "rhythm.nudge_time",
     "must be a time like \"10:00\", not '25:00'"),
    ("slack: [U0COORD01]", "slack: U0COORD01", "coordinators.slack",
     "must be a list, not 'U0COORD01'"),
    ("reporting_line_depth: 2", "reporting_line_depth: -1", "matching.reporting_line_depth",
     "must be between 0 and 20, not -1"),
    ("- id: ai_tools", "- id: social_media", "survey.topics[1].id",
     "'social_media' is used twice"),
    ("    pulse: true", "    puls: true", "rhythm.messages.puls",
     "is not a known key; did you mean 'pulse'?"),
    ("slack: [U0COORD01]", "slak: [U0COORD01]", "coordinators.slak",
     "is not a platform; did you mean 'slack'? (the platforms: local, slack, teams)"),
    ("teams: []                     # Teams channel", "temas: []  # Teams channel",
     "channels.temas",
     "is not a platform; did you mean 'teams'? (the platforms: local, slack, teams)"),
]


def _mistake(tmp_path: Path, before: str, after: str) -> tuple[Path, int]:
    """The shipped app.yaml with one mistake made, and the line it is on."""
    shipped = (ROOT / "app.yaml").read_text(encoding="utf-8")
    assert before in shipped
    path = write(tmp_path, text=shipped.replace(before, after, 1))
    return path, shipped[:shipped.index(before)].count("\n") + 1 + after.startswith("\n")


@pytest.mark.parametrize(("before", "after", "field", "problem"), MISTAKES,
                         ids=[m[1].strip() for m in MISTAKES])
def test_typical_mistakes_get_line_key_and_precise_problem(
    tmp_path: Path, before: str, after: str, field: str, problem: str
) -> None:
    path, line = _mistake(tmp_path, before, after)
    result = tandem("check-config", env={"TANDEM_CONFIG": str(path)})
    assert result.returncode == 2
    assert result.stderr == f"configuration error: {path}, line {line}: {field}: {problem}\n"
    assert result.stdout == ""


#: A handful of the mistakes above, told in German: (before, after, key, problem)
GERMAN_MISTAKES = [
    ("signup_closes: 2027-01-15", "signup_closes: 2027-02-30", "round.signup_closes",
     "2027-02-30 ist kein Datum: der Februar 2027 hat keinen 30. Tag"),
    ("starts: 2027-02-01", "starts: 2027-13-01", "round.starts",
     "2027-13-01 ist kein Datum: es gibt keinen Monat 13"),
    ("\nmatching:", "\nmatchng:", "matchng",
     "ist kein bekannter Schlüssel; meinten Sie 'matching'?"),
    ("signup_closes: 2027-01-15", "signup_closes: 2027-02-10", "round.signup_closes",
     "2027-02-10 liegt nicht vor starts (2027-02-01): die Anmeldung muss vor dem Start der "
     "Runde schließen"),
    ("length_months: 6", "length_months: six", "round.length_months",
     "muss eine ganze Zahl sein, nicht 'six'"),
    ("timezone: Europe/Berlin", "timezone: Europe/Berln", "programme.timezone",
     "'Europe/Berln' ist keine bekannte Zeitzone; meinten Sie 'Europe/Berlin'?"),
    ("nudge_weekday: tuesday", "nudge_weekday: tuesdy", "rhythm.nudge_weekday",
     "muss eins von monday, tuesday, wednesday, thursday, friday, saturday, sunday sein, "
     "nicht 'tuesdy'; meinten Sie 'tuesday'?"),
    ("slack: [U0COORD01]", "slak: [U0COORD01]", "coordinators.slak",
     "ist keine Plattform; meinten Sie 'slack'? (die Plattformen: local, slack, teams)"),
]


@pytest.mark.parametrize(("before", "after", "field", "problem"), GERMAN_MISTAKES,
                         ids=[m[1].strip() for m in GERMAN_MISTAKES])
def test_typical_mistakes_in_german_keep_line_key_and_value(
    tmp_path: Path, before: str, after: str, field: str, problem: str
) -> None:
    from bot.core.errors import user_text
    from bot.platforms import load_app_config

    path, line = _mistake(tmp_path, before, after)
    with pytest.raises(ConfigError) as caught:
        load_app_config(path)
    assert user_text(caught.value, "de", operator=True) == (
        f"{path}, Zeile {line}: {field}: {problem}")


def test_the_cli_tells_configuration_problems_in_its_language(tmp_path: Path) -> None:
    path = write(tmp_path, text=(ROOT / "app.yaml").read_text(encoding="utf-8").replace(
        "length_months: 6", "lenght_months: 6"))
    german = tandem("--language", "de", "check-config", env={"TANDEM_CONFIG": str(path)})
    assert german.returncode == 2
    assert german.stderr.startswith(f"Konfigurationsfehler: {path}, Zeile ")
    assert german.stderr.endswith(": round.lenght_months: ist kein bekannter Schlüssel; "
                                  "meinten Sie 'length_months'?\n")
    half = tandem("--language", "de", "check-config", env={"SLACK_BOT_TOKEN": "xoxb-1",
                                                            "SLACK_SIGNING_SECRET": "",
                                                            "SLACK_APP_TOKEN": ""})
    assert half.returncode == 2, half.stderr
    assert half.stderr.startswith("Konfigurationsfehler: Umgebung: platforms: Slack ist halb "
                                  "eingerichtet: gesetzt: SLACK_BOT_TOKEN; es fehlt: "
                                  "SLACK_SIGNING_SECRET")


def test_a_key_given_twice_is_an_error_not_silently_the_last(tmp_path: Path) -> None:
    path, line = _mistake(tmp_path, "length_months: 6", "length_months: 6\n  length_months: 7")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}, line {line + 1}: round.length_months: is given twice (first on line "
        f"{line}): YAML would silently keep only this one")


def test_every_command_reports_a_broken_app_yaml_with_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, text=(ROOT / "app.yaml").read_text(encoding="utf-8").replace(
        "signup_closes: 2027-01-15", "signup_closes: 2027-02-30"))
    env = {"TANDEM_CONFIG": str(path), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/t.db"}
    for command in (["serve"], ["run-due", "--at", "2027-03-02T09:00:00Z"],
                    ["match", "--round", "2027-spring"], ["purge", "--dry-run"],
                    ["report", "--round", "2027-spring", "-o", str(tmp_path / "r.html")],
                    ["slack-manifest", "--url", "https://tandem.example"]):
        result = tandem(*command, env=env)
        assert result.returncode == 2, command
        assert "round.signup_closes: 2027-02-30 is not a date" in result.stderr, command
        assert "Traceback" not in result.stderr, command
    doctor = tandem("doctor", env=env)
    assert doctor.returncode == 2 and "Traceback" not in doctor.stdout + doctor.stderr
    assert "round.signup_closes: 2027-02-30 is not a date" in doctor.stdout
    assert not (tmp_path / "t.db").exists()


def test_several_problems_are_reported_together_in_file_order(tmp_path: Path) -> None:
    shipped = (ROOT / "app.yaml").read_text(encoding="utf-8")
    path = write(tmp_path, text=shipped.replace("length_months: 6", "length_months: 0")
                 .replace("default_language: de", "default_language: fr"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert "programme.default_language" in lines[0] and "round.length_months" in lines[1]


def test_times_dates_and_empty_sections_as_people_write_them(tmp_path: Path) -> None:
    shipped = (ROOT / "app.yaml").read_text(encoding="utf-8")
    path = write(tmp_path, text=shipped.replace('nudge_time: "10:00"', "nudge_time: 9:30")
                 .replace("signup_opens: 2026-11-01", 'signup_opens: "2026-11-01"')
                 + "\nannouncements:\n")
    config = load_config(path)
    assert config.rhythm.nudge_time.hour == 9 and config.rhythm.nudge_time.minute == 30
    assert config.round.signup_opens.date().isoformat() == "2026-11-01"
    assert config.announcements == ()


def test_explain_lists_every_key_and_the_readme_carries_it() -> None:
    from bot.platforms import explain

    def reference() -> str:
        return explain("en")

    result = tandem("check-config", "--explain")
    assert result.returncode == 0 and result.stdout == reference()
    for row in ("| `round.signup_closes` | date (2027-02-01) | required |",
                "| `rhythm.nudge_weekday` | one of monday, tuesday, wednesday, thursday, "
                "friday, saturday, sunday | tuesday |",
                "| `survey.topics[].id` | text | required |",
                "| `privacy.retention_months` | whole number, 1 to 120 | none |"):
        assert row in result.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert reference() in readme, "regenerate the README's reference: tandem check-config --explain"


def test_explain_speaks_the_cli_language_and_each_platform_explains_its_keys() -> None:
    from bot.core.config_schema import AppYaml
    from bot.platforms import explain

    english = tandem("check-config", "--explain").stdout
    german = tandem("--language", "de", "check-config", "--explain")
    assert german.returncode == 0 and german.stdout == explain("de") != english
    assert german.stdout.startswith("| Schlüssel | Art | Vorgabe | Bedeutung |\n")
    assert ("| `round.length_months` | ganze Zahl, 1 bis 24 | 6 | wie lange die Tandems "
            "laufen |") in german.stdout
    # Every key is explained, in every language (a missing catalogue key would raise).
    for language in ("de", "en"):
        rows = explain(language).splitlines()[2:]
        assert len(rows) == len(english.splitlines()) - 2
        assert all(row.split(" | ")[-1] != " |" for row in rows)
    assert {f"`{name}`" for name in AppYaml.model_fields} <= {
        row.split(" | ")[0].removeprefix("| ") for row in english.splitlines()}
    # The platforms' rows come from their folders: Slack's own section among them.
    assert ("| `slack.coordinator_usergroup` | Text | keine | eine Slack-Nutzergruppe, "
            "deren Mitglieder auch koordinieren (@handle) |") in german.stdout


def test_topic_without_german_label(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    del data["survey"]["topics"][1]["de"]
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.field == "survey.topics[1].de"


def test_broken_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 3: \(file\): is not valid YAML"):
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
