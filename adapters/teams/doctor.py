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
from bot.core.i18n import text
from bot.host.platform import NETWORK_TIMEOUT_SECONDS, OK, PROBLEM, SKIP, Check

T = TypeVar("T")

#: Microsoft Entra's error codes for the client-credentials token request that an
#: operator fixes in their own way (``teams.doctor.credentials.<code>``).
TEAMS_CREDENTIAL_PROBLEMS = ("invalid_client", "unauthorized_client", "invalid_request")


async def check(settings: TeamsSettings) -> Check:
    app_id, password = settings.app_id, settings.app_password
    if not app_id and not password:
        if settings.tenant_id:
            return Check(PROBLEM, text("teams.doctor.only_tenant"))
        return Check(SKIP, text("teams.doctor.skip"))
    if not app_id:
        return Check(PROBLEM, text("teams.doctor.no_app_id"))
    if not password:
        return Check(PROBLEM, text("teams.doctor.no_password"))
    from botframework.connector.auth import MicrosoftAppCredentials

    credentials = MicrosoftAppCredentials(app_id, password, settings.tenant_id)
    host = urlparse(credentials.oauth_endpoint).hostname or "login.microsoftonline.com"
    try:
        await _in_daemon_thread(credentials.get_access_token, NETWORK_TIMEOUT_SECONDS)
    except PermissionError as error:  # Entra answered, and said no
        said = str(error)
        code = next((c for c in TEAMS_CREDENTIAL_PROBLEMS if c in said), None)
        return Check(PROBLEM, text(f"teams.doctor.credentials.{code}" if code
                                   else "teams.doctor.refused"))
    except (TimeoutError, OSError, ValueError):
        # requests' errors are OSErrors; msal raises ValueError on an unusable authority.
        return Check(PROBLEM, text("teams.doctor.unreachable", host=host))
    return Check(OK, text("teams.doctor.ok", app_id=app_id))


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
