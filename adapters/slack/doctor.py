"""``tandem doctor``'s Slack line: does Slack accept the bot token (``auth.test``)?

The operator sees OK with the workspace's name, SKIP when Slack is not
configured, or PROBLEM with what to copy from which page of the Slack app.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from adapters.slack.settings import SlackSettings
from bot.core.i18n import text
from bot.host.platform import NETWORK_TIMEOUT_SECONDS, OK, PROBLEM, SKIP, Check

#: Slack's error codes for auth.test that an operator fixes in their own way
#: (``slack.doctor.token.<code>``); any other is told as ``slack.doctor.refused``.
SLACK_TOKEN_PROBLEMS = ("invalid_auth", "not_authed", "token_revoked", "token_expired",
                        "account_inactive", "team_access_not_granted")


async def check(settings: SlackSettings) -> Check:
    if settings.oauth:
        if settings.missing():
            return Check(PROBLEM, text("slack.doctor.oauth_missing", missing=settings.missing()))
        from adapters.slack.doctor_oauth import check_installations

        return await check_installations(settings)
    token = settings.bot_token
    if not token:
        if settings.variables_set():
            return Check(PROBLEM, text("slack.doctor.no_token", set=settings.variables_set()))
        return Check(SKIP, text("slack.doctor.skip"))
    if token.startswith("xoxp-"):
        return Check(PROBLEM, text("slack.doctor.user_token"))
    if not (settings.signing_secret or settings.app_token):
        return Check(PROBLEM, text("slack.doctor.no_secret"))
    from aiohttp import ClientError
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=token, base_url=settings.api_url,
                            timeout=int(NETWORK_TIMEOUT_SECONDS))
    host = urlparse(settings.api_url).hostname or settings.api_url
    try:
        answer = await asyncio.wait_for(client.auth_test(), NETWORK_TIMEOUT_SECONDS + 1)
    except SlackApiError as error:
        data = error.response.data if isinstance(error.response.data, dict) else {}
        code = str(data.get("error") or f"HTTP {error.response.status_code}")
        return Check(PROBLEM, text(f"slack.doctor.token.{code}" if code in SLACK_TOKEN_PROBLEMS
                                   else "slack.doctor.refused", code=code))
    except (ClientError, TimeoutError, OSError) as error:
        return Check(PROBLEM, text("slack.doctor.unreachable", host=host,
                                   error=type(error).__name__))
    return Check(OK, text("slack.doctor.ok", bot=answer.get("user_id"), team=answer.get("team"),
                          team_id=answer.get("team_id")))
