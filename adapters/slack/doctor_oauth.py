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
from bot.core.i18n import Text, text
from bot.core.settings import Settings
from bot.host.platform import NETWORK_TIMEOUT_SECONDS, OK, PROBLEM, Check
from storage.db import Database


def _where(found: Installation) -> Text:
    if found.is_enterprise_install:
        return text("slack.doctor.org", name=found.enterprise_name or "",
                    id=found.enterprise_id)
    return text("slack.doctor.workspace", name=found.team_name or "", id=found.team_id)


async def _problem(settings: SlackSettings, found: Installation) -> Text | None:
    """What is wrong with one installation, or None."""
    client = AsyncWebClient(token=found.bot_token, base_url=settings.api_url,
                            timeout=int(NETWORK_TIMEOUT_SECONDS))
    try:
        await asyncio.wait_for(client.auth_test(), NETWORK_TIMEOUT_SECONDS + 1)
    except SlackApiError as error:
        data = error.response.data if isinstance(error.response.data, dict) else {}
        code = str(data.get("error") or f"HTTP {error.response.status_code}")
        return text("slack.doctor.install_refused", where=_where(found), code=code)
    except (ClientError, TimeoutError, OSError) as error:
        return text("slack.doctor.install_silent", where=_where(found),
                    error=type(error).__name__)
    missing = sorted(set(BOT_SCOPES) - set(found.bot_scopes or ()))
    if missing:
        return text("slack.doctor.install_scopes", where=_where(found), missing=missing)
    return None


async def check_installations(settings: SlackSettings) -> Check:
    assert settings.token_key
    environment = Settings.from_env(os.environ)
    db = Database(environment.database_url, **environment.database_options)
    try:
        store = DatabaseInstallationStore(db, SystemClock(), settings.token_key)
        stored, found = await store.count(), await store.all()
    except Exception as error:  # the database line above says why
        return Check(PROBLEM, text("slack.doctor.installs_unreadable",
                                   error=type(error).__name__))
    finally:
        await db.close()
    if stored > len(found):
        return Check(PROBLEM, text("slack.doctor.installs_undecryptable",
                                   count=stored - len(found)))
    if not found:
        return Check(PROBLEM, text("slack.doctor.installed_nowhere"))
    problems = [p for p in await asyncio.gather(*(_problem(settings, f) for f in found)) if p]
    if problems:
        return Check(PROBLEM, text("slack.doctor.installs_problems", problems=problems))
    return Check(OK, text("slack.doctor.installs_ok", count=len(found),
                          where=[_where(f) for f in found]))
