"""``tandem doctor``: is this installation ready to run? One line per check.

Each line starts with OK, PROBLEM or SKIP (a platform that is not configured),
names the check and, for a problem, says in plain words what to do. The exit
code is 0 when nothing is a PROBLEM, 1 otherwise. Each platform's line comes
from its own folder (``Platform.doctor`` in ``adapters/<name>/``). Secrets are never printed:
the database URL is shown with its password hidden.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from bot.core.errors import ConfigError, TandemError
from bot.core.i18n import Text, render, t, text
from bot.core.settings import Settings
from bot.host.platform import NETWORK_TIMEOUT_SECONDS, OK, PROBLEM, SKIP
from bot.platforms import discover, needs_line, settings_from_env

if TYPE_CHECKING:
    from conversations.calendars import Calendar


@dataclass(frozen=True)
class Result:
    status: str
    name: str
    detail: str | Text

    def line(self, language: str = "en") -> str:
        return f"{self.status:<8} {self.name:<12} {render(self.detail, language)}"


def check_environment() -> tuple[Result, Settings | None]:
    try:
        settings = settings_from_env()
    except ConfigError as error:
        return Result(PROBLEM, "environment", text("doctor.environment.problem",
                                                   field=error.field, problem=error.text)), None
    return Result(OK, "environment", text("doctor.environment.ok")), settings


def check_config(settings: Settings) -> Result:
    from bot.platforms import load_app_config

    try:
        config = load_app_config(settings.config_path)
    except ConfigError as error:
        return Result(PROBLEM, "app.yaml", text("doctor.config.problem", error=error))
    return Result(OK, "app.yaml", text("doctor.config.ok", source=config.source,
                                       programme=config.programme_name, round=config.round.name))


async def check_database(settings: Settings) -> Result:
    from sqlalchemy.engine import make_url

    from bot.health import sqlite_file
    from storage.db import Database, head_revision

    try:
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        db = Database(settings.database_url, **settings.database_options)
    except Exception as error:
        return Result(PROBLEM, "database", text("doctor.database.bad_url",
                                                error=type(error).__name__))
    path = sqlite_file(db)
    if path is not None and not path.exists():
        await db.close()  # asking would create an empty file where the data should be
        return Result(PROBLEM, "database", text("doctor.database.no_file", path=path))
    try:
        revision = await asyncio.wait_for(db.current_revision(), NETWORK_TIMEOUT_SECONDS)
    except TimeoutError:
        return Result(PROBLEM, "database", text("doctor.database.timeout", database=shown,
                                                seconds=f"{NETWORK_TIMEOUT_SECONDS:g}"))
    except Exception as error:  # the driver's text may hold the URL: only its type is shown
        return Result(PROBLEM, "database", text("doctor.database.unreachable", database=shown,
                                                error=type(error).__name__))
    finally:
        await db.close()
    head = head_revision()
    if revision is None:
        return Result(PROBLEM, "database", text("doctor.database.no_schema", database=shown))
    if revision != head:
        return Result(PROBLEM, "database", text("doctor.database.old_schema", database=shown,
                                                revision=revision, head=head))
    return Result(OK, "database", text("doctor.database.ok", database=shown))


async def check_calendar(settings: Settings, env: Mapping[str, str]) -> Result | None:
    """The Outlook calendars app.yaml names (``meetings.graph_tenant_id``): can Tandem
    read free/busy? Asked for one mailbox of the directory."""
    from bot.graph_calendar import calendar_for
    from bot.platforms import load_app_config
    from storage import directory
    from storage.db import Database

    try:
        tenant = load_app_config(settings.config_path).meetings.graph_tenant
        calendar = calendar_for(tenant, env)
    except ConfigError as error:
        return Result(PROBLEM, "calendar", text("doctor.calendar.config", error=error)
                      ) if "app.yaml" not in str(error) else None
    if calendar is None:
        return Result(SKIP, "calendar", text("doctor.calendar.skip"))
    db = Database(settings.database_url, **settings.database_options)
    try:
        async with db.session() as session:
            mailbox = await directory.some_email(session)
    except Exception as error:
        return Result(SKIP, "calendar", text("doctor.calendar.no_directory",
                                             error=type(error).__name__))
    finally:
        await db.close()
    return await probe_calendar(calendar, mailbox)


async def check_directory(settings: Settings, env: Mapping[str, str]) -> list[Result]:
    """Each directory source app.yaml names (``directory.graph``, ``.slack``, ``.scim``):
    can Tandem read it with what IT granted? One small read each, nothing saved."""
    from bot.directory_command import sources
    from bot.platforms import load_app_config

    try:
        config = load_app_config(settings.config_path)
    except ConfigError:
        return []  # the app.yaml line says what is wrong
    try:
        chosen = sources(settings, config, env=env)
    except ConfigError as error:
        return [Result(PROBLEM, "directory", text("doctor.directory.config", error=error))]
    results = []
    for source in chosen:
        try:
            detail = await asyncio.wait_for(source.probe(), NETWORK_TIMEOUT_SECONDS * 4)
        except ConfigError as error:
            results.append(Result(PROBLEM, "directory", text("doctor.directory.config",
                                                             error=error)))
        except TimeoutError:
            results.append(Result(PROBLEM, "directory", text("doctor.directory.timeout",
                                                             source=source.name)))
        except TandemError as error:
            results.append(Result(PROBLEM, "directory", text(
                "doctor.directory.refused", source=source.name,
                error=text(error.key, **error.params))))
        except Exception as error:  # a Slack refusal (SlackApiError), a network error
            results.append(Result(PROBLEM, "directory", text(
                "doctor.directory.refused", source=source.name,
                error=str(error)[:300] or type(error).__name__)))
        else:
            results.append(Result(OK, "directory", text(
                f"doctor.directory.ok.{source.name}", detail=detail)))
    return results


async def probe_calendar(calendar: Calendar, mailbox: str | None) -> Result:
    """One free/busy question for ``mailbox``: granted, refused, or failing."""
    from conversations.calendars import CalendarDenied

    if mailbox is None:
        return Result(PROBLEM, "calendar", text("doctor.calendar.no_mailbox"))
    start = datetime.now(UTC)
    try:
        await asyncio.wait_for(calendar.busy([mailbox], start, start + timedelta(hours=1)),
                               NETWORK_TIMEOUT_SECONDS * 4)
    except CalendarDenied as refused:
        return Result(PROBLEM, "calendar", text("doctor.calendar.refused",
                                                detail=refused.detail))
    except TimeoutError:
        return Result(PROBLEM, "calendar", text("doctor.calendar.timeout"))
    except TandemError as error:
        return Result(PROBLEM, "calendar", text("doctor.calendar.failed", error=error.params))
    return Result(OK, "calendar", text("doctor.calendar.ok"))


async def diagnose(out: TextIO, language: str = "en") -> int:
    """Print one line per check in ``language``; the exit code."""
    # The clients narrate their retries; the lines printed here say what matters.
    for noisy in ("urllib3", *(name for p in discover() for name in p.noisy_loggers)):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    results: list[Result] = []

    def report(result: Result) -> None:
        results.append(result)
        print(result.line(language), file=out, flush=True)

    environment, settings = check_environment()
    report(environment)
    if settings is not None:
        report(check_config(settings))
        report(await check_database(settings))
        calendar = await check_calendar(settings, os.environ)
        if calendar is not None:
            report(calendar)
        for line in await check_directory(settings, os.environ):
            report(line)
        platforms = discover()
        for platform in platforms:
            found = await platform.doctor(platform.settings(settings.platforms))
            report(Result(found.status, platform.name, found.detail))
        names = {platform.name for platform in platforms}
        if all(r.status == SKIP for r in results if r.name in names):
            report(Result(PROBLEM, "platforms", text("doctor.no_platform",
                                                     needs=needs_line(language))))
    problems = sum(r.status == PROBLEM for r in results)
    print(t(language, "doctor.problems", count=problems) if problems
          else t(language, "doctor.all_passed"), file=out)
    # Exit 2, as every command does, when the configuration itself is wrong.
    if any(r.status == PROBLEM and r.name in ("environment", "app.yaml") for r in results):
        return 2
    return 1 if problems else 0
