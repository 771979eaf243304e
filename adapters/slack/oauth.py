"""Slack's OAuth install mode: ``GET /slack/install`` and ``GET /slack/oauth_redirect``.

Bolt's own flow does the work (state, ``oauth.v2.access``, ``auth.test``); this
module adds what a programme needs: an installation outside the programme's
organisation (app.yaml's ``organisation.slack``) is refused before anything is
stored, and the installer sees pages in the programme's language.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping
from typing import Any

from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import extract_enterprise_id, extract_team_id
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation

from bot.core.i18n import t

OUTSIDE = "outside_organisation"


class OutsideOrganisation(BoltError):
    """An install into a workspace or org that is not the programme's."""


def belongs(allowed: Collection[str], enterprise_id: str | None, team_id: str | None) -> bool:
    """Whether a request or installation is the programme's: app.yaml names its
    Enterprise Grid org (E...) or its workspaces (T...); naming none allows all."""
    return not allowed or bool({enterprise_id, team_id} & set(allowed))


def payload_belongs(allowed: Collection[str], payload: Mapping[str, Any]) -> bool:
    if not allowed:
        return True
    data = dict(payload)
    enterprise_id, team_id = extract_enterprise_id(data), extract_team_id(data)
    # Slack's URL check and SSL check name no workspace: nothing to keep apart.
    return (enterprise_id is None and team_id is None) or belongs(allowed, enterprise_id,
                                                                  team_id)


class ProgrammeOAuthFlow(AsyncOAuthFlow):
    """Bolt's flow, refusing installations outside the programme's organisation."""

    allowed: Collection[str] = ()

    async def store_installation(self, request: AsyncBoltRequest,
                                 installation: Installation) -> None:
        if not belongs(self.allowed, installation.enterprise_id,
                       None if installation.is_enterprise_install else installation.team_id):
            raise OutsideOrganisation(OUTSIDE)
        await super().store_installation(request, installation)


def _page(title: str, text: str, status: int) -> BoltResponse:
    body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
            "</body></html>")
    return BoltResponse(status=status, body=body,
                        headers={"Content-Type": "text/html; charset=utf-8"})


def pages(language: str, programme: str) -> AsyncCallbackOptions:
    """What the installer's browser shows at the end of the flow."""

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        found = args.installation
        place = (found.enterprise_name if found.is_enterprise_install else found.team_name) \
            or found.enterprise_id or found.team_id or "Slack"
        return _page(t(language, "grid.installed_title"),
                     t(language, "grid.installed", programme=programme, place=place), 200)

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        if isinstance(args.error, OutsideOrganisation):
            return _page(t(language, "grid.outside_title"),
                         t(language, "grid.outside", programme=programme), 403)
        return _page(t(language, "grid.install_failed_title"),
                     t(language, "grid.install_failed", reason=args.reason),
                     args.suggested_status_code)

    return AsyncCallbackOptions(success=success, failure=failure)
