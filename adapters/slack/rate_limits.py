"""Slack's rate limits, held per installation (OAuth mode).

Slack counts its limits per method, per workspace, per app, and says how long to
wait with ``Retry-After``. slack_sdk's own handler sleeps that long inside the
call, which in a fan-out ties up a sender slot per waiting message: one busy
workspace would slow every other. Here a 429 instead holds back that one
installation until its ``Retry-After`` has passed (on the injected clock): its
messages fail fast as "try again" (the outbox releases them for a later run),
and the fan-out carries on with the other workspaces at full speed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.core.clock import Clock

#: When Slack sends a 429 without Retry-After (it should not), wait this long.
DEFAULT_SECONDS = 1


class Holds:
    """Until when each installation is held back."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._until: dict[str, datetime] = {}

    def hold(self, key: str, seconds: float) -> None:
        until = self.clock.now() + timedelta(seconds=seconds)
        if key not in self._until or until > self._until[key]:
            self._until[key] = until

    def left(self, key: str) -> float:
        """Seconds until the installation may be called again (0: now)."""
        until = self._until.get(key)
        if until is None:
            return 0.0
        left = (until - self.clock.now()).total_seconds()
        if left <= 0:
            del self._until[key]
            return 0.0
        return left


def retry_after(response: HttpResponse) -> int:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values and str(values[0]).isdigit():
            return int(values[0])
    return DEFAULT_SECONDS


class HoldOnRateLimit(AsyncRetryHandler):
    """A 429 holds the installation back; the call is not retried in place."""

    def __init__(self, holds: Holds, key: str) -> None:
        super().__init__(max_retry_count=1)
        self.holds, self.key = holds, key

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        if response is not None and response.status_code == 429:
            self.holds.hold(self.key, retry_after(response))
        return False
