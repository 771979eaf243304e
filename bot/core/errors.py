"""The root error type, and the one place that turns errors into user-facing text."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.i18n import FALLBACK, Text, t, text

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
    """app.yaml or the environment is wrong; reported as file, line, field and problem.

    The problem is a catalogue key (``config.problem.*``) with its params, told in the
    reader's language by ``user_text``; ``str()`` and ``problem`` are the English.
    """

    key = "error.config"

    def __init__(self, source: str | Text, field: str, problem: str, /, *,
                 line: int | None = None, **params: Any) -> None:
        super().__init__(self.key, field=field)
        self.source, self.field, self.line = source, field, line
        self.text = Text(problem, params)
        #: Further problems found in the same pass, each on its own line of the text.
        self.others: tuple[ConfigError, ...] = ()

    @property
    def problem(self) -> str:
        return self.text.render(FALLBACK)

    def lines(self, language: str) -> list[str]:
        """One line per problem: where (file and line), the field, what is wrong."""
        return [_line(e, language) for e in (self, *self.others)]

    def render(self, language: str) -> str:
        return "\n".join(self.lines(language))

    def __str__(self) -> str:
        return self.render(FALLBACK)


def _line(error: ConfigError, language: str) -> str:
    return text("config.at_line" if error.line else "config.at", source=error.source,
                line=error.line, field=error.field, problem=error.text).render(language)


#: Where a problem outside app.yaml was found.
ENVIRONMENT = Text("config.source.environment")
COMMAND_LINE = Text("config.source.command_line")


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


def user_text(error: BaseException, language: str, *, operator: bool = False) -> str:
    """What a person is told about ``error``: never a traceback, always their language.
    The ``operator`` (who runs ``tandem``) is told a configuration problem in full:
    file, line, field, the value and what to write instead."""
    if isinstance(error, ConfigError) and operator:
        return error.render(language)
    if isinstance(error, TandemError) and not isinstance(error, (ConfigError, PlatformError)):
        return t(language, error.key, **error.params)
    log.error("unexpected error shown to a user as a generic message", exc_info=error)
    return t(language, "error.unexpected")
