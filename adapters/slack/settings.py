"""Slack's environment variables: the bot token, the signing secret, Socket Mode's
app token and the Web API's base URL. Secrets never appear in a repr or a log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.settings import variable

DEFAULT_API_URL = "https://slack.com/api/"
#: The variables whose presence says "this installation means to run Slack".
VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    #: Socket Mode (development behind a firewall) instead of HTTP events.
    app_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings:
        api_url = variable(env, "SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            bot_token=variable(env, "SLACK_BOT_TOKEN"),
            signing_secret=variable(env, "SLACK_SIGNING_SECRET"),
            app_token=variable(env, "SLACK_APP_TOKEN"),
            api_url=api_url if api_url.endswith("/") else api_url + "/",
        )

    @property
    def enabled(self) -> bool:
        return not self.missing()

    def variables_set(self) -> list[str]:
        values = (self.bot_token, self.signing_secret, self.app_token)
        return [name for name, value in zip(VARIABLES, values, strict=True) if value]

    def missing(self) -> list[str]:
        missing = [] if self.bot_token else ["SLACK_BOT_TOKEN"]
        if not (self.signing_secret or self.app_token):
            missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN)")
        return missing
