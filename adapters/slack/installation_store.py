"""slack_sdk's installation and OAuth state stores, kept in Tandem's own database.

Bolt's OAuth flow saves an installation here when someone installs the app
(a workspace, or an org-wide install on Enterprise Grid), finds it for every
request, saves it again after a token rotation, and deletes it on
``app_uninstalled`` / ``tokens_revoked``. The tokens are encrypted with
``SLACK_TOKEN_KEY`` (Fernet) before they reach ``storage.installations``; the
database never holds one in clear.

The app asks for bot scopes only, so there is one installation per workspace
(or per org): a later install replaces the earlier one.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.core.clock import Clock
from bot.core.errors import ENVIRONMENT, ConfigError
from storage import installations
from storage.db import Database

log = logging.getLogger(__name__)
PLATFORM = "slack"
SECRET_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
STATE_SECONDS = 600
#: Told after an installation is saved (True: it is new, or back after an uninstall)
#: or removed: (enterprise id, team id, new).
Saved = Callable[[str | None, str | None, bool], Awaitable[None]]
Removed = Callable[[str | None, str | None], Awaitable[None]]


def cipher(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError):
        raise ConfigError(ENVIRONMENT, "SLACK_TOKEN_KEY", "slack.config.token_key") from None


def _json_safe(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(self, db: Database, clock: Clock, key: str) -> None:
        self.db, self.clock, self.fernet = db, clock, cipher(key)
        self.on_saved: list[Saved] = []
        self.on_removed: list[Removed] = []

    @property
    def logger(self) -> logging.Logger:
        return log

    # -- encryption ------------------------------------------------------------------

    def _seal(self, values: dict[str, Any]) -> str:
        return self.fernet.encrypt(json.dumps(values).encode()).decode()

    def _open(self, sealed: str) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = json.loads(self.fernet.decrypt(sealed.encode()))
        except InvalidToken:
            # Another SLACK_TOKEN_KEY than the one that sealed it: as if not installed
            # (a re-install seals the tokens anew), said once per lookup.
            log.error("slack: an installation's tokens cannot be decrypted with "
                      "SLACK_TOKEN_KEY (was the key changed?)")
            return {}
        return opened

    # -- slack_sdk's interface --------------------------------------------------------

    async def async_save(self, installation: Installation) -> None:
        values = installation.to_dict_for_copying()
        sealed = self._seal({name: values.pop(name, None) for name in SECRET_FIELDS})
        data = {name: _json_safe(value) for name, value in values.items()}
        expires = installation.bot_token_expires_at
        item = installations.Stored(
            enterprise_id=installation.enterprise_id,
            team_id=None if installation.is_enterprise_install else installation.team_id,
            is_enterprise_install=bool(installation.is_enterprise_install),
            installer_user_id=installation.user_id, secrets=sealed,
            expires_at=None if expires is None else datetime.fromtimestamp(expires, UTC),
            data=data, installed_at=datetime.fromtimestamp(installation.installed_at, UTC))
        async with self.db.session() as session:
            new = await installations.save(session, PLATFORM, item, self.clock.now())
        for listener in self.on_saved:
            await listener(item.enterprise_id, item.team_id, new)

    async def async_save_bot(self, bot: Bot) -> None:
        found = await self.async_find_installation(
            enterprise_id=bot.enterprise_id, team_id=bot.team_id,
            is_enterprise_install=bot.is_enterprise_install)
        if found is not None:
            found.bot_token, found.bot_refresh_token = bot.bot_token, bot.bot_refresh_token
            found.bot_token_expires_at = bot.bot_token_expires_at
            await self.async_save(found)

    async def async_find_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        if is_enterprise_install or (enterprise_id and not team_id):
            team_id = None
        async with self.db.reading() as session:
            stored = await installations.find(session, PLATFORM, enterprise_id, team_id)
            if stored is None and enterprise_id and team_id:
                # A workspace of an org installed org-wide: the org's installation.
                stored = await installations.find(session, PLATFORM, enterprise_id, None)
        if stored is None or (user_id is not None and stored.installer_user_id != user_id):
            return None
        tokens = self._open(stored.secrets)
        if not tokens.get("bot_token"):
            return None
        return Installation(**{**stored.data, **tokens})

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=is_enterprise_install)
        return None if found is None else found.to_bot()

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None
                               ) -> None:
        await self._remove(enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
    ) -> None:
        if user_id is None:
            await self._remove(enterprise_id, team_id)
        # A user's own token (none is asked for) goes with nothing else to delete.

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None
                               ) -> None:
        await self._remove(enterprise_id, team_id)

    async def _remove(self, enterprise_id: str | None, team_id: str | None) -> None:
        async with self.db.session() as session:
            removed = await installations.remove(session, PLATFORM, enterprise_id, team_id)
            if not removed and enterprise_id and team_id:
                # Events of an org-wide install name a team of the org: the install is
                # the org's.
                removed = await installations.remove(session, PLATFORM, enterprise_id, None)
                team_id = None if removed else team_id
        if removed:
            for listener in self.on_removed:
                await listener(enterprise_id, team_id)

    # -- for the adapter ----------------------------------------------------------------

    async def all(self) -> list[Installation]:
        async with self.db.reading() as session:
            stored = await installations.every(session, PLATFORM)
        found = []
        for item in stored:
            tokens = self._open(item.secrets)
            if tokens.get("bot_token"):
                found.append(Installation(**{**item.data, **tokens}))
        return found

    async def count(self) -> int:
        async with self.db.reading() as session:
            return await installations.count(session, PLATFORM)


class DatabaseStateStore(AsyncOAuthStateStore):
    """The OAuth flow's ``state``: issued with the install page, consumed once by the
    redirect. In the database, so that any instance can take the redirect."""

    def __init__(self, db: Database, clock: Clock, seconds: int = STATE_SECONDS) -> None:
        self.db, self.clock, self.seconds = db, clock, seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        async with self.db.session() as session:
            await installations.issue_state(
                session, state, self.clock.now() + timedelta(seconds=self.seconds))
        return state

    async def async_consume(self, state: str) -> bool:
        async with self.db.session() as session:
            return await installations.consume_state(session, state, self.clock.now())
