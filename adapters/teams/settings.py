"""Teams' environment variables: the Azure Bot's app registration. The password
never appears in a repr or a log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.settings import variable

VARIABLES = ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID")


@dataclass(frozen=True)
class TeamsSettings:
    #: Without it the bot answers unauthenticated requests (Bot Framework Emulator).
    app_id: str | None = None
    app_password: str | None = field(default=None, repr=False)
    #: Only for a single-tenant app registration.
    tenant_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsSettings:
        return cls(*(variable(env, name) for name in VARIABLES))

    def variables_set(self) -> list[str]:
        values = (self.app_id, self.app_password, self.tenant_id)
        return [name for name, value in zip(VARIABLES, values, strict=True) if value]

    def missing(self) -> list[str]:
        return [name for name, value in zip(VARIABLES[:2], (self.app_id, self.app_password),
                                             strict=True) if not value]
