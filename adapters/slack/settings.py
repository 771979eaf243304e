"""Slack's environment variables. Two modes, chosen with ``SLACK_MODE``:

``token`` (the default): one workspace, one bot token (``SLACK_BOT_TOKEN``)
copied from the app's page. ``oauth``: the app is installed through Slack's
OAuth flow (``/slack/install``) into several workspaces or org-wide on
Enterprise Grid; the tokens live in Tandem's database, encrypted with
``SLACK_TOKEN_KEY``, and the app's ``SLACK_CLIENT_ID`` / ``SLACK_CLIENT_SECRET``
come from its Basic Information page. Secrets never appear in a repr or a log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.errors import ENVIRONMENT, ConfigError
from bot.core.settings import variable

DEFAULT_API_URL = "https://slack.com/api/"
TOKEN, OAUTH = "token", "oauth"
MODES = (TOKEN, OAUTH)
#: The variables whose presence says "this installation means to run Slack".
VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
OAUTH_VARIABLES = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_TOKEN_KEY")


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    #: Socket Mode (development behind a firewall) instead of HTTP events.
    app_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    #: ``token`` (one workspace, SLACK_BOT_TOKEN) or ``oauth`` (installations in the database).
    mode: str = TOKEN
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    #: The Fernet key that encrypts the installations' tokens at rest.
    token_key: str | None = field(default=None, repr=False)
    #: Where Slack sends the installer back (``https://HOST/slack/oauth_redirect``);
    #: left out, the app's single Redirect URL is used.
    redirect_uri: str | None = None
    #: Where the browser is sent to authorise (Slack's page; tests point it elsewhere).
    authorize_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings:
        api_url = variable(env, "SLACK_API_URL") or DEFAULT_API_URL
        mode = (variable(env, "SLACK_MODE") or TOKEN).lower()
        if mode not in MODES:
            raise ConfigError(ENVIRONMENT, "SLACK_MODE", "config.problem.slack_mode", value=mode)
        return cls(
            bot_token=variable(env, "SLACK_BOT_TOKEN"),
            signing_secret=variable(env, "SLACK_SIGNING_SECRET"),
            app_token=variable(env, "SLACK_APP_TOKEN"),
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            mode=mode,
            client_id=variable(env, "SLACK_CLIENT_ID"),
            client_secret=variable(env, "SLACK_CLIENT_SECRET"),
            token_key=variable(env, "SLACK_TOKEN_KEY"),
            redirect_uri=variable(env, "SLACK_REDIRECT_URI"),
        )

    @property
    def oauth(self) -> bool:
        return self.mode == OAUTH

    @property
    def enabled(self) -> bool:
        return not self.missing()

    def variables_set(self) -> list[str]:
        values = (self.bot_token, self.signing_secret, self.app_token)
        found = [name for name, value in zip(VARIABLES, values, strict=True) if value]
        secrets = (self.client_id, self.client_secret, self.token_key)
        found += [name for name, value in zip(OAUTH_VARIABLES, secrets, strict=True) if value]
        return found + (["SLACK_MODE"] if self.oauth else [])

    def missing(self) -> list[str]:
        if self.oauth:
            wanted = zip(OAUTH_VARIABLES, (self.client_id, self.client_secret, self.token_key),
                         strict=True)
            missing = [name for name, value in wanted if not value]
            return missing + ([] if self.signing_secret else ["SLACK_SIGNING_SECRET"])
        missing = [] if self.bot_token else ["SLACK_BOT_TOKEN"]
        if not (self.signing_secret or self.app_token):
            # Either one will do; a slash says so in any language.
            missing.append("SLACK_SIGNING_SECRET/SLACK_APP_TOKEN")
        return missing
