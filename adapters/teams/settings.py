"""Teams' environment variables: the Azure Bot's app registration. The password
never appears in a repr or a log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.settings import variable

VARIABLES = ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID")
#: Where tokens come from, for a private cloud or a local test issuer (the load
#: benchmark's); unset, botbuilder uses the public Bot Framework's.
ENDPOINT_VARIABLES = ("MICROSOFT_OPENID_METADATA_URL", "MICROSOFT_TOKEN_ISSUER",
                      "MICROSOFT_LOGIN_URL")


@dataclass(frozen=True)
class Endpoints:
    """The OpenID metadata that signs the channel's tokens, their issuer, and the
    authority the bot gets its own tokens from."""

    openid_metadata_url: str | None = None
    token_issuer: str | None = None
    login_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Endpoints:
        return cls(*(variable(env, name) for name in ENDPOINT_VARIABLES))

    def custom(self) -> bool:
        return any((self.openid_metadata_url, self.token_issuer, self.login_url))


@dataclass(frozen=True)
class TeamsSettings:
    #: Without it the bot answers unauthenticated requests (Bot Framework Emulator).
    app_id: str | None = None
    app_password: str | None = field(default=None, repr=False)
    #: Only for a single-tenant app registration.
    tenant_id: str | None = None
    endpoints: Endpoints = field(default_factory=Endpoints)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsSettings:
        app_id, password, tenant_id = (variable(env, name) for name in VARIABLES)
        return cls(app_id, password, tenant_id, Endpoints.from_env(env))

    def variables_set(self) -> list[str]:
        values = (self.app_id, self.app_password, self.tenant_id)
        return [name for name, value in zip(VARIABLES, values, strict=True) if value]

    def missing(self) -> list[str]:
        return [name for name, value in zip(VARIABLES[:2], (self.app_id, self.app_password),
                                             strict=True) if not value]
