"""``tandem directory import``: CSV files as HR systems write them, and broken ones.

The import flow runs on the real database with the real slack_sdk client against
the fake Slack (``users.lookupByEmail``); one test runs the command itself."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from adapters.slack.adapter import make_client
from adapters.slack.email_lookup import SlackEmailLookup
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, DirectorySettings
from conversations.context import FlowContext
from conversations.directory_import import ImportReport, import_csv
from storage import directory
from storage.db import Database
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers import ROOT

COLUMNS = {"key": "Personalnummer", "email": "E-Mail", "name": "Name",
           "department": "Abteilung", "manager": "Vorgesetzte(r)", "location": "Standort",
           "active": "Aktiv"}
HEADER = "Personalnummer;Name;E-Mail;Abteilung;Vorgesetzte(r);Standort;Aktiv\r\n"
GERMAN_OFFICE = (
    HEADER
    + "1001;Jürgen Müller;juergen.mueller@example.com;Geschäftsführung;;München;ja\r\n"
    + "1002;Ännchen Groß;aennchen.gross@example.com;Forschung & Entwicklung;1001;"
      "\"Werk 1\r\nHalle 3; Büro 2\";ja\r\n"
    + "1003;\"Weiß, Björn\";bjoern.weiss@example.com;Vertrieb;aennchen.gross@example.com;"
      "Köln;ja\r\n"
)


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [FakeUser("U1001", "Jürgen", email="Juergen.Mueller@example.com"),
            FakeUser("U1003", "Björn", email="bjoern.weiss@example.com")]


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, directory=DirectorySettings(csv_columns=COLUMNS))


async def _import(config: AppConfig, clock: FixedClock, db: Database, data: bytes,
                  slack: FakeSlack | None = None, dry_run: bool = False) -> ImportReport:
    ctx = FlowContext(config, clock, db, {})
    finders = [] if slack is None else [
        SlackEmailLookup(make_client("xoxb-test", slack.base_url + "api/"))]
    return await import_csv(ctx, data, finders, dry_run=dry_run)


async def _people(db: Database) -> dict[str, tuple[str | None, ...]]:
    async with db.session() as session:
        chart = await directory.org_chart(session)
    return {e.key: (e.name, e.department, e.manager_key, e.email, *sorted(
        f"{p}:{u}" for p, u in e.accounts)) for e in chart}


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-8"])
async def test_a_german_office_export_is_read_whole(
        config: AppConfig, clock: FixedClock, db: Database, slack: FakeSlack,
        encoding: str) -> None:
    report = await _import(config, clock, db, GERMAN_OFFICE.encode(encoding), slack)
    assert report.ok, report.text("en")
    text = report.text("en")
    assert "Read 3 rows" in text and "separator ';'" in text
    assert {"cp1252": "Windows-1252", "utf-8-sig": "UTF-8 (BOM)", "utf-8": "UTF-8"}[
        encoding] in text
    assert "People: 3 new, 0 changed" in text
    assert "Matched to slack users: 2 of 3." in text
    people = await _people(db)
    assert people["1001"] == ("Jürgen Müller", "Geschäftsführung", None,
                              "juergen.mueller@example.com", "slack:U1001")
    # A manager named by e-mail is resolved to their id; the quoted name keeps its comma.
    assert people["1003"][:3] == ("Weiß, Björn", "Vertrieb", "1002")
    assert people["1002"][2] == "1001"
    async with db.session() as session:
        record = await directory.person_by_key(session, "1002")
        assert record is not None and record.location == "Werk 1\nHalle 3; Büro 2"
        assert await directory.person_for(session, "slack", "U1003") is not None
    assert len(slack.of("users.lookupByEmail")) == 3


async def test_commas_and_a_second_import_that_marks_leavers(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    first = GERMAN_OFFICE.replace(";", ",").replace("\"Werk 1\r\nHalle 3, Büro 2\"", "Werk 1")
    first = first.replace("\"Weiß, Björn\"", "Björn Weiß")
    report = await _import(config, clock, db, first.encode())
    assert report.ok, report.text("en")
    assert "separator ','" in report.text("en")
    # Björn left: the next export lacks him; Ännchen moved department.
    second = HEADER + GERMAN_OFFICE.split("\r\n", 1)[1].split("1003;")[0].replace(
        "Forschung & Entwicklung", "IT")
    dry = await _import(config, clock, db, second.encode("cp1252"), dry_run=True)
    assert "People: 0 new, 1 changed, 1 unchanged, 1 no longer in the export" in dry.text("en")
    assert "Dry run: nothing was written." in dry.text("en")
    assert set(await _people(db)) == {"1001", "1002", "1003"}
    done = await _import(config, clock, db, second.encode("cp1252"))
    assert done.counts is not None and done.counts.left == ["1003"]
    people = await _people(db)
    assert set(people) == {"1001", "1002"} and people["1002"][1] == "IT"
    async with db.session() as session:
        gone = await directory.person_by_key(session, "1003")
        assert gone is not None and not gone.active and gone.left_at == clock.now()


BROKEN = {
    "missing column": (
        "Personalnummer;Name;Mail;Abteilung;Vorgesetzte(r);Standort;Aktiv\n1;A;a@x.de;;;;ja\n",
        ['line 1, column "E-Mail": is missing']),
    "unknown manager": (
        HEADER + "1;A;a@x.de;IT;;;ja\n2;B;b@x.de;IT;7;;ja\n3;C;c@x.de;IT;nobody@x.de;;ja\n",
        ['line 3, column "Vorgesetzte(r)": names the manager "7", who is not in the file',
         'line 4, column "Vorgesetzte(r)": names the manager "nobody@x.de"']),
    "duplicate e-mails": (
        HEADER + "1;A;a@x.de;IT;;;ja\n2;B;A@X.DE;IT;;;ja\n",
        ['line 3, column "E-Mail": "a@x.de" is listed twice (first on line 2)']),
    "a cycle": (
        HEADER + "1;A;a@x.de;IT;3;;ja\n2;B;b@x.de;IT;1;;ja\n3;C;c@x.de;IT;2;;ja\n"
        "4;D;d@x.de;IT;;;ja\n",
        ['line 2, column "Vorgesetzte(r)": the managers form a cycle: 1 → 3 → 2 → 1']),
    "an empty file": ("", ["the file: is empty"]),
    "only a header": (HEADER, ["the file: has a header but no rows"]),
    "bad values": (
        HEADER + "1;A;not-an-address;IT;;;ja\n2;B;b@x.de;IT;;;vielleicht\n",
        ['line 2, column "E-Mail": "not-an-address" is not an e-mail address',
         'line 3, column "Aktiv": "vielleicht" is not yes or no']),
    "an unclosed quote": (HEADER + "1;\"A;a@x.de;IT;;;ja\n", ["line 2: cannot be read as CSV"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
async def test_broken_files_import_nothing_and_say_where(
        config: AppConfig, clock: FixedClock, db: Database, case: str) -> None:
    await _import(config, clock, db, GERMAN_OFFICE.encode())
    before = await _people(db)
    data, expected = BROKEN[case]
    report = await _import(config, clock, db, data.encode("cp1252"))
    text = report.text("en")
    assert not report.ok and "Nothing was imported" in text
    for line in expected:
        assert line in text, text
    assert await _people(db) == before


@pytest.mark.long  # started first (tests/helpers/xdist_groups.py)
async def test_a_50_mb_file_with_one_bad_line_at_the_end_imports_nothing(
        config: AppConfig, clock: FixedClock, tmp_path: Path) -> None:
    # Reading 50 MB is the point, not the database: one run, on its own SQLite file.
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/big.db")
    await db.migrate()
    rows: list[str] = []
    size = len(HEADER)
    while size <= 50_000_000:
        n = len(rows) + 1
        rows.append(f"{n};Person {n};p{n}@example.com;Department {n % 300};{n // 10 or ''};"
                    f"\"Site {n % 40}\nBuilding {n % 7}\";ja\r\n")
        size += len(rows[-1])
    count = len(rows)
    data = HEADER + "".join(rows) + "9999999;Twice;p5@example.com;X;;;ja\r\n"
    assert len(data) > 50_000_000
    report = await _import(config, clock, db, data.encode("cp1252"))
    assert not report.ok and report.parsed.rows == count + 1
    assert f'line {2 + 2 * count}, column "E-Mail": "p5@example.com" is listed twice ' \
           f'(first on line 10)' in report.text("en")
    assert await _people(db) == {}
    await db.close()


async def test_the_command_imports_and_reports(tmp_path: Path, slack: FakeSlack) -> None:
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    data["directory"] = {"csv": {"columns": COLUMNS}}
    app_yaml = tmp_path / "app.yaml"
    app_yaml.write_text(yaml.safe_dump(data, allow_unicode=True))
    export = tmp_path / "export.csv"
    export.write_bytes(GERMAN_OFFICE.encode("cp1252"))
    env = {**os.environ, "TANDEM_CONFIG": str(app_yaml),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/t.db",
           "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret",
           "SLACK_API_URL": slack.base_url + "api/"}

    async def tandem(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await process.communicate()
        return process.returncode or 0, out.decode()

    assert (await tandem("migrate"))[0] == 0
    code, out = await tandem("directory", "import", str(export), "--dry-run")
    assert code == 0 and "People: 3 new" in out and "Dry run" in out, out
    code, out = await tandem("directory", "import", str(export))
    assert code == 0 and "Matched to slack users: 2 of 3." in out and "Imported" in out, out
    export.write_bytes(b"")
    code, out = await tandem("--language", "de", "directory", "import", str(export))
    assert code == 1 and "Nichts wurde importiert" in out and "die Datei: ist leer" in out, out


# -- edge cases: every column, rows that end early, limits, line numbers --------------

FULL = {"key": "ID", "email": "Mail", "name": "Name", "department": "Dept", "manager": "Boss",
        "job_title": "Title", "location": "Site", "language": "Lang", "active": "Active",
        "slack_id": "Slack", "teams_id": "Teams"}


async def test_every_column_is_read_into_the_directory(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    full = replace(config, directory=DirectorySettings(csv_columns=FULL))
    data = ("ID;Mail;Name;Dept;Boss;Title;Site;Lang;Active;Slack;Teams\n"
            "1;Anna@Example.com;Anna;IT;;CTO;Berlin;DE-de-x-private-use;yes;U1;aad-1\n"
            "2;ben@example.com;;;1;;;;;;\n"
            "3;cem@example.com;Cem;IT;anna@example.com;;;;Nein;;aad-3\n")
    report = await _import(full, clock, db, data.encode())
    assert report.ok, report.text("en")
    text = report.text("en")
    assert "Matched to slack users: 1 of 3." in text
    assert "Matched to teams users: 2 of 3." in text
    assert "People: 3 new, 0 changed, 0 unchanged, 0 no longer" in text
    async with db.session() as session:
        anna = await directory.person_by_key(session, "1")
        ben = await directory.person_by_key(session, "2")
        cem = await directory.person_by_key(session, "3")
        assert anna is not None and ben is not None and cem is not None
        assert (anna.email, anna.display_name, anna.department, anna.job_title,
                anna.location, anna.preferred_language, anna.active) == (
            "anna@example.com", "Anna", "IT", "CTO", "Berlin", "de-de-x-private-", True)
        assert await directory.accounts_of(session, anna.id) == [("slack", "U1"),
                                                                 ("teams", "aad-1")]
        # Empty cells are nothing, not empty text; an empty "active" is still employed.
        assert (ben.display_name, ben.department, ben.manager_key, ben.job_title,
                ben.location, ben.preferred_language, ben.active) == (
            None, None, "1", None, None, None, True)
        assert await directory.accounts_of(session, ben.id) == []
        # A manager named by e-mail is stored by their key; "Nein" is not employed.
        assert (cem.manager_key, cem.active) == ("1", False)
    people = await _people(db)
    assert set(people) == {"1", "2"} and people["2"][0] == "2"  # no name: the key shows


async def test_without_a_key_column_the_email_is_the_key(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    columns = {"email": "E-Mail", "name": "Name", "manager": "Vorgesetzte(r)"}
    keyless = replace(config, directory=DirectorySettings(csv_columns=columns))
    data = "E-Mail,Name,Vorgesetzte(r)\nBoss@x.de,Boss,\nworker@x.de,Worker,boss@x.de\n"
    report = await _import(keyless, clock, db, data.encode())
    assert report.ok, report.text("en")
    people = await _people(db)
    assert people["worker@x.de"][:3] == ("Worker", None, "boss@x.de")
    assert people["boss@x.de"][2] is None


async def test_rows_that_end_before_the_last_columns_are_read_with_those_empty(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    # Some HR systems leave out a row's trailing empty fields altogether.
    data = HEADER + "1;A;a@x.de;IT\r\n2;B;b@x.de;IT;1;Köln\r\n3;C;c@x.de;IT;1;Köln;nein\r\n"
    report = await _import(config, clock, db, data.encode())
    assert report.ok, report.text("en")
    assert "Read 3 rows" in report.text("en")
    people = await _people(db)
    assert set(people) == {"1", "2"}
    assert people["1"][:3] == ("A", "IT", None) and people["2"][:3] == ("B", "IT", "1")
    async with db.session() as session:
        b = await directory.person_by_key(session, "2")
        assert b is not None and b.location == "Köln"


async def test_commas_inside_the_names_of_a_semicolon_file_do_not_decide_the_separator(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    titles = ", ".join(["Dr."] * 12)
    data = HEADER + f"1;\"A, {titles}\";a@x.de;IT;;;ja\n2;\"B, {titles}\";b@x.de;IT;1;;ja\n"
    assert data.count(",") > data.count(";")
    report = await _import(config, clock, db, data.encode())
    assert report.ok, report.text("en")
    assert "separator ';'" in report.text("en")
    assert (await _people(db))["2"][:3] == (f"B, {titles}", "IT", "1")


async def test_problems_after_a_line_break_in_a_quoted_field_name_the_right_line(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    data = (HEADER + "1;A;a@x.de;IT;;\"Werk 1\r\nHalle 3\";ja\r\n"
            + "2;B;kein-at;IT;;;ja\r\n\r\n;;;;;;\r\n3;C;c@x.de;IT;;;vielleicht\r\n")
    report = await _import(config, clock, db, data.encode())
    text = report.text("en")
    assert "Read 3 rows" in text
    assert 'line 4, column "E-Mail": "kein-at" is not an e-mail address' in text, text
    assert 'line 7, column "Aktiv": "vielleicht" is not yes or no' in text, text


async def test_values_at_and_over_the_limits(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    # What the directory can hold: 320 characters for an id, 200 for a name.
    key, name = "K" * 320, "N" * 200
    report = await _import(config, clock, db, (HEADER + f"{key};{name};a@x.de;;;;\n").encode())
    assert report.ok, report.text("en")
    assert (await _people(db))[key][0] == name
    long_mail, long_boss = "x" * 70, "b" * 70 + "@x.de"
    data = (HEADER + f"1;{'N' * 201};a@x.de;;;;\n"
            + f"2;B;{long_mail};;;;\n"
            + "3;C;c d@x.de;;;;\n"
            + "4;D;;;;;\n"
            + "5;E;e@x.de;;;;vielleicht-oder-auch-nicht\n"
            + ";F;f@x.de;;;;\n"
            + "1;G;g@x.de;;;;\n"
            + f"{'K' * 321};H;h@x.de;;;;\n")
    text = (await _import(config, clock, db, data.encode())).text("en")
    expected = [
        'line 2, column "Name": is longer than 200 characters',
        f'line 3, column "E-Mail": "{long_mail[:60]}" is not an e-mail address',
        'line 4, column "E-Mail": "c d@x.de" is not an e-mail address',
        'line 5, column "E-Mail": "" is not an e-mail address',
        'line 6, column "Aktiv": "vielleicht-oder-auch" is not yes or no',
        'line 7, column "Personalnummer": is empty',
        'line 8, column "Personalnummer": "1" is listed twice (first on line 2)',
        'line 9, column "Personalnummer": is longer than 320 characters']
    for line in expected:
        assert line in text, text
    assert "Nothing was imported: 8 problems" in text
    assert long_mail[:61] not in text and "vielleicht-oder-auch-" not in text
    # A manager nobody has is named as written, up to 60 characters.
    boss = HEADER + f"1;A;a@x.de;;{long_boss};;\n"
    text = (await _import(config, clock, db, boss.encode())).text("en")
    assert f'names the manager "{long_boss[:60]}", who is not in the file' in text, text


async def test_files_that_say_nothing_are_reported_with_what_was_read(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    empty = (await _import(config, clock, db, b"")).text("en")
    assert empty.startswith("Read 0 rows (UTF-8, separator ',').")
    assert "the file: is empty" in empty
    # Bytes that Windows-1252 leaves undefined: neither encoding fits.
    unknown = (await _import(config, clock, db, HEADER.encode() + b"1;\x81\x8d\n")).text("en")
    assert unknown.startswith("Read 0 rows (–, separator ',').")
    assert "the file: is neither UTF-8 nor Windows-1252" in unknown
    header = (await _import(config, clock, db, b"\"Personalnummer;Name\n")).text("en")
    assert "line 1: cannot be read as CSV" in header, header
    spaces = (await _import(config, clock, db, b"  \r\n \n")).text("en")
    assert "the file: is empty" in spaces


async def test_a_second_import_keeps_the_accounts_found_before(
        config: AppConfig, clock: FixedClock, db: Database, slack: FakeSlack) -> None:
    assert (await _import(config, clock, db, GERMAN_OFFICE.encode(), slack)).ok
    before = await _people(db)
    # The next export, imported without looking anyone up on Slack.
    again = await _import(config, clock, db, GERMAN_OFFICE.encode())
    text = again.text("en")
    assert "People: 0 new, 0 changed, 3 unchanged" in text, text
    assert "Matched to slack users: 2 of 3." in text, text
    assert await _people(db) == before
    async with db.session() as session:
        assert await directory.count_people(session) == 3


async def test_a_slack_account_given_to_a_new_employee_id_moves_with_it(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    columns = {**COLUMNS, "slack_id": "Slack"}
    with_ids = replace(config, directory=DirectorySettings(csv_columns=columns))
    header = HEADER.replace("\r\n", ";Slack\r\n")
    first = header + "1;A;a@x.de;IT;;;ja;\r\n2;B;b@x.de;IT;;;ja;U2\r\n"
    assert (await _import(with_ids, clock, db, first.encode())).ok
    # HR renumbered B: the same person and Slack account under a new id.
    second = header + "1;A;a@x.de;IT;;;ja;\r\n7;B;b2@x.de;IT;;;ja;U2\r\n"
    report = await _import(with_ids, clock, db, second.encode())
    assert report.ok and report.counts is not None and report.counts.left == ["2"]
    async with db.session() as session:
        owner = await directory.person_for(session, "slack", "U2")
        assert owner is not None and owner.key == "7"
    people = await _people(db)
    assert people["7"][4:] == ("slack:U2",) and people["1"][4:] == ()


async def test_someone_marked_as_gone_is_counted_once_and_may_come_back(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    rows = "1;A;a@x.de;IT;;;ja\r\n2;B;b@x.de;IT;1;;{}\r\n"
    assert (await _import(config, clock, db, (HEADER + rows.format("ja")).encode())).ok
    first_left = clock.now()
    gone = await _import(config, clock, db, (HEADER + rows.format("nein")).encode())
    assert gone.counts is not None and gone.counts.left == ["2"]
    clock.advance(timedelta(days=1))
    still = await _import(config, clock, db, (HEADER + rows.format("nein")).encode())
    assert "People: 0 new, 0 changed, 2 unchanged, 0 no longer" in still.text("en")
    async with db.session() as session:
        b = await directory.person_by_key(session, "2")
        assert b is not None and not b.active and b.left_at == first_left
    back = await _import(config, clock, db, (HEADER + rows.format("ja")).encode())
    assert "People: 0 new, 1 changed, 1 unchanged, 0 no longer" in back.text("en")
    async with db.session() as session:
        b = await directory.person_by_key(session, "2")
        assert b is not None and b.active and b.left_at is None
    assert set(await _people(db)) == {"1", "2"}


async def test_a_long_list_of_problems_shows_the_first_200(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    def bad_rows(count: int) -> bytes:
        return (HEADER + "".join(f"{n};P{n};no-address-{n};;;;\n"
                                 for n in range(count))).encode()

    text = (await _import(config, clock, db, bad_rows(205))).text("en")
    shown = [line for line in text.splitlines() if line.startswith("  line ")]
    assert len(shown) == 200 and shown[-1].startswith("  line 201,")
    assert text.endswith("\n  … and 5 more") and "205 problems" in text
    text = (await _import(config, clock, db, bad_rows(201))).text("en")
    assert text.endswith("\n  … and 1 more")
    text = (await _import(config, clock, db, bad_rows(200))).text("en")
    assert len([line for line in text.splitlines() if line.startswith("  line ")]) == 200
    assert "more" not in text


async def test_progress_and_the_people_a_platform_did_not_know(
        config: AppConfig, clock: FixedClock, db: Database, slack: FakeSlack) -> None:
    calls: list[tuple[str, int, int]] = []
    rows = "".join(f"{n};P{n};p{n}@example.com;;;;ja\n" for n in range(2500))
    data = (HEADER + rows).encode()
    ctx = FlowContext(config, clock, db, {})
    report = await import_csv(ctx, data, [], progress=lambda *call: calls.append(call))
    assert report.ok and calls == [("read", 1000, 2501), ("read", 2000, 2501)]
    assert "Matched to slack users: 0 of 2500." in report.text("en")
    assert "Matched to teams users: 0 of 2500." in report.text("en")

    def export(count: int) -> bytes:
        # Jürgen (Slack knows him) and one who left (not looked up) besides.
        return (HEADER + "1;J;juergen.mueller@example.com;;;;ja\n2;X;gone@example.com;;;;nein\n"
                + "".join(f"{n};P{n};p{n}@example.com;;;;ja\n" for n in range(3, 3 + count))
                ).encode()

    calls.clear()
    finder = SlackEmailLookup(make_client("xoxb-test", slack.base_url + "api/"))
    report = await import_csv(ctx, export(52), [finder],
                              progress=lambda *call: calls.append(call))
    text = report.text("en")
    assert "Matched to slack users: 1 of 54." in text and "teams" not in text
    assert len(slack.of("users.lookupByEmail")) == 53
    assert sorted(c for c in calls if c[0] == "slack") == [("slack", n, 53) for n in range(1, 54)]
    unknown = [f"p{n}@example.com" for n in range(3, 55)]
    assert (f"Not found among slack users (52): {', '.join(unknown[:50])} … and 2 more"
            in text), text
    report = await import_csv(ctx, export(50), [finder])
    text = report.text("en")
    assert f"Not found among slack users (50): {', '.join(unknown[:50])}\n" in text, text


class _CountingFinder:
    """A platform that knows nobody and counts the look-ups it answers at once."""

    platform = "slack"

    def __init__(self) -> None:
        self.open = self.most = 0

    async def by_email(self, email: str) -> str | None:
        self.open += 1
        self.most = max(self.most, self.open)
        for _ in range(3):  # others get their turn meanwhile
            await asyncio.sleep(0)
        self.open -= 1
        return None


async def test_at_most_four_look_ups_are_asked_at_once(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    rows = "".join(f"{n};P{n};p{n}@example.com;;;;ja\n" for n in range(20))
    finder = _CountingFinder()
    report = await import_csv(FlowContext(config, clock, db, {}), (HEADER + rows).encode(),
                              [finder])
    assert report.ok and "Not found among slack users (20)" in report.text("en")
    assert finder.most == 4
