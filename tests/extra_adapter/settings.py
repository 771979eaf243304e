"""Webchat's one variable: the token the web page sends with every request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.settings import variable


@dataclass(frozen=True)
class WebchatSettings:
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebchatSettings:
        return cls(variable(env, "WEBCHAT_TOKEN"))

    def variables_set(self) -> list[str]:
        return ["WEBCHAT_TOKEN"] if self.token else []

    def missing(self) -> list[str]:
        return [] if self.token else ["WEBCHAT_TOKEN"]
