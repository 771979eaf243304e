"""Log lines an operator's tools can read: one JSON object per line, secrets redacted.

``TANDEM_LOG_FORMAT=json|text`` chooses the format. Without it, ``tandem serve``
logs JSON (a log shipper reads it) and interactive commands log text (a person
reads it). Every line carries the id of the HTTP request it belongs to, so the
lines of one request can be found together; the same id goes back to the
caller in the ``X-Request-Id`` header.

Redaction is a safety net, not a licence: code still never logs message
bodies or secrets on purpose. The net catches Slack tokens (``xox?-...``),
bearer tokens and the secrets configured in the environment, wherever they
slipped in (a message, its arguments, an exception's text).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bot.core.errors import ENVIRONMENT, ConfigError

#: The current HTTP request's id; "-" outside a request (scheduler, commands).
request_id: ContextVar[str] = ContextVar("request_id", default="-")

FORMATS = ("json", "text")
REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
_PATTERNS = (
    re.compile(r"xox[abpre]-[A-Za-z0-9-]+"),  # Slack bot, user, app and refresh tokens
    re.compile(r"xapp-[A-Za-z0-9-]+"),         # Slack app-level tokens (Socket Mode)
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
)
#: Shorter configured values are not redacted: they would blank out common words.
MIN_SECRET_LENGTH = 6


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret that contains another is blanked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH},
                              key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text


class RedactingFilter(logging.Filter):
    """Freezes each record's message with secrets blanked, and stamps the request id."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        # The exception is now text; dropping exc_info stops formatters re-rendering it raw.
        record.exc_info = None
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def default_format(command: str | None) -> str:
    return "json" if command == "serve" else "text"


def handler(log_format: str, secrets: Iterable[str | None] = (),
            stream: object | None = None) -> logging.Handler:
    """A stream handler (stderr by default) in ``log_format``, redacting ``secrets``."""
    out = logging.StreamHandler(stream)  # type: ignore[arg-type]
    out.addFilter(RedactingFilter(Redactor(secrets)))
    out.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return out


def configure(log_format: str, level: int, secrets: Iterable[str | None] = ()) -> None:
    """Replace the root logger's handlers with one in ``log_format``."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(log_format, secrets))
    root.setLevel(level)
    # APScheduler narrates every job run ("Running job ... keep_lease", several a
    # minute): housekeeping, shown only with --verbose.
    logging.getLogger("apscheduler").setLevel(min(level, logging.DEBUG) if level <= logging.DEBUG
                                              else logging.WARNING)


#: Environment variables whose values must never reach a log line.
SECRET_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN",
                    "SLACK_CLIENT_SECRET", "SLACK_TOKEN_KEY", "MICROSOFT_APP_PASSWORD")


def secrets_in(env: Mapping[str, str]) -> list[str]:
    found = [env.get(name, "").strip() for name in SECRET_VARIABLES]
    try:
        found.append(urlsplit(env.get("DATABASE_URL", "")).password or "")
    except ValueError:  # a malformed URL is reported elsewhere, with a clear message
        pass
    return [s for s in found if s]


def configure_from_env(command: str | None, level: int,
                       env: Mapping[str, str] | None = None) -> None:
    """``TANDEM_LOG_FORMAT`` or the command's default; raises ConfigError when unknown."""
    env = os.environ if env is None else env
    chosen = env.get("TANDEM_LOG_FORMAT", "").strip().lower() or default_format(command)
    if chosen not in FORMATS:
        raise ConfigError(ENVIRONMENT, "TANDEM_LOG_FORMAT", "config.problem.log_format",
                          value=chosen)
    configure(chosen, level, secrets_in(env))
