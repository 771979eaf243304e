"""``tandem directory import FILE``: an HR system's CSV export into the directory.

Who sees what, in order: the operator at a terminal sees the file read (with a
progress bar on large files), people looked up on the platforms (Slack by e-mail,
``users.lookupByEmail``; Teams by the Entra object id column, else by the e-mail as
UPN or mail through Microsoft Graph), then one report: rows read, people added,
updated and gone, people matched per platform and the e-mails a platform did not
know, and every refused row with its line, column and problem. A file with any problem imports
nothing; everything else is written in one transaction (``--dry-run``: none).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot.core.i18n import t
from conversations.context import FlowContext
from conversations.directory_csv import Parsed, Problem, parse
from storage import directory
from storage.directory import Record, SnapshotCounts

SOURCE = "csv"
LOOKUPS_AT_ONCE = 4
#: The report names at most this many people a platform did not know.
NOT_FOUND_SHOWN = 50


class AccountFinder(Protocol):
    """Finds a person's user id on one platform by their e-mail address."""

    platform: str

    async def by_email(self, email: str) -> str | None: ...


@dataclass
class ImportReport:
    parsed: Parsed
    dry_run: bool
    counts: SnapshotCounts | None = None
    matched: dict[str, int] = field(default_factory=dict)
    #: per platform looked up: the e-mails it knew nobody by
    not_found: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.parsed.problems

    def text(self, language: str) -> str:
        parsed = self.parsed
        lines = [t(language, "directory.import.read", rows=parsed.rows,
                   encoding=parsed.encoding or "–", separator=repr(parsed.separator or ","))]
        if not self.ok:
            lines.append(t(language, "directory.import.refused", count=len(parsed.problems)))
            lines += ["  " + problem_text(p, language) for p in parsed.problems[:200]]
            if len(parsed.problems) > 200:
                lines.append("  " + t(language, "directory.proposal.more",
                                      count=len(parsed.problems) - 200))
            return "\n".join(lines)
        counts = self.counts or SnapshotCounts()
        lines.append(t(language, "directory.import.people", added=counts.added,
                       updated=counts.updated, unchanged=counts.unchanged,
                       left=len(counts.left)))
        for platform, count in sorted(self.matched.items()):
            lines.append(t(language, "directory.import.matched", platform=platform,
                           count=count, total=len(parsed.records)))
        for platform, emails in sorted(self.not_found.items()):
            if emails:
                shown = ", ".join(emails[:NOT_FOUND_SHOWN])
                if len(emails) > NOT_FOUND_SHOWN:
                    shown += " " + t(language, "directory.proposal.more",
                                     count=len(emails) - NOT_FOUND_SHOWN)
                lines.append(t(language, "directory.import.not_found", platform=platform,
                               count=len(emails), emails=shown))
        lines.append(t(language, "directory.import.dry_run" if self.dry_run
                       else "directory.import.done"))
        return "\n".join(lines)


def problem_text(problem: Problem, language: str) -> str:
    where = t(language, "directory.import.where.file") if problem.line == 0 else t(
        language, "directory.import.where.line", line=problem.line)
    if problem.column:
        where += t(language, "directory.import.where.column", column=problem.column)
    return f"{where}: " + t(language, f"directory.problem.{problem.problem}",
                            **dict(problem.params))


async def import_csv(ctx: FlowContext, data: bytes, finders: Sequence[AccountFinder], *,
                     dry_run: bool = False,
                     progress: Callable[[str, int, int], None] | None = None) -> ImportReport:
    """Read, check, look people up, and write it all in one transaction (see module doc)."""
    columns = ctx.config.directory.csv_columns
    assert columns is not None, "the CLI refuses the command without directory.csv"
    total = data.count(b"\n")

    def reading(done: int) -> None:
        if progress is not None:
            progress("read", done, total)

    parsed = parse(data, columns, reading)
    report = ImportReport(parsed, dry_run)
    if not report.ok:
        return report
    async with ctx.db.reading() as session:
        known = await directory.accounts_by_key(session)
    parsed.records = [replace(r, accounts=tuple(sorted({*r.accounts, *known.get(r.key, [])})))
                      for r in parsed.records]
    for finder in finders:
        parsed.records, report.not_found[finder.platform] = await _find(
            finder, parsed.records, progress)
    # The platforms people can be found on here; with none, say that nobody was.
    platforms = {*(f.platform for f in finders),
                 *(platform for name, platform in (("slack_id", "slack"), ("teams_id", "teams"))
                   if name in columns)} or {"slack", "teams"}
    for platform in platforms:
        report.matched[platform] = sum(
            1 for r in parsed.records if any(p == platform for p, _ in r.accounts))
    now = ctx.clock.now()
    if dry_run:
        async with ctx.db.reading() as session:  # never committed
            report.counts = await directory.save_snapshot(session, SOURCE, parsed.records, now)
    else:
        async with ctx.db.session() as session:
            report.counts = await directory.save_snapshot(session, SOURCE, parsed.records, now)
    return report


async def _find(finder: AccountFinder, records: list[Record],
                progress: Callable[[str, int, int], None] | None
                ) -> tuple[list[Record], list[str]]:
    """Records with this platform's account added where the platform knows the e-mail,
    and the e-mails it did not know."""
    missing = [i for i, r in enumerate(records)
               if r.email and r.active and not any(p == finder.platform for p, _ in r.accounts)]
    found: dict[int, str] = {}
    gate = asyncio.Semaphore(LOOKUPS_AT_ONCE)
    done = 0
    # A finder that looks ``batch`` up in one request (Graph's $batch) gets them so.
    many = getattr(finder, "by_emails", None)
    size = int(getattr(finder, "batch", 1)) if many is not None else 1

    async def look(start: int) -> None:
        nonlocal done
        chunk = missing[start:start + size]
        emails = [records[i].email or "" for i in chunk]
        async with gate:
            if many is not None:
                answers = await many(emails)
            else:
                answers = {emails[0]: await finder.by_email(emails[0])}
        found.update({i: user_id for i, email in zip(chunk, emails, strict=True)
                      if (user_id := answers.get(email))})
        done += len(chunk)
        if progress is not None:
            progress(finder.platform, done, len(missing))

    await asyncio.gather(*(look(start) for start in range(0, len(missing), size)))
    return [replace(r, accounts=(*r.accounts, (finder.platform, found[i])))
            if i in found else r for i, r in enumerate(records)], [
        records[i].email or "" for i in missing if i not in found]
