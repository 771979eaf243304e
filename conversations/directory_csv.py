"""An HR system's CSV export read into directory records, or the reasons it cannot be.

It reads what Excel and HR systems write: UTF-8 with or without a byte-order mark,
else Windows-1252; ``;``, ``,`` or tab as separator (the header line decides);
quoted fields, with separators and line breaks inside. Every problem is reported
with its line, column and what is wrong; a file with any problem imports nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from bot.matching.org import find_cycles
from storage.directory import Record, normal_email
from storage.models import DirectoryAccount, DirectoryPerson

TRUE = frozenset({"1", "yes", "y", "true", "ja", "j", "aktiv", "active", "x"})
FALSE = frozenset({"0", "no", "n", "false", "nein", "inaktiv", "inactive", "ausgetreten"})
MAX_FIELD = 320
#: The fields whose column in the directory is shorter than MAX_FIELD (the language
#: is cut to its column, 16, as the other sources cut it).
LIMITS: Mapping[str, int] = {
    name: column.type.length
    for name, column in (("name", DirectoryPerson.display_name),
                         ("department", DirectoryPerson.department),
                         ("job_title", DirectoryPerson.job_title),
                         ("location", DirectoryPerson.location),
                         ("slack_id", DirectoryAccount.user_id),
                         ("teams_id", DirectoryAccount.user_id))}


@dataclass(frozen=True)
class Problem:
    """Why a line (or the file: line 0) cannot be imported."""

    line: int
    column: str
    problem: str
    params: Mapping[str, str | int] = field(default_factory=dict)


@dataclass
class Parsed:
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    encoding: str = ""
    separator: str = ""


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read as; ValueError if neither fits."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 (BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("cp1252"), "Windows-1252"


def _separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def parse(data: bytes, columns: Mapping[str, str],
          progress: Callable[[int], None] | None = None) -> Parsed:
    """Records from the export, with ``columns`` (record field -> header text)."""
    parsed = Parsed()
    try:
        text, parsed.encoding = decode(data)
    except UnicodeDecodeError:
        parsed.problems.append(Problem(0, "", "encoding"))
        return parsed
    if not text.strip():
        parsed.problems.append(Problem(0, "", "empty"))
        return parsed
    first_line = text.split("\n", 1)[0]
    parsed.separator = _separator(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=parsed.separator,
                        strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error:
        parsed.problems.append(Problem(1, "", "unreadable"))
        return parsed
    where = {name: header.index(column) for name, column in columns.items()
             if column in header}
    missing = [column for name, column in columns.items() if name not in where]
    for column in missing:
        parsed.problems.append(Problem(1, column, "missing_column"))
    if missing:
        return parsed
    rows: list[tuple[int, dict[str, str]]] = []
    line = reader.line_num + 1
    names, indices = list(where), list(where.values())
    width = max(indices) + 1
    try:
        for cells in reader:
            if "".join(cells).strip():
                if len(cells) < width:
                    cells += [""] * (width - len(cells))
                rows.append((line, dict(zip(names, [_clean(cells[i]) for i in indices],
                                            strict=True))))
            line = reader.line_num + 1
            if progress is not None and len(rows) % 1000 == 0:
                progress(len(rows))
    except csv.Error:
        parsed.problems.append(Problem(line, "", "unreadable"))
        return parsed
    parsed.rows = len(rows)
    if not rows:
        parsed.problems.append(Problem(0, "", "no_rows"))
        return parsed
    parsed.records = _records(rows, columns, parsed.problems)
    if not parsed.problems:
        _check_chart(parsed, rows, columns)
    return parsed


def _records(rows: list[tuple[int, dict[str, str]]], columns: Mapping[str, str],
             problems: list[Problem]) -> list[Record]:
    records: list[Record] = []
    seen_email: dict[str, int] = {}
    seen_key: dict[str, int] = {}
    for line, row in rows:
        for name, value in row.items():
            limit = LIMITS.get(name, MAX_FIELD)
            if len(value) > limit:
                problems.append(Problem(line, columns[name], "too_long", {"max": limit}))
        email = normal_email(row.get("email"))
        if email is None or "@" not in email or " " in email:
            problems.append(Problem(line, columns["email"], "bad_email",
                                    {"value": row.get("email", "")[:60]}))
            continue
        if email in seen_email:
            problems.append(Problem(line, columns["email"], "duplicate",
                                    {"value": email, "first": seen_email[email]}))
            continue
        seen_email[email] = line
        key = row.get("key") or email
        if "key" in row and not row["key"]:
            problems.append(Problem(line, columns["key"], "required"))
            continue
        if key in seen_key:
            problems.append(Problem(line, columns.get("key", columns["email"]), "duplicate",
                                    {"value": key, "first": seen_key[key]}))
            continue
        seen_key[key] = line
        active = True
        if row.get("active"):
            flag = row["active"].casefold()
            if flag not in TRUE | FALSE:
                problems.append(Problem(line, columns["active"], "bad_active",
                                        {"value": row["active"][:20]}))
                continue
            active = flag in TRUE
        accounts = tuple(
            (platform, row[name]) for name, platform in (("slack_id", "slack"),
                                                         ("teams_id", "teams")) if row.get(name))
        records.append(Record(
            key=key, email=email, display_name=row.get("name") or None,
            department=row.get("department") or None, manager_key=row.get("manager") or None,
            job_title=row.get("job_title") or None, location=row.get("location") or None,
            preferred_language=(row.get("language") or "").lower()[:16] or None,
            active=active, accounts=accounts))
    return records


def _check_chart(parsed: Parsed, rows: list[tuple[int, dict[str, str]]],
                 columns: Mapping[str, str]) -> None:
    """Managers resolved to keys (a manager may be named by id or e-mail); a manager
    nobody in the file has, and cycles, are problems."""
    keys = {record.key for record in parsed.records}
    by_email = {record.email: record.key for record in parsed.records if record.email}
    line_of = {record.key: line for record, (line, _) in zip(parsed.records, rows, strict=True)}
    resolved: list[Record] = []
    for record in parsed.records:
        manager = record.manager_key
        if manager is not None and manager not in keys:
            manager = by_email.get(manager.lower())
            if manager is None:
                parsed.problems.append(Problem(line_of[record.key], columns["manager"],
                                               "unknown_manager",
                                               {"value": (record.manager_key or "")[:60]}))
        resolved.append(record if manager == record.manager_key
                        else replace(record, manager_key=manager))
    parsed.records = resolved
    parents = {r.key: r.manager_key for r in resolved if r.manager_key}
    for cycle in find_cycles(parents):
        parsed.problems.append(Problem(line_of[cycle[0]], columns["manager"], "cycle",
                                       {"people": " → ".join([*cycle, cycle[0]])}))


def _clean(cell: str) -> str:
    """Trimmed, with Windows line breaks inside quoted fields made plain ``\\n``."""
    cell = cell.strip()
    return cell.replace("\r\n", "\n") if "\r" in cell else cell
