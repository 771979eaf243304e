"""``tandem doctor``'s Teams line: does Microsoft issue a token for the app registration?

The operator sees OK, SKIP (not configured: the Emulator mode, said plainly)
or PROBLEM with which value to copy from the Azure portal.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlparse

from adapters.teams.settings import TeamsSettings
from bot.host.platform import NETWORK_TIMEOUT_SECONDS, OK, PROBLEM, SKIP, Check

T = TypeVar("T")

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


async def check(settings: TeamsSettings) -> Check:
    app_id, password = settings.app_id, settings.app_password
    if not app_id and not password:
        if settings.tenant_id:
            return Check(PROBLEM, "MICROSOFT_APP_TENANT_ID is set but MICROSOFT_APP_ID and "
                                  "MICROSOFT_APP_PASSWORD are missing: copy the bot's "
                                  "Application (client) ID and a client secret's Value")
        return Check(SKIP, "not configured: MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD are "
                           "not set, so /api/messages accepts unauthenticated requests "
                           "(Emulator mode only)")
    if not app_id:
        return Check(PROBLEM, "MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID "
                              "is missing: copy the bot's Application (client) ID")
    if not password:
        return Check(PROBLEM, "MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD "
                              "is missing: copy a client secret's Value from the "
                              "app registration")
    from botframework.connector.auth import MicrosoftAppCredentials

    credentials = MicrosoftAppCredentials(app_id, password, settings.tenant_id)
    host = urlparse(credentials.oauth_endpoint).hostname or "login.microsoftonline.com"
    try:
        await _in_daemon_thread(credentials.get_access_token, NETWORK_TIMEOUT_SECONDS)
    except PermissionError as error:  # Entra answered, and said no
        text = str(error)
        code = next((c for c in TEAMS_CREDENTIAL_PROBLEMS if c in text), None)
        return Check(PROBLEM, TEAMS_CREDENTIAL_PROBLEMS[code] if code else
                     "Microsoft refused the Teams credentials: check MICROSOFT_APP_ID, "
                     "MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID")
    except (TimeoutError, OSError, ValueError):
        # requests' errors are OSErrors; msal raises ValueError on an unusable authority.
        return Check(PROBLEM, f"could not reach {host} to check the Teams "
                              "credentials: check the network or a proxy")
    return Check(OK, f"Microsoft issued a token for app {app_id}")


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
