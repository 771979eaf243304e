"""``tandem doctor`` and the database settings it checks, against the fake Slack API."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.core.errors import ConfigError
from bot.core.settings import Settings
from bot.doctor import diagnose
from storage.db import Database
from tests.fakes.slack_api import FakeSlack
from tests.helpers import ROOT
from tests.helpers.slack_requests import SIGNING_SECRET

PLATFORM_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN",
                      "MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack, db: Database
                ) -> pytest.MonkeyPatch:
    """A Slack installation against the fake API and the test database; no Teams."""
    for name in PLATFORM_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TANDEM_CONFIG", str(ROOT / "app.yaml"))
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-doctor-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_API_URL", slack.base_url + "api/")
    return monkeypatch


async def doctor(language: str = "en") -> tuple[int, dict[str, str]]:
    out = io.StringIO()
    code = await diagnose(out, language)
    lines = out.getvalue().splitlines()
    by_check = {line.split()[1]: line for line in lines if len(line.split()) > 1}
    return code, by_check


async def test_all_ok_against_the_fake_slack_api(environment: pytest.MonkeyPatch,
                                                 slack: FakeSlack) -> None:
    code, lines = await doctor()
    assert code == 0, lines
    for check in ("environment", "app.yaml", "database", "slack"):
        assert lines[check].startswith("OK "), lines[check]
    assert "workspace 'Acme'" in lines["slack"]
    assert lines["teams"].startswith("SKIP ") and "unauthenticated" in lines["teams"]
    assert [c.method for c in slack.calls] == ["auth.test"]
    assert "xoxb-doctor-test" not in "".join(lines.values())


async def test_a_rejected_bot_token_is_explained_in_plain_words(
    environment: pytest.MonkeyPatch, slack: FakeSlack
) -> None:
    slack.errors["auth.test"] = "invalid_auth"
    code, lines = await doctor()
    assert code == 1
    assert lines["slack"].startswith("PROBLEM ")
    assert ("the bot token was rejected by Slack (invalid_auth): copy the Bot User OAuth "
            "Token") in lines["slack"]


async def test_missing_teams_password_is_said_plainly(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("MICROSOFT_APP_ID", "00000000-0000-0000-0000-000000000000")
    code, lines = await doctor()
    assert code == 1
    assert lines["teams"].startswith("PROBLEM ")
    assert "MICROSOFT_APP_PASSWORD is missing" in lines["teams"]


async def test_teams_credentials_that_cannot_be_checked_offline_say_why(
    environment: pytest.MonkeyPatch
) -> None:
    # No internet here: the token request cannot reach Microsoft's login service.
    environment.setenv("MICROSOFT_APP_ID", "00000000-0000-0000-0000-000000000000")
    environment.setenv("MICROSOFT_APP_PASSWORD", "not-a-real-secret")
    code, lines = await doctor()
    assert code == 1
    assert ("could not reach login.microsoftonline.com to check the Teams credentials"
            in lines["teams"]), lines["teams"]
    assert "not-a-real-secret" not in "".join(lines.values())


async def test_an_unmigrated_or_unreachable_database_is_a_problem(
    environment: pytest.MonkeyPatch, db: Database, tmp_path: Path
) -> None:
    if db.dialect == "sqlite":
        environment.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/none.db")
        expected = "does not exist"
    else:
        # A port nothing listens on (the test database's server, one port up).
        url = make_url(db.url).set(password="pw-not-shown", port=1)
        environment.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
        expected = "could not open"
    code, lines = await doctor()
    assert code == 1
    assert lines["database"].startswith("PROBLEM ") and expected in lines["database"]
    assert "pw-not-shown" not in lines["database"]
    assert not (tmp_path / "none.db").exists()  # asking must not create an empty file


def test_cli_exit_code_and_bad_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in PLATFORM_VARIABLES}
    env.update(TANDEM_CONFIG=str(ROOT / "app.yaml"), DATABASE_POOL_SIZE="lots")
    run = subprocess.run([sys.executable, "-m", "bot.cli", "doctor"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2  # a configuration problem, as in every command
    assert "PROBLEM" in run.stdout and "DATABASE_POOL_SIZE" in run.stdout
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(("name", "value", "words"), [
    ("DATABASE_POOL_SIZE", "0", "from 1 to 1000"),
    ("DATABASE_POOL_SIZE", "ten", "whole number of connections"),
    ("DATABASE_STATEMENT_TIMEOUT_MS", "-5", "whole number of milliseconds"),
    ("DATABASE_STATEMENT_TIMEOUT_MS", "99", "from 100 to 3600000"),
])
def test_database_settings_are_validated(name: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({name: value})
    assert raised.value.field == name and words in raised.value.problem
    assert str(raised.value).startswith(f"environment: {name}: ")


async def test_database_settings_reach_the_postgresql_pool() -> None:
    settings = Settings.from_env({"DATABASE_POOL_SIZE": "3",
                                  "DATABASE_STATEMENT_TIMEOUT_MS": "2500"})
    assert settings.database_options == {"pool_size": 3, "statement_timeout_ms": 2500}
    assert Settings.from_env({}).database_options == {"pool_size": 10,
                                                      "statement_timeout_ms": 15_000}
    db = Database("postgresql+asyncpg://u@127.0.0.1:1/x", **settings.database_options)
    try:
        assert db.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        await db.close()


async def test_a_signing_secret_without_a_bot_token_names_the_token(
    environment: pytest.MonkeyPatch
) -> None:
    environment.delenv("SLACK_BOT_TOKEN")
    code, lines = await doctor()
    assert code == 1
    assert lines["slack"].startswith("PROBLEM ") and "SLACK_BOT_TOKEN is missing" in lines["slack"]


async def test_doctor_speaks_the_cli_language(environment: pytest.MonkeyPatch,
                                              slack: FakeSlack) -> None:
    slack.errors["auth.test"] = "invalid_auth"
    environment.setenv("MICROSOFT_APP_ID", "00000000-0000-0000-0000-000000000000")
    environment.setenv("DATABASE_POOL_SIZE", "ten")
    out = io.StringIO()
    assert await diagnose(out, "de") == 2
    assert out.getvalue() == (
        "PROBLEM  environment  DATABASE_POOL_SIZE: muss eine ganze Zahl von 1 bis 1000 "
        "(Verbindungen) sein, nicht 'ten'\n1 Problem gefunden\n")
    environment.delenv("DATABASE_POOL_SIZE")
    code, lines = await doctor("de")
    assert code == 1
    assert lines["environment"].endswith(" Variablen gelesen")
    assert lines["app.yaml"].endswith("Programm 'Reverse Mentoring', Runde '2027-spring'")
    assert lines["database"].endswith(" ist erreichbar und sein Schema ist aktuell")
    assert lines["slack"].endswith("Slack hat das Bot-Token abgelehnt (invalid_auth): kopieren "
                                   "Sie das Bot User OAuth Token (xoxb-...) erneut von der "
                                   "Seite OAuth & Permissions Ihrer App")
    assert lines["teams"].endswith("MICROSOFT_APP_ID ist gesetzt, aber MICROSOFT_APP_PASSWORD "
                                   "fehlt: kopieren Sie den Value eines Client Secrets aus der "
                                   "App-Registrierung")
    assert "2 Probleme gefunden" in lines.values()


async def test_each_directory_source_is_probed_and_what_it_lacks_is_named(
        environment: pytest.MonkeyPatch, slack: FakeSlack, tmp_path: Path) -> None:
    import yaml

    from tests.fakes.slack_scim import TOKEN, FakeScim

    scim = FakeScim()
    await scim.start()
    slack.profile_fields = [{"id": "Xf0DEPT", "label": "Abteilung", "type": "text"},
                            {"id": "Xf0BOSS", "label": "Vorgesetzte(r)", "type": "user"}]
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    app_yaml = tmp_path / "app.yaml"

    async def directory_lines(department: str, token: str) -> list[str]:
        data["directory"] = {"slack": {"department": department, "manager": "Xf0BOSS"},
                             "scim": {"url": scim.url()}}
        app_yaml.write_text(yaml.safe_dump(data, allow_unicode=True))
        environment.setenv("TANDEM_CONFIG", str(app_yaml))
        environment.setenv("SLACK_SCIM_TOKEN", token)
        out = io.StringIO()
        await diagnose(out, "en")
        return [line for line in out.getvalue().splitlines() if " directory " in line]

    try:
        good = await directory_lines("abteilung", TOKEN)
        bad = await directory_lines("Department", "xoxp-not-admin")
    finally:
        await scim.stop()
    assert good == [
        "OK       directory    Slack profiles readable; fields department = abteilung "
        "(Xf0DEPT), manager = Xf0BOSS (Xf0BOSS)",
        "OK       directory    Slack SCIM readable (0 users)"]
    assert bad[0].startswith("PROBLEM  directory    ") and \
        "no profile field 'Department'; its fields are: Abteilung (Xf0DEPT)" in bad[0]
    assert bad[1].startswith("PROBLEM  directory    slack-scim cannot be read: Slack SCIM: "
                             "GET /Users answered 401") and "admin scope" in bad[1]
    assert slack.of("users.list") == []  # a probe reads no directory
