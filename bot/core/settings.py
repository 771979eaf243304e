"""Secrets and deployment settings: only ever from the environment, never logged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./tandem.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_POOL_SIZE = 10
DEFAULT_STATEMENT_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 3000
    config_path: str = "./app.yaml"
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = field(default=None, repr=False)
    microsoft_app_tenant_id: str | None = None
    #: Off on instances that should only answer requests (TANDEM_SCHEDULER=off).
    scheduler: bool = True
    #: PostgreSQL only: connections kept open per instance (as many again may overflow).
    database_pool_size: int = DEFAULT_POOL_SIZE
    #: PostgreSQL only: a statement running longer is cancelled by the server.
    database_statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS

    @property
    def database_options(self) -> dict[str, int]:
        """Keyword arguments for ``storage.db.Database`` besides the URL."""
        return {"pool_size": self.database_pool_size,
                "statement_timeout_ms": self.database_statement_timeout_ms}

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        port_text = get("PORT") or "3000"
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise ConfigError("environment", "PORT", f"must be a port number, not {port_text!r}")
        api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            port=int(port_text),
            config_path=get("TANDEM_CONFIG") or "./app.yaml",
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            microsoft_app_id=get("MICROSOFT_APP_ID"),
            microsoft_app_password=get("MICROSOFT_APP_PASSWORD"),
            microsoft_app_tenant_id=get("MICROSOFT_APP_TENANT_ID"),
            scheduler=(get("TANDEM_SCHEDULER") or "on").lower() not in ("off", "0", "false"),
            database_pool_size=_whole_number(
                get("DATABASE_POOL_SIZE"), "DATABASE_POOL_SIZE", DEFAULT_POOL_SIZE, 1, 1000,
                "connections"),
            database_statement_timeout_ms=_whole_number(
                get("DATABASE_STATEMENT_TIMEOUT_MS"), "DATABASE_STATEMENT_TIMEOUT_MS",
                DEFAULT_STATEMENT_TIMEOUT_MS, 100, 3_600_000, "milliseconds"),
        )


def _whole_number(text: str | None, name: str, default: int, low: int, high: int, unit: str
                  ) -> int:
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConfigError("environment", name,
                          f"must be a whole number of {unit} from {low} to {high}, not {text!r}")
    return int(text)
