"""The bolt app of OAuth mode: installations from the database, bolt's OAuth flow.

Bolt authorises every request with the installation of its workspace (or its
org, for an org-wide install) and rotates expiring bot tokens with their
refresh tokens; ``app_uninstalled`` and ``tokens_revoked`` delete the
installation through bolt's built-in listeners.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import ROTATE_MINUTES, Installations
from adapters.slack.installation_store import DatabaseInstallationStore, DatabaseStateStore
from adapters.slack.lifecycle import register_lifecycle
from adapters.slack.manifest import BOT_SCOPES
from adapters.slack.oauth import ProgrammeOAuthFlow, pages
from adapters.slack.settings import SlackSettings
from bot.host.runtime import Runtime


def oauth_app(runtime: Runtime, settings: SlackSettings, client: AsyncWebClient
              ) -> tuple[AsyncApp, Installations]:
    assert settings.client_id and settings.client_secret and settings.token_key
    config = runtime.config
    store = DatabaseInstallationStore(runtime.db, runtime.clock, settings.token_key)
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.client_id, client_secret=settings.client_secret,
        scopes=BOT_SCOPES, user_scopes=[], redirect_uri=settings.redirect_uri,
        installation_store=store, state_store=DatabaseStateStore(runtime.db, runtime.clock),
        callback_options=pages(config.default_language, config.programme_name),
        token_rotation_expiration_minutes=ROTATE_MINUTES,
        authorization_url=settings.authorize_url,
        # The install page is a plain redirect to Slack's consent screen.
        install_page_rendering_enabled=False,
        logger=logging.getLogger("slack_bolt"),
    )
    flow = ProgrammeOAuthFlow(client=client, settings=oauth_settings,
                              logger=logging.getLogger("slack_bolt"))
    flow.allowed = config.organisation.get("slack", ())
    app = AsyncApp(
        client=client, signing_secret=settings.signing_secret,
        installation_store=store, oauth_flow=flow,
        # ``handle`` checks every signature before bolt sees the request.
        request_verification_enabled=False,
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )
    app.enable_token_revocation_listeners()
    installations = Installations(store, runtime.db, runtime.clock, client,
                                  settings.client_id, settings.client_secret)
    register_lifecycle(app, runtime, installations)
    return app, installations
