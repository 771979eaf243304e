"""``tandem doctor``'s Slack line in OAuth mode: every installation in the database
is asked ``auth.test`` with its own token, and its granted scopes are compared with
the ones the app needs.

OK lists the installations; PROBLEM names the workspace or org and what to do
(reinstall through ``/slack/install``, or have the Org Admin add the app).
"""

from __future__ import annotations

import asyncio
import os

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.installation_store import DatabaseInstallationStore
from adapters.slack.manifest import BOT_SCOPES
from adapters.slack.settings import SlackSettings
from bot.core.clock import SystemClock
from bot.core.settings import Settings
from bot.host.platform import NETWORK_TIMEOUT_SECONDS, OK, PROBLEM, Check
from storage.db import Database


def _where(found: Installation) -> str:
    if found.is_enterprise_install:
        return f"org {found.enterprise_name or ''} ({found.enterprise_id}, org-wide)".replace(
            "org  (", "org (")
    return f"workspace {found.team_name or ''} ({found.team_id})".replace(
        "workspace  (", "workspace (")


async def _problem(settings: SlackSettings, found: Installation) -> str | None:
    """What is wrong with one installation, or None."""
    client = AsyncWebClient(token=found.bot_token, base_url=settings.api_url,
                            timeout=int(NETWORK_TIMEOUT_SECONDS))
    try:
        await asyncio.wait_for(client.auth_test(), NETWORK_TIMEOUT_SECONDS + 1)
    except SlackApiError as error:
        data = error.response.data if isinstance(error.response.data, dict) else {}
        code = str(data.get("error") or f"HTTP {error.response.status_code}")
        return (f"{_where(found)}: Slack refused its token ({code}): reinstall through "
                "/slack/install")
    except (ClientError, TimeoutError, OSError) as error:
        return f"{_where(found)}: Slack did not answer ({type(error).__name__})"
    missing = sorted(set(BOT_SCOPES) - set(found.bot_scopes or ()))
    if missing:
        return (f"{_where(found)}: scopes missing ({', '.join(missing)}): update the app's "
                "scopes (tandem slack-manifest) and reinstall through /slack/install")
    return None


async def check_installations(settings: SlackSettings) -> Check:
    assert settings.token_key
    environment = Settings.from_env(os.environ)
    db = Database(environment.database_url, **environment.database_options)
    try:
        store = DatabaseInstallationStore(db, SystemClock(), settings.token_key)
        stored, found = await store.count(), await store.all()
    except Exception as error:  # the database line above says why
        return Check(PROBLEM, f"could not read the installations ({type(error).__name__})")
    finally:
        await db.close()
    if stored > len(found):
        return Check(PROBLEM, f"{stored - len(found)} installation(s) cannot be decrypted with "
                              "SLACK_TOKEN_KEY: restore the key they were saved with, or "
                              "reinstall through /slack/install")
    if not found:
        return Check(PROBLEM, "OAuth mode, but the app is installed nowhere yet: open "
                              "https://HOST/slack/install (on Enterprise Grid, as Org Admin)")
    problems = [p for p in await asyncio.gather(*(_problem(settings, f) for f in found)) if p]
    if problems:
        return Check(PROBLEM, "; ".join(problems))
    return Check(OK, f"{len(found)} installation(s) work with the scopes they need: "
                     + ", ".join(_where(f) for f in found))
