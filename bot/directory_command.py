"""``tandem directory import FILE`` (the HR system's CSV export) and ``tandem
directory sync`` (Microsoft Graph, Slack's profiles, Slack's SCIM API: each source
app.yaml names, in turn): the company directory from the command line, with a
progress bar on large files and one report at the end."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.config import AppConfig
from bot.core.errors import COMMAND_LINE, ConfigError
from bot.core.settings import Settings

if TYPE_CHECKING:
    # Imported where used: ``tandem --help`` and ``serve`` build the parser and
    # must not pay for the database layer and rich.
    from conversations.directory_import import AccountFinder
    from conversations.directory_sync import DirectorySource

#: Below this many lines a progress bar would only flicker.
BAR_FROM_LINES = 5000


def finders(settings: Settings, config: AppConfig, env: Any = None) -> list[AccountFinder]:
    """The platforms that can find people by e-mail: Slack, when it is configured, and
    Teams through Microsoft Graph, when app.yaml names the tenant (directory.graph)."""
    found: list[AccountFinder] = []
    slack = settings.platforms.get("slack")
    if slack is not None and getattr(slack, "bot_token", None):
        from adapters.slack.adapter import make_client
        from adapters.slack.email_lookup import SlackEmailLookup

        found.append(SlackEmailLookup(make_client(slack.bot_token, slack.api_url)))
    graph = graph_source(settings, config, env)
    if graph is not None:
        from bot.graph_directory import GraphUserLookup

        found.append(GraphUserLookup(graph))
    return found


async def close(found: list[AccountFinder]) -> None:
    for finder in found:
        closing = getattr(finder, "aclose", None)
        if closing is not None:
            await closing()


class Bars:
    """One rich progress bar per step (reading, each platform's look-ups), on stderr."""

    def __init__(self, show: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), transient=True,
                                 disable=not show or not sys.stderr.isatty())
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if step not in self.tasks:
            self.tasks[step] = self.progress.add_task(step, total=total)
        self.progress.update(self.tasks[step], completed=done, total=total)

    def __enter__(self) -> Bars:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()


def run_import(settings: Settings, config: AppConfig, path: Path, dry_run: bool,
               language: str) -> int:
    if config.directory.csv_columns is None:
        raise ConfigError(config.source, "directory.csv.columns", "directory.import.no_mapping")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(COMMAND_LINE, "FILE", "config.problem.cannot_read", path=path,
                          error=error.strerror) from None

    from bot.core.clock import SystemClock
    from conversations.context import FlowContext
    from conversations.directory_import import import_csv
    from storage.db import Database

    async def run() -> int:
        db = Database(settings.database_url, **settings.database_options)
        try:
            await db.ensure_current()
            ctx = FlowContext(config, SystemClock(), db, {})
            looking = finders(settings, config)
            try:
                with Bars(data.count(b"\n") >= BAR_FROM_LINES) as bars:
                    report = await import_csv(ctx, data, looking, dry_run=dry_run,
                                              progress=bars)
            finally:
                await close(looking)
            print(report.text(language))
            return 0 if report.ok else 1
        finally:
            await db.close()

    return asyncio.run(run())


def graph_source(settings: Settings, config: AppConfig, env: Any = None) -> Any:
    """The Microsoft Graph source app.yaml names, or None."""
    import os

    from bot.graph_directory import GraphSettings, GraphSource

    tenant = config.directory.graph_tenant
    if tenant is None:
        return None
    return GraphSource(GraphSettings.from_env(tenant, os.environ if env is None else env))


def slack_clients(settings: Settings, runtime: Any = None) -> Any:
    """How to reach Slack: the running adapter's clients (token or OAuth mode), else
    a client for ``SLACK_BOT_TOKEN``; None without Slack."""
    for adapter in getattr(runtime, "adapters", ()):
        if getattr(adapter, "platform", None) == "slack" and hasattr(adapter, "clients"):
            return adapter.clients
    slack = settings.platforms.get("slack")
    if slack is None or not getattr(slack, "bot_token", None):
        return None
    from adapters.slack.adapter import make_client
    from adapters.slack.clients import OneWorkspace

    return OneWorkspace(make_client(slack.bot_token, slack.api_url))


def sources(settings: Settings, config: AppConfig, runtime: Any = None, env: Any = None,
            nightly: bool = False) -> list[DirectorySource]:
    """Every directory source app.yaml names (with ``nightly``: those synced at night)."""
    env = os.environ if env is None else env
    chosen = config.directory
    found: list[DirectorySource] = []
    if chosen.graph_tenant is not None and (chosen.graph_nightly or not nightly):
        found.append(graph_source(settings, config, env))
    if chosen.slack_fields is not None and (chosen.slack_nightly or not nightly):
        from adapters.slack.profile_directory import SlackProfileSource

        clients = slack_clients(settings, runtime)
        if clients is None:
            raise ConfigError(config.source, "directory.slack", "directory.sync.no_slack")
        found.append(SlackProfileSource(clients, chosen.slack_fields, config.source))
    if chosen.scim_url is not None and (chosen.scim_nightly or not nightly):
        from adapters.slack.scim_directory import ScimSource

        found.append(ScimSource.from_env(chosen.scim_url, env))
    return found


def run_sync(settings: Settings, config: AppConfig, language: str) -> int:
    from bot.core.clock import SystemClock
    from bot.host.runtime import Runtime
    from bot.platforms import start_adapters
    from conversations.directory_sync import sync
    from storage.db import Database

    async def run() -> int:
        db = Database(settings.database_url, **settings.database_options)
        try:
            # The platforms, so that leavers' partners and the coordinators are told.
            runtime = Runtime(settings, config, SystemClock(), db)
            start_adapters(runtime)
            chosen = sources(settings, config, runtime)
            if not chosen:
                raise ConfigError(config.source, "directory", "directory.sync.no_source")
            await db.ensure_current()
            for source in chosen:
                with Bars(True) as bars:
                    report = await sync(runtime.ctx, source, bars)
                print(report.text(language))
            return 0
        finally:
            await db.close()

    return asyncio.run(run())


def add_commands(sub: Any, handler: Any) -> None:
    """``tandem directory import``: added to the CLI's parser by ``bot.cli``."""
    top = sub.add_parser("directory", help="the company directory: import it from the HR "
                         "system", description="the company directory (the org chart)")
    actions = top.add_subparsers(dest="directory_command", required=True, metavar="ACTION")
    read = actions.add_parser("import", help="import an HR system's CSV export "
                              "(columns: directory.csv in app.yaml); all or nothing")
    read.add_argument("file", type=Path, help="the CSV file")
    read.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    read.set_defaults(handler=handler)
    sync = actions.add_parser("sync", help="read the directory from each source app.yaml "
                              "names (directory.graph, directory.slack, directory.scim) "
                              "and mark leavers")
    sync.set_defaults(handler=handler)

