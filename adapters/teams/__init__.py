"""Microsoft Teams: botbuilder's CloudAdapter on the shared server, Adaptive Cards both ways.

This folder is the whole platform: ``PLATFORM`` below tells the host its
variables (``settings.py``), its adapter (``adapter.py``), its route and body
limit, its doctor check (``doctor.py``) and ``tandem teams-package``
(``package.py``). Nothing outside ``adapters/teams/`` names Teams.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from adapters.teams import package
from adapters.teams.settings import TeamsSettings
from bot.core.i18n import add_catalogues
from bot.host.platform import Check, Command, Platform

if TYPE_CHECKING:
    from bot.host.runtime import PlatformAdapter, Runtime

KIB = 1024
# This platform's own strings (buttons, notices, the app's listing), both languages.
add_catalogues(Path(__file__).parent / "catalogues")
#: Bot Framework activities arrive here.
ROUTE = "/api/messages"
#: Activities carry card data and attachment links, but no file contents.
MAX_BODY_BYTES = 1024 * KIB


def _build(runtime: Runtime, settings: TeamsSettings) -> PlatformAdapter | None:
    from adapters.teams.adapter import build

    return build(runtime, settings)


async def _doctor(settings: TeamsSettings) -> Check:
    from adapters.teams.doctor import check

    return await check(settings)


PLATFORM = Platform(
    name="teams",
    title="Teams",
    read_settings=TeamsSettings.from_env,
    build=_build,
    needs="MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD",
    doctor=_doctor,
    routes={ROUTE: MAX_BODY_BYTES},
    noisy_loggers=("msal",),
    commands=(Command("teams-package", "write the Teams app package (manifest and icons) as a "
                      "zip", package.add_arguments, package.run),),
)
