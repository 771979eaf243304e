"""The root error type, and the one place that turns errors into user-facing text."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.i18n import t

log = logging.getLogger(__name__)


class TandemError(Exception):
    """Root of every error Tandem raises on purpose.

    ``key`` names a catalogue message that explains the problem to the person
    who caused it; ``params`` fill it in.
    """

    key = "error.unexpected"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)


class ConfigError(TandemError):
    """app.yaml or the environment is wrong; reported as file, field and problem."""

    key = "error.config"

    def __init__(self, source: str, field: str, problem: str, *, line: int | None = None,
                 others: tuple[ConfigError, ...] = ()) -> None:
        super().__init__(self.key, source=source, field=field, problem=problem)
        self.source, self.field, self.problem, self.line = source, field, problem, line
        #: Further problems found in the same pass, each on its own line of ``str()``.
        self.others = others

    def where(self) -> str:
        return f"{self.source}, line {self.line}" if self.line else self.source

    def __str__(self) -> str:
        return "\n".join(f"{e.where()}: {e.field}: {e.problem}" for e in (self, *self.others))


class UserError(TandemError):
    """Something the person can fix or should know; nothing was changed."""


class NotAllowed(UserError):
    key = "error.not_allowed"


class PlatformError(TandemError):
    """A chat platform refused or failed a call."""

    key = "error.platform"

    def __init__(self, detail: str, *, unreachable: bool = False, retry: bool = False) -> None:
        super().__init__(self.key)
        self.detail, self.unreachable, self.retry = detail, unreachable, retry

    def __str__(self) -> str:
        return self.detail


def user_text(error: BaseException, language: str) -> str:
    """What a person is told about ``error``: never a traceback, always their language."""
    if isinstance(error, TandemError) and not isinstance(error, (ConfigError, PlatformError)):
        return t(language, error.key, **error.params)
    log.error("unexpected error shown to a user as a generic message", exc_info=error)
    return t(language, "error.unexpected")
