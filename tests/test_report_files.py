"""``tandem report``: the board report (HTML) and the CSV, on SQLite and PostgreSQL.

What a board gets: the figures, in app.yaml's language, and nothing private:
no names, no reflection text (not even the shared one), no evaluation text.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.errors import ConfigError
from bot.core.i18n import t
from bot.core.settings import Settings
from bot.report import write_report
from storage.db import Database
from tests.helpers import ROOT
from tests.helpers.seed import (
    AFTER_END,
    EVALUATION_TEXT,
    PARTNER,
    PRIVATE,
    SHARED,
    seed_programme,
)

NEVER = (PRIVATE, PARTNER, EVALUATION_TEXT, SHARED, "Mentor 1", "Mentee 4", "Extra Senior",
         "UJ00001", "prompting")


async def report(db: Database, config: AppConfig, fmt: str, out: Path) -> bytes:
    path = await write_report(Settings(database_url=db.url), config, config.round.name, fmt,
                              out, clock=FixedClock(AFTER_END))
    return path.read_bytes()


async def test_html_report_in_german_has_the_figures_and_nothing_private(
    db: Database, config: AppConfig, tmp_path: Path
) -> None:
    await seed_programme(db, config)
    html = (await report(db, config, "html", tmp_path / "r.html")).decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="de">' in html
    assert "Reverse Mentoring" in html and "Runde 2027-spring" in html
    assert "01.02.2027 bis 01.08.2027" in html
    for label in ("Anteil der Treffen pro Monat", "Gewählte und besprochene Themen",
                  "Wie nützlich waren die Treffen?", "Teilnahme im Verlauf",
                  "Abschluss-Evaluation"):
        assert label in html
    kpis = dict(re.findall(r'id="kpi-(\w+)".*?<span class="value">([^<]+)</span>', html))
    assert kpis == {"signups": "14", "tandems": "6", "meetings": "21",
                    "usefulness": "3,8", "recommend": "80\u00a0%"}
    assert html.count('class="bar"') == 6 + 5 + 3 + 5  # months, funnel, topic bars, ratings
    assert "67\u00a0%" in html and "50\u00a0%" in html  # 4 of 6 and 3 of 6 tandems met
    assert "KI-Werkzeuge im Arbeitsalltag" in html and "weniger als 5" in html
    assert "Weiter mit derselben Person" in html
    for secret in NEVER:
        assert secret not in html
    # Self-contained: nothing to fetch, and a policy that forbids fetching anyway.
    assert not re.search(r"(src|href)=|url\((?!#)|@import|<script|<link", html)
    assert "default-src 'none'" in html


async def test_html_report_in_english_with_small_groups_hidden(
    db: Database, config: AppConfig, tmp_path: Path
) -> None:
    await seed_programme(db, config, count=3)
    english = dataclasses.replace(config, default_language="en")
    html = (await report(db, english, "html", tmp_path / "r.html")).decode("utf-8")
    assert '<html lang="en">' in html and "Meeting rate per month" in html
    # Three tandems: no month is shown, no evaluation result either.
    assert html.count("fewer than 5") >= 6
    assert t("en", "report.evaluation.hidden", k=5) in html
    assert "Continue with the same partner" not in html
    for secret in NEVER:
        assert secret not in html


async def test_csv_report(db: Database, config: AppConfig, tmp_path: Path) -> None:
    await seed_programme(db, config)
    english = dataclasses.replace(config, default_language="en")
    content = await report(db, english, "csv", tmp_path / "r.csv")
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Section", "Item", "Value", "Note"]
    values = {(section, item): (value, note) for section, item, value, note in rows[1:]}
    assert values[("Overview", "Sign-ups")] == ("14", "")
    assert values[("Overview", "Meetings held")] == ("21", "")
    assert values[("Overview", "Average usefulness")] == ("3.83", "")
    assert values[("Meetings per month", "Feb 2027")] == ("4", "")
    assert values[("Topic chosen (people)", "AI tools at work")] == ("13", "")
    assert values[("Topic chosen (people)", "Agile & new work")] == (
        "", "fewer than 5: not shown")
    assert values[("Topic discussed (meetings)", "Agile & new work")][0] == ""
    assert values[("Participation", "Met every month so far")] == ("2", "")
    assert values[("Evaluation", "Would recommend it")] == ("80", "")
    assert values[("Evaluation", "Not this time")] == ("1", "")
    assert values[("Usefulness rating (reflections)", "5")] == ("2", "")
    for secret in NEVER:
        assert secret not in text


async def test_unknown_round_or_format_is_a_configuration_error(
    db: Database, config: AppConfig, tmp_path: Path
) -> None:
    settings = Settings(database_url=db.url)
    with pytest.raises(ConfigError, match="no round named 'nope'"):
        await write_report(settings, config, "nope", "html", tmp_path / "x.html")
    with pytest.raises(ConfigError, match="--format"):
        await write_report(settings, config, config.round.name, "pdf", tmp_path / "x.pdf")
    assert not (tmp_path / "x.html").exists()


def test_the_cli_writes_a_report_and_names_configuration_problems(tmp_path: Path) -> None:
    env = {**os.environ, "TANDEM_CONFIG": str(ROOT / "app.yaml"),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/t.db"}

    def tandem(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    assert tandem("migrate").returncode == 0
    out = tmp_path / "board.html"
    done = tandem("report", "--round", "2027-spring", "--format", "html", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout and "Teilnahme im Verlauf" in out.read_text("utf-8")
    wrong = tandem("report", "--round", "1999", "-o", str(tmp_path / "x.html"))
    assert wrong.returncode == 2
    assert "--round" in wrong.stderr and "Traceback" not in wrong.stderr
