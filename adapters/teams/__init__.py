"""Microsoft Teams: botbuilder's CloudAdapter on the shared server, Adaptive Cards both ways.

The Teams platform, declared to the host by ``PLATFORM``: its variables
(``MICROSOFT_APP_*``, in ``settings.py``), ``/api/messages`` (``adapter.py``),
the credential check of ``tandem doctor`` (``doctor.py``), ``tandem
teams-package`` (``package.py``) and the strings only Teams shows (``catalogues/``).
"""

from __future__ import annotations

from pathlib import Path

from adapters.teams import package
from adapters.teams.settings import TeamsSettings
from bot.core.i18n import add_catalogues
from bot.host.platform import Command, Platform, lazy

#: Bot Framework activities arrive here.
ROUTE = "/api/messages"
#: Activities carry card data and attachment links, but no file contents.
MAX_BODY_BYTES = 1024 * 1024
add_catalogues(Path(__file__).parent / "catalogues")

PLATFORM = Platform(
    name="teams", title="Teams", read_settings=TeamsSettings.from_env,
    needs="MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD",
    build=lazy("adapters.teams.adapter", "build"), doctor=lazy("adapters.teams.doctor", "check"),
    routes={ROUTE: MAX_BODY_BYTES}, noisy_loggers=("msal",),
    commands=(Command("teams-package", "write the Teams app package (manifest and icons) "
                      "as a zip", package.add_arguments, package.run),),
)
