"""The ``tandem`` command as an operator runs it: migrate, serve, manifest, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from bot.cli import EXIT_CONFIG, main
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from storage.db import Database, head_revision
from tests.helpers import ROOT
from tests.helpers.cli import tandem
from tests.helpers.live import free_port


def test_serve_refuses_an_unmigrated_database_then_runs_after_migrate(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/t.db", "PORT": str(free_port())}
    refused = tandem("serve", env=env)
    assert refused.returncode == 2
    assert "tandem migrate" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "t.db").exists(), "refusing must not leave an empty database"

    migrated = tandem("migrate", env=env)
    assert migrated.returncode == 0 and "head" in migrated.stdout

    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT,
        env={**os.environ, "TANDEM_CONFIG": str(ROOT / "app.yaml"), **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # only turns a hang into a failure: a loaded 2-core machine needs ~30 s to import
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{env['PORT']}/healthz") as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not come up"
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(10)
    logged = [json.loads(line)["message"] for line in (server.stderr.read() if server.stderr
                                                        else "").splitlines()]
    [started] = [m for m in logged if m.startswith("Tandem ")]
    assert started == (f"Tandem {version('tandem-bot')} listening on port {env['PORT']}; "
                       f"database {env['DATABASE_URL']}; platforms: none configured (Teams "
                       "answers the Bot Framework Emulator only); scheduler: leader")
    assert logged[-1] == "stopped cleanly"
    assert not [m for m in logged if "Running job" in m], "housekeeping belongs at DEBUG"


def test_startup_line_hides_the_database_password() -> None:
    from bot.platforms import settings_from_env
    from bot.startup import startup_line

    settings = settings_from_env({
        "DATABASE_URL": "postgresql+asyncpg://tandem:s3cret@db.internal/tandem", "PORT": "8080",
        "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "shh", "MICROSOFT_APP_ID": "a",
        "MICROSOFT_APP_PASSWORD": "pw"})
    line = startup_line(settings, leader=False)
    assert "s3cret" not in line and "postgresql+asyncpg://tandem:***@db.internal/tandem" in line
    assert "port 8080" in line and "platforms: Slack, Teams;" in line
    assert line.endswith("scheduler: follower (another instance runs the cadence)")


def test_run_due_says_what_it_did(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/d.db"}
    assert tandem("migrate", env=env).returncode == 0
    nothing = tandem("run-due", "--at", "2026-11-02T10:00:00+01:00", env=env)
    assert nothing.returncode == 0
    assert nothing.stdout.startswith("no platform is configured")


def test_operator_lines_follow_the_cli_language(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/d.db"}
    migrated = tandem("--language", "de", "migrate", env=env)
    assert migrated.stdout == f"Die Datenbank ist auf Revision {head_revision()} (aktuell)\n"
    checked = tandem("--language", "de", "check-config", env=env)
    assert checked.stdout.endswith("Runde '2027-spring', 10 Themen\nPlattformen: keine "
                                   "eingerichtet\n")
    # What each platform needs, in its own folder's words and the CLI's language.
    nothing = tandem("--language", "de", "run-due", "--at", "2026-11-02T10:00:00+01:00", env=env)
    assert nothing.stdout == (
        "Keine Plattform ist eingerichtet (SLACK_BOT_TOKEN und SLACK_SIGNING_SECRET (oder "
        "SLACK_APP_TOKEN) (Slack) oder MICROSOFT_APP_ID und MICROSOFT_APP_PASSWORD (Teams)): "
        "nichts kann gesendet werden, also wurde nichts getan\n")
    english = tandem("run-due", "--at", "2026-11-02T10:00:00+01:00", env=env)
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) (Slack), or " \
        "MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (Teams)" in english.stdout


def test_startup_line_in_german() -> None:
    from bot.platforms import settings_from_env
    from bot.startup import startup_line

    line = startup_line(settings_from_env({"PORT": "8080"}), leader=True, language="de")
    assert line.endswith("Plattformen: keine eingerichtet (Teams antwortet nur dem Bot "
                         "Framework Emulator); Zeitplan: führt")
    assert "hört auf Port 8080" in line

def test_slack_manifest_is_complete() -> None:
    result = tandem("slack-manifest", "--url", "https://tandem.example.com/")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/tandem"
    assert command["url"] == "https://tandem.example.com/slack/events"
    assert manifest["settings"]["interactivity"]["request_url"] == command["url"]
    assert manifest["settings"]["event_subscriptions"]["request_url"] == command["url"]
    assert {"commands", "chat:write", "users:read", "mpim:write"} <= set(
        manifest["oauth_config"]["scopes"]["bot"])
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_slack_manifest_wants_https() -> None:
    result = tandem("slack-manifest", "--url", "http://insecure")
    assert result.returncode == 2 and "--url" in result.stderr


def test_teams_package_command(tmp_path: Path) -> None:
    import zipfile

    out = tmp_path / "tandem-teams.zip"
    ok = tandem("teams-package", "--app-id", "3f1c2a4e-8b7d-4e21-9c3a-5d6e7f809a1b",
                "--url", "https://tandem.example.com", "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    with zipfile.ZipFile(out) as package:
        assert {"manifest.json", "color.png", "outline.png"} <= set(package.namelist())
    bad = tandem("teams-package", "--app-id", "not-a-guid", "--url", "https://x.example.com",
                 "-o", str(out))
    assert bad.returncode == 2 and "GUID" in bad.stderr and "Traceback" not in bad.stderr


async def _seed(url: str) -> None:
    from datetime import UTC, datetime

    from adapters.local.platform import LocalUser
    from bot.core.clock import FixedClock
    from bot.core.config import load_config
    from storage.db import Database
    from tests.helpers.local import local_platform, signed_up

    db = Database(url)
    await db.migrate()
    platform = local_platform(load_config(ROOT / "app.yaml"),
                              FixedClock(datetime(2026, 12, 1, tzinfo=UTC)), db)
    await signed_up(platform, LocalUser("j", "Jana"), department="IT")
    await signed_up(platform, LocalUser("s", "Sven"), role="mentee", department="Sales")
    await db.close()


def test_match_command_dry_run_csv_and_save(tmp_path: Path) -> None:
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    env = {"DATABASE_URL": url}
    assert tandem("migrate", env=env).returncode == 0
    empty = tandem("match", "--round", "2027-spring", "--dry-run", env=env)
    assert empty.returncode == 0 and empty.stdout == (
        "Nobody has signed up for round 2027-spring yet: there is nothing to match.\n")
    asyncio.run(_seed(url))
    csv_path = tmp_path / "proposal.csv"
    result = tandem("match", "--round", "2027-spring", "--dry-run", "--csv", str(csv_path),
                    env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Matching proposal (dry run: nothing is saved)\n")
    assert "Tandems: 1" in result.stdout and "1. Jana → Sven" in result.stdout
    rows = csv_path.read_bytes().decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Pair,") and rows[1].startswith("1,Jana,Sven,")
    assert "Saved" not in result.stdout
    saved = tandem("--language", "de", "match", "--round", "2027-spring", env=env)
    assert saved.returncode == 0 and "Vorschlag Nr. 1 gespeichert" in saved.stdout
    unknown = tandem("match", "--round", "1999", env=env)
    assert unknown.returncode == 2 and "--round" in unknown.stderr


async def test_run_due_summary_tells_sent_from_already_sent(
    config: AppConfig, clock: FixedClock, db: Database
) -> None:
    from conversations.rhythm import run_due
    from tests.helpers.local import local_platform

    channels = replace(config, channels={**config.channels, "local": ("C-PROGRAMME",)})
    platform = local_platform(channels, clock, db)
    opened = datetime(2026, 11, 2, 10, tzinfo=UTC)
    first = await run_due(platform.ctx, opened)
    again = await run_due(platform.ctx, opened + timedelta(hours=1))
    assert first.summary() == f"due at {opened.isoformat()}: \n  signup_opened: 1 sent"
    assert again.summary().endswith("\n  signup_opened: 1 skipped (already sent or being sent)")
    assert first.summary("de") == f"fällig am {opened.isoformat()}: \n  signup_opened: 1 gesendet"
    assert len(platform.messenger.channels["C-PROGRAMME"]) == 1


@pytest.mark.parametrize(("argv", "german", "english"), [
    (["run-due"], "tandem run-due: Fehler: diese Angaben fehlen: --at",
     "tandem run-due: error: these are needed: --at"),
    (["report", "--round", "r", "--format", "pdf", "-o", "x"],
     "tandem report: Fehler: --format kann nicht 'pdf' sein; möglich sind 'html', 'csv'",
     "tandem report: error: --format cannot be 'pdf'; choose from 'html', 'csv'"),
    (["demo", "--bogus"], "tandem: Fehler: hier unbekannt: --bogus",
     "tandem: error: not known here: --bogus"),
])
def test_a_mistaken_command_line_is_told_in_the_cli_language(
        argv: list[str], german: str, english: str, capsys: pytest.CaptureFixture[str]) -> None:
    for language, expected, usage in (("de", german, "Aufruf: tandem"),
                                      ("en", english, "usage: tandem")):
        with pytest.raises(SystemExit) as exited:
            main(["--language", language, *argv])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(usage) and err.rstrip().endswith(expected), err
    # Without --language, or with it after "=", the same rule: English, German.
    with pytest.raises(SystemExit):
        main(argv)
    assert capsys.readouterr().err.rstrip().endswith(english)
    with pytest.raises(SystemExit):
        main(["--language=de", *argv])
    assert capsys.readouterr().err.rstrip().endswith(german)


def test_the_teams_package_checks_its_arguments_in_the_cli_language(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "teams.zip")
    good_id = "00000000-0000-0000-0000-000000000001"
    assert main(["--language", "de", "teams-package", "--app-id", "nope",
                 "--url", "https://bot.example.com", "-o", out]) == EXIT_CONFIG
    assert "--app-id: muss eine GUID sein (die Microsoft App ID des Bots), nicht 'nope'" \
        in capsys.readouterr().err
    assert main(["teams-package", "--app-id", good_id, "--url", "http://bot.example.com",
                 "-o", out]) == EXIT_CONFIG
    assert "--url: must be https://HOST, not 'http://bot.example.com'" in capsys.readouterr().err
    assert not Path(out).exists()
    assert main(["--language", "de", "teams-package", "--app-id", good_id,
                 "--url", "https://bot.example.com", "-o", out]) == 0
    assert capsys.readouterr().out.startswith(f"{out} geschrieben: laden Sie es in Teams hoch")
