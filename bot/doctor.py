"""``tandem doctor``: is this installation ready to run? One line per check.

Each line starts with OK, PROBLEM or SKIP (a platform that is not configured),
names the check and, for a problem, says in plain words what to do. The exit
code is 0 when nothing is a PROBLEM, 1 otherwise. Secrets are never printed:
the database URL is shown with its password hidden.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO, TypeVar
from urllib.parse import urlparse

from bot.core.errors import ConfigError
from bot.core.settings import Settings

OK, PROBLEM, SKIP = "OK", "PROBLEM", "SKIP"
NETWORK_TIMEOUT_SECONDS = 10.0
T = TypeVar("T")

#: Slack's error codes for auth.test, as an operator would fix them.
SLACK_TOKEN_PROBLEMS = {
    "invalid_auth": "the bot token was rejected by Slack (invalid_auth): copy the Bot User "
                    "OAuth Token (xoxb-...) again from your app's OAuth & Permissions page",
    "not_authed": "Slack received no token (not_authed): set SLACK_BOT_TOKEN to the Bot User "
                  "OAuth Token (xoxb-...)",
    "token_revoked": "the bot token was revoked (token_revoked): reinstall the app to the "
                     "workspace and copy the new Bot User OAuth Token",
    "token_expired": "the bot token has expired (token_expired): turn off token rotation or "
                     "reinstall the app and copy the new Bot User OAuth Token",
    "account_inactive": "the token belongs to a deleted app or deactivated workspace "
                        "(account_inactive): reinstall the app and copy the new token",
    "team_access_not_granted": "the token has no access to this workspace "
                               "(team_access_not_granted): install the app to the workspace",
}
#: Microsoft Entra's error codes for the client-credentials token request.
TEAMS_CREDENTIAL_PROBLEMS = {
    "invalid_client": "Microsoft rejected the app password (invalid_client): create a new "
                      "client secret for the app and copy its Value (not its Secret ID) into "
                      "MICROSOFT_APP_PASSWORD",
    "unauthorized_client": "Microsoft does not know this MICROSOFT_APP_ID "
                           "(unauthorized_client): copy the Application (client) ID again; a "
                           "single-tenant app also needs MICROSOFT_APP_TENANT_ID",
    "invalid_request": "Microsoft refused the request (invalid_request): check "
                       "MICROSOFT_APP_ID (a GUID) and MICROSOFT_APP_TENANT_ID",
}


@dataclass(frozen=True)
class Result:
    status: str
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<8} {self.name:<12} {self.detail}"


def check_environment() -> tuple[Result, Settings | None]:
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        return Result(PROBLEM, "environment", f"{error.field}: {error.problem}"), None
    return Result(OK, "environment", "variables read"), settings


def check_config(settings: Settings) -> Result:
    from bot.core.config import load_config

    try:
        config = load_config(settings.config_path)
    except ConfigError as error:
        return Result(PROBLEM, "app.yaml", f"{error}: fix it, then run `tandem check-config`")
    return Result(OK, "app.yaml", f"{config.source}: programme {config.programme_name!r}, "
                                  f"round {config.round.name!r}")


async def check_database(settings: Settings) -> Result:
    from sqlalchemy.engine import make_url

    from bot.health import sqlite_file
    from storage.db import Database, head_revision

    try:
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        db = Database(settings.database_url, **settings.database_options)
    except Exception as error:
        return Result(PROBLEM, "database", f"DATABASE_URL is not a usable database URL "
                                           f"({type(error).__name__}): e.g. "
                                           "postgresql+asyncpg://USER:PASSWORD@HOST/NAME")
    path = sqlite_file(db)
    if path is not None and not path.exists():
        await db.close()  # asking would create an empty file where the data should be
        return Result(PROBLEM, "database", f"the SQLite file {path} does not exist: check "
                                           "DATABASE_URL, or run `tandem migrate` to create it")
    try:
        revision = await asyncio.wait_for(db.current_revision(), NETWORK_TIMEOUT_SECONDS)
    except TimeoutError:
        return Result(PROBLEM, "database", f"{shown} did not answer within "
                                           f"{NETWORK_TIMEOUT_SECONDS:g} s: is the server up "
                                           "and reachable from here?")
    except Exception as error:  # the driver's text may hold the URL: only its type is shown
        return Result(PROBLEM, "database", f"could not open {shown} ({type(error).__name__}): "
                                           "check DATABASE_URL, the server and the password")
    finally:
        await db.close()
    head = head_revision()
    if revision is None:
        return Result(PROBLEM, "database", f"{shown} has no Tandem schema yet: run "
                                           "`tandem migrate`")
    if revision != head:
        return Result(PROBLEM, "database", f"{shown} is at revision {revision}, this version "
                                           f"needs {head}: run `tandem migrate`")
    return Result(OK, "database", f"{shown} is reachable and its schema is current")


async def check_slack(settings: Settings) -> Result:
    token = settings.slack_bot_token
    if not token:
        return Result(SKIP, "slack", "not configured (SLACK_BOT_TOKEN is not set)")
    if token.startswith("xoxp-"):
        return Result(PROBLEM, "slack", "SLACK_BOT_TOKEN holds a user token (xoxp-...): use "
                                        "the Bot User OAuth Token (xoxb-...) instead")
    if not (settings.slack_signing_secret or settings.slack_app_token):
        return Result(PROBLEM, "slack", "SLACK_SIGNING_SECRET is not set: copy the Signing "
                                        "Secret from your app's Basic Information page")
    from aiohttp import ClientError
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=token, base_url=settings.slack_api_url,
                            timeout=int(NETWORK_TIMEOUT_SECONDS))
    host = urlparse(settings.slack_api_url).hostname or settings.slack_api_url
    try:
        answer = await asyncio.wait_for(client.auth_test(), NETWORK_TIMEOUT_SECONDS + 1)
    except SlackApiError as error:
        data = error.response.data if isinstance(error.response.data, dict) else {}
        code = str(data.get("error") or f"HTTP {error.response.status_code}")
        return Result(PROBLEM, "slack", SLACK_TOKEN_PROBLEMS.get(
            code, f"Slack refused the bot token ({code}): copy the Bot User OAuth Token "
                  "again, or reinstall the app"))
    except (ClientError, TimeoutError, OSError) as error:
        return Result(PROBLEM, "slack", f"could not reach Slack at {host} "
                                        f"({type(error).__name__}): check the network, a proxy, "
                                        "or SLACK_API_URL")
    return Result(OK, "slack", f"the bot token works: bot {answer.get('user_id')} in workspace "
                               f"{answer.get('team')!r} ({answer.get('team_id')})")


async def check_teams(settings: Settings) -> Result:
    app_id, password = settings.microsoft_app_id, settings.microsoft_app_password
    if not app_id and not password:
        return Result(SKIP, "teams", "not configured: MICROSOFT_APP_ID and "
                                     "MICROSOFT_APP_PASSWORD are not set, so /api/messages "
                                     "accepts unauthenticated requests (Emulator mode only)")
    if not app_id:
        return Result(PROBLEM, "teams", "MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID "
                                        "is missing: copy the bot's Application (client) ID")
    if not password:
        return Result(PROBLEM, "teams", "MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD "
                                        "is missing: copy a client secret's Value from the "
                                        "app registration")
    from botframework.connector.auth import MicrosoftAppCredentials

    credentials = MicrosoftAppCredentials(app_id, password, settings.microsoft_app_tenant_id)
    host = urlparse(credentials.oauth_endpoint).hostname or "login.microsoftonline.com"
    try:
        await _in_daemon_thread(credentials.get_access_token, NETWORK_TIMEOUT_SECONDS)
    except PermissionError as error:  # Entra answered, and said no
        text = str(error)
        code = next((c for c in TEAMS_CREDENTIAL_PROBLEMS if c in text), None)
        return Result(PROBLEM, "teams", TEAMS_CREDENTIAL_PROBLEMS[code] if code else
                      "Microsoft refused the Teams credentials: check MICROSOFT_APP_ID, "
                      "MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID")
    except (TimeoutError, OSError, ValueError):
        # requests' errors are OSErrors; msal raises ValueError on an unusable authority.
        return Result(PROBLEM, "teams", f"could not reach {host} to check the Teams "
                                        "credentials: check the network or a proxy")
    return Result(OK, "teams", f"Microsoft issued a token for app {app_id}")


async def _in_daemon_thread(call: Callable[[], T], within_seconds: float) -> T:
    """msal has no timeout of its own; a daemon thread cannot keep the process alive
    when it hangs (asyncio.to_thread's pool would be waited for at exit)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        try:
            value = call()
        except BaseException as error:
            failed = error  # the except clause unbinds ``error`` when it ends
            loop.call_soon_threadsafe(settle, lambda: future.set_exception(failed))
        else:
            loop.call_soon_threadsafe(settle, lambda: future.set_result(value))

    threading.Thread(target=run, name="doctor-teams", daemon=True).start()
    return await asyncio.wait_for(future, within_seconds)


async def diagnose(out: TextIO) -> int:
    # The clients narrate their retries; the lines printed here say what matters.
    for noisy in ("slack_sdk", "urllib3", "msal"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    results: list[Result] = []

    def report(result: Result) -> None:
        results.append(result)
        print(result.line(), file=out, flush=True)

    environment, settings = check_environment()
    report(environment)
    if settings is not None:
        report(check_config(settings))
        report(await check_database(settings))
        report(await check_slack(settings))
        report(await check_teams(settings))
        if all(r.status == SKIP for r in results if r.name in ("slack", "teams")):
            report(Result(PROBLEM, "platforms", "neither Slack nor Teams is configured: set "
                                                "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or "
                                                "MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD"))
    problems = sum(r.status == PROBLEM for r in results)
    print(f"{problems} problem(s) found" if problems else "all checks passed", file=out)
    return 1 if problems else 0
