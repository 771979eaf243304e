"""``tandem doctor``'s Slack line: does Slack accept the bot token (``auth.test``)?

The operator sees OK with the workspace's name, SKIP when Slack is not
configured, or PROBLEM with what to copy from which page of the Slack app.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from adapters.slack.settings import SlackSettings
from bot.host.platform import NETWORK_TIMEOUT_SECONDS, OK, PROBLEM, SKIP, Check

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


async def check(settings: SlackSettings) -> Check:
    if settings.oauth:
        if settings.missing():
            return Check(PROBLEM, f"SLACK_MODE=oauth, but {', '.join(settings.missing())} "
                                  "is not set (see the README's OAuth mode)")
        from adapters.slack.doctor_oauth import check_installations

        return await check_installations(settings)
    token = settings.bot_token
    if not token:
        if settings.variables_set():
            return Check(PROBLEM, f"{', '.join(settings.variables_set())} is set but "
                                  "SLACK_BOT_TOKEN is missing: copy the Bot User OAuth Token "
                                  "(xoxb-...) from your app's OAuth & Permissions page")
        return Check(SKIP, "not configured (SLACK_BOT_TOKEN is not set)")
    if token.startswith("xoxp-"):
        return Check(PROBLEM, "SLACK_BOT_TOKEN holds a user token (xoxp-...): use "
                              "the Bot User OAuth Token (xoxb-...) instead")
    if not (settings.signing_secret or settings.app_token):
        return Check(PROBLEM, "SLACK_SIGNING_SECRET is not set: copy the Signing "
                              "Secret from your app's Basic Information page")
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
        return Check(PROBLEM, SLACK_TOKEN_PROBLEMS.get(
            code, f"Slack refused the bot token ({code}): copy the Bot User OAuth Token "
                  "again, or reinstall the app"))
    except (ClientError, TimeoutError, OSError) as error:
        return Check(PROBLEM, f"could not reach Slack at {host} ({type(error).__name__}): "
                              "check the network, a proxy, or SLACK_API_URL")
    return Check(OK, f"the bot token works: bot {answer.get('user_id')} in workspace "
                     f"{answer.get('team')!r} ({answer.get('team_id')})")
