"""The ``tandem`` command: serve, migrate, demo, check-config and the platform helpers.

The platform helpers (``slack-manifest``, ``teams-package``) are declared by the
platforms' folders (``Platform.commands``) and found by ``bot.platforms``.

Configuration problems are printed as "file: field: problem" with exit code 2,
never as a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from bot.core.config import AppConfig
from bot.core.errors import COMMAND_LINE, ConfigError, TandemError, user_text
from bot.core.i18n import FALLBACK, LANGUAGES, t
from bot.core.settings import Settings
from bot.host.platform import Command
from bot.logs import configure_from_env
from bot.platforms import (
    configured,
    discover,
    explain,
    load_app_config,
    needs_line,
    require_complete,
    settings_from_env,
    start_adapters,
)

EXIT_CONFIG = 2


def _load() -> tuple[Settings, AppConfig]:
    """The environment and app.yaml; a half-configured platform is refused here, so
    that no command runs with a platform silently off."""
    settings = settings_from_env()
    require_complete(settings)
    return settings, load_app_config(settings.config_path)


def _language(args: argparse.Namespace) -> str:
    """The CLI's language: English unless ``--language`` says otherwise."""
    return str(getattr(args, "language", None) or "en")


def cmd_check_config(args: argparse.Namespace) -> int:
    language = _language(args)
    if args.explain:
        print(explain(language), end="")
        return 0
    settings, config = _load()
    print(t(language, "cli.check.ok", source=config.source, programme=config.programme_name,
            round=config.round.name, topics=len(config.survey.topics)))
    platforms = [platform.title for platform in configured(settings)]
    print(t(language, "cli.check.platforms",
            platforms=t(language, "cli.list_separator").join(platforms) if platforms
            else t(language, "cli.none_configured")))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import diagnose

    return asyncio.run(diagnose(sys.stdout, _language(args)))


def cmd_migrate(args: argparse.Namespace) -> int:
    from storage.db import Database

    settings = settings_from_env()

    async def run() -> str | None:
        db = Database(settings.database_url, **settings.database_options)
        try:
            await db.migrate()
            return await db.current_revision()
        finally:
            await db.close()

    revision = asyncio.run(run())
    print(t(_language(args), "cli.migrated", revision=revision))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.core.clock import SystemClock
    from bot.host.runtime import Runtime
    from bot.server import create_app
    from storage.db import Database, SchemaOutOfDate

    settings, config = _load()
    db = Database(settings.database_url, **settings.database_options)

    async def make_app() -> web.Application:
        try:
            await db.ensure_current()
        except SchemaOutOfDate:
            await db.close()
            raise
        # A process killed between an erasure's commit and its checkpoint left the
        # erased text in the SQLite files: scrubbed before anything else happens.
        await db.scrub_files()
        runtime = Runtime(settings, config, SystemClock(), db)
        start_adapters(runtime)
        _nightly_directory(settings, config, runtime)
        app = create_app(runtime, scheduler=settings.scheduler, language=_language(args))
        # Everything alive now (modules, app.yaml, catalogues, SQLAlchemy's mappers)
        # lives as long as the process: the garbage collector need never walk it
        # again. Its full collections were the slowest answers under load.
        gc.freeze()
        return app

    try:
        web.run_app(make_app(), port=settings.port, access_log=None, print=None)
    except SchemaOutOfDate:
        print(t(_language(args), "cli.schema_out_of_date"), file=sys.stderr)
        return EXIT_CONFIG
    return 0


def cmd_run_due(args: argparse.Namespace) -> int:

    from bot.core.clock import FixedClock
    from bot.host.runtime import Runtime
    from conversations.rhythm import run_due
    from storage.db import Database

    at = _instant(args.at)
    settings, config = _load()

    language = _language(args)
    if not configured(settings):
        print(t(language, "cli.no_platform", needs=needs_line(language)))
        return 0

    async def run() -> str:
        db = Database(settings.database_url, **settings.database_options)
        try:
            await db.ensure_current()
            await db.scrub_files()  # as at ``serve``: what a killed erasure left behind
            runtime = Runtime(settings, config, FixedClock(at), db)
            start_adapters(runtime)
            _nightly_directory(settings, config, runtime)
            report = await run_due(runtime.ctx, runtime.clock.now())
            return report.summary(language)
        finally:
            await db.close()

    print(asyncio.run(run()))
    return 0


def _nightly_directory(settings: Settings, config: AppConfig, runtime: Any) -> None:
    """The directory sources the scheduler syncs from at night, as app.yaml names them."""
    chosen = config.directory
    if not (chosen.graph_nightly or chosen.slack_nightly or chosen.scim_nightly):
        return
    from bot.directory_command import sources
    from conversations.directory_sync import use_nightly

    use_nightly(sources(settings, config, runtime, nightly=True))


def _instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(COMMAND_LINE, "--at", "config.problem.not_instant", value=text
                          ) from None
    if at.tzinfo is None:
        raise ConfigError(COMMAND_LINE, "--at", "config.problem.instant_zone")
    return at


def cmd_purge(args: argparse.Namespace) -> int:
    from bot.core.clock import SystemClock
    from conversations.context import FlowContext
    from conversations.privacy import purge_expired
    from storage.db import Database

    settings, config = _load()
    if config.privacy.retention_months is None:
        raise ConfigError(config.source, "privacy.retention_months",
                          "config.problem.no_retention")

    async def run() -> str:
        db = Database(settings.database_url, **settings.database_options)
        try:
            await db.ensure_current()
            ctx = FlowContext(config, SystemClock(), db, {})
            return (await purge_expired(ctx, dry_run=args.dry_run)).summary(_language(args))
        finally:
            await db.close()

    print(asyncio.run(run()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import DemoOptions, run_demo

    options = DemoOptions(language=args.language or "en", quiet=args.quiet, person=args.person,
                          keep=args.keep.resolve() if args.keep else None)
    asyncio.run(run_demo(options, out=sys.stdout))
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from bot.match_command import run_match

    settings, config = _load()
    return asyncio.run(run_match(settings, config, args.round, args.dry_run, args.csv,
                                 language=args.language or "en"))


def cmd_report(args: argparse.Namespace) -> int:

    from bot.core.clock import FixedClock, SystemClock
    from bot.report import write_report

    settings, config = _load()
    clock = FixedClock(_instant(args.at)) if args.at else SystemClock()
    # A document for the programme: in app.yaml's language unless --language says otherwise.
    config = replace(config, default_language=args.language or config.default_language)
    path = asyncio.run(write_report(settings, config, args.round, args.format, args.output,
                                    clock))
    as_of = clock.now().astimezone(config.timezone)
    print(t(_language(args), "cli.report_written", path=path, as_of=f"{as_of:%Y-%m-%d %H:%M}"))
    return 0


def cmd_directory(args: argparse.Namespace) -> int:
    from bot.directory_command import run_import, run_sync

    settings, config = _load()
    if args.directory_command == "sync":
        return run_sync(settings, config, args.language or "en")
    return run_import(settings, config, args.file, args.dry_run, args.language or "en")


def platform_command(command: Command) -> Callable[[argparse.Namespace], int]:
    """A platform's own command (its packaging), run with app.yaml."""

    def handler(args: argparse.Namespace) -> int:
        print(command.run(args, load_app_config(Settings.from_env().config_path)))
        return 0

    return handler


#: argparse's own complaints about a command line, as catalogue keys: its texts are
#: English (gettext without a German catalogue), the CLI answers in its language.
_USAGE_MISTAKES = (
    (re.compile(r"the following arguments are required: (?P<arguments>.+)"), "required"),
    (re.compile(r"unrecognized arguments: (?P<arguments>.+)"), "unrecognized"),
    (re.compile(r"argument (?P<argument>\S+): invalid choice: (?P<value>.+) "
                r"\(choose from (?P<choices>.+)\)"), "choice"),
    (re.compile(r"argument (?P<argument>\S+): expected one argument"), "one_value"),
    (re.compile(r"argument (?P<argument>\S+): invalid \S+ value: (?P<value>.+)"), "value"),
)


class _Parser(argparse.ArgumentParser):
    """argparse, telling a mistaken command line in the CLI's language (exit 2)."""

    language = FALLBACK

    def format_usage(self) -> str:
        formatter = self._get_formatter()
        formatter.add_usage(self.usage, self._actions, self._mutually_exclusive_groups,
                            prefix=t(self.language, "cli.usage.prefix"))
        return formatter.format_help()

    def error(self, message: str) -> NoReturn:
        for pattern, kind in _USAGE_MISTAKES:
            if found := pattern.fullmatch(message):
                message = t(self.language, f"cli.usage.{kind}", **found.groupdict())
                break
        self.print_usage(sys.stderr)
        self.exit(2, t(self.language, "cli.usage.error", prog=self.prog, problem=message) + "\n")


def _language_in(argv: Sequence[str]) -> str:
    """``--language`` as given before the command, read ahead of parsing so that
    parsing's own mistakes are told in it."""
    words = list(argv)
    for index, word in enumerate(words):
        value = (word.split("=", 1)[1] if word.startswith("--language=")
                 else words[index + 1] if word == "--language" and index + 1 < len(words)
                 else None)
        if value in LANGUAGES:
            return value
    return FALLBACK


def parser(language: str = FALLBACK) -> argparse.ArgumentParser:
    """The command line; its own mistakes are told in ``language``."""
    # A subclass per call: the sub-commands' parsers are made from type(top).
    bound: type[_Parser] = type("_Parser", (_Parser,), {"language": language})
    top = bound(
        prog="tandem",
        description="Reverse-mentoring programmes on Slack and Microsoft Teams.",
    )
    top.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    top.add_argument("--language", choices=LANGUAGES, default=None,
                     help="the language of the answers (default: en; the report's: app.yaml's)")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], text: str
            ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=text, description=text)
        command.set_defaults(handler=handler)
        return command

    add("serve", cmd_serve, "run the bot: every configured platform's endpoint on $PORT")
    add("migrate", cmd_migrate, "upgrade the database ($DATABASE_URL) to the current schema")
    check = add("check-config", cmd_check_config, "validate app.yaml and the environment")
    check.add_argument("--explain", action="store_true",
                       help="list every key of app.yaml with its type, default and meaning")
    add("doctor", cmd_doctor, "check app.yaml, the environment, the database and each "
        "platform's credentials; exit 2 on a configuration problem, 1 on any other")
    due = add("run-due", cmd_run_due,
              "send whatever is due at an instant, then exit (catch-up, tests, fast-forward)")
    due.add_argument("--at", required=True, help="ISO-8601 instant with a time zone")
    purge = add("purge", cmd_purge, "erase the personal data of rounds past app.yaml's "
                "privacy.retention_months (run-due does this too)")
    purge.add_argument("--dry-run", action="store_true", help="only say what would be erased")
    demo = add("demo", cmd_demo,
               "run a programme on a local platform with synthetic employees (no accounts)")
    demo.add_argument("--quiet", action="store_true",
                      help="print only the summary for the coordinator")
    demo.add_argument("--person", metavar="NAME",
                      help="only what this person saw or did (part of the name is enough)")
    demo.add_argument("--keep", type=Path, metavar="DB",
                      help="keep the SQLite database in this file (for `tandem report`)")
    match = add("match", cmd_match,
                "match a round's sign-ups and print the proposal (coordinators confirm in chat)")
    match.add_argument("--round", required=True, help="the round's name, as in app.yaml")
    match.add_argument("--dry-run", action="store_true", help="compute only, store nothing")
    match.add_argument("--csv", type=Path, help="also write the proposal as CSV to this file")
    report = add("report", cmd_report,
                 "write the round's figures as a board report (HTML) or a spreadsheet (CSV)")
    report.add_argument("--round", required=True, help="the round's name, as in app.yaml")
    report.add_argument("--format", choices=("html", "csv"), default="html",
                        help="html (self-contained, for a board) or csv (default: html)")
    report.add_argument("-o", "--output", type=Path, required=True, help="the file to write")
    report.add_argument("--at", help="the figures as of this ISO-8601 instant with a time "
                        "zone (default: now)")
    from bot.directory_command import add_commands

    add_commands(sub, cmd_directory)
    for platform in discover():
        for command in platform.commands:
            command.add_arguments(add(command.name, platform_command(command), command.help))
    return top


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser(_language_in(sys.argv[1:] if argv is None else argv)).parse_args(argv)
    except ConfigError as error:  # TANDEM_ADAPTERS names a package that is not there
        print(t("en", "cli.config_error", error=user_text(error, "en", operator=True)),
              file=sys.stderr)
        return EXIT_CONFIG
    language = _language(args)
    # Alembic narrates every plugin it loads; operators only need our summary line.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        # JSON lines for `serve` (a log shipper reads them), text for people at a
        # terminal; TANDEM_LOG_FORMAT=json|text overrides. See bot/logs.py.
        configure_from_env(args.command, logging.DEBUG if args.verbose else logging.INFO)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except ConfigError as error:
        print(t(language, "cli.config_error", error=user_text(error, language, operator=True)),
              file=sys.stderr)
        return EXIT_CONFIG
    except TandemError as error:
        print(t(language, "cli.error", error=user_text(error, language)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the last resort: a sentence, and the traceback with -v
        logging.getLogger("tandem").debug("the command failed", exc_info=error)
        print(t(language, "cli.failed", command=args.command,
                problem=f"{type(error).__name__}: {error}")
              + ("" if args.verbose else t(language, "cli.failed_hint")), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())


