"""Secrets and deployment settings: only ever from the environment, never logged.

These are the host's own variables (database, port, app.yaml's path, the
scheduler). Each platform reads its variables in its folder
(``adapters/<name>/settings.py``); the shell (``bot/platforms.py``) puts what
they read into ``Settings.platforms``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import ENVIRONMENT, ConfigError
from bot.core.i18n import text as words

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./tandem.db"
DEFAULT_POOL_SIZE = 10
DEFAULT_STATEMENT_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 3000
    config_path: str = "./app.yaml"
    #: Off on instances that should only answer requests (TANDEM_SCHEDULER=off).
    scheduler: bool = True
    #: PostgreSQL only: connections kept open per instance (as many again may overflow).
    database_pool_size: int = DEFAULT_POOL_SIZE
    #: PostgreSQL only: a statement running longer is cancelled by the server.
    database_statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    #: Each platform's settings by platform name, as its folder read them; a
    #: platform missing here runs with its defaults (nothing set).
    platforms: Mapping[str, Any] = field(default_factory=dict)

    @property
    def database_options(self) -> dict[str, int]:
        """Keyword arguments for ``storage.db.Database`` besides the URL."""
        return {"pool_size": self.database_pool_size,
                "statement_timeout_ms": self.database_statement_timeout_ms}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            return variable(env, name)

        port_text = get("PORT") or "3000"
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise ConfigError(ENVIRONMENT, "PORT", "config.problem.port", value=port_text)
        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            port=int(port_text),
            config_path=get("TANDEM_CONFIG") or "./app.yaml",
            scheduler=(get("TANDEM_SCHEDULER") or "on").lower() not in ("off", "0", "false"),
            database_pool_size=_whole_number(
                get("DATABASE_POOL_SIZE"), "DATABASE_POOL_SIZE", DEFAULT_POOL_SIZE, 1, 1000,
                "connections"),
            database_statement_timeout_ms=_whole_number(
                get("DATABASE_STATEMENT_TIMEOUT_MS"), "DATABASE_STATEMENT_TIMEOUT_MS",
                DEFAULT_STATEMENT_TIMEOUT_MS, 100, 3_600_000, "milliseconds"),
        )


def variable(env: Mapping[str, str], name: str) -> str | None:
    """A variable's value; unset and blank (``NAME=`` in a .env file) are both None."""
    value = env.get(name, "").strip()
    return value or None


def _whole_number(text: str | None, name: str, default: int, low: int, high: int, unit: str
                  ) -> int:
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConfigError(ENVIRONMENT, name, "config.problem.env_number",
                          unit=words(f"config.unit.{unit}"), low=low, high=high, value=text)
    return int(text)
