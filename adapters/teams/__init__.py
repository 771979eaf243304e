"""Microsoft Teams: botbuilder's CloudAdapter on the shared server, Adaptive Cards both ways.

The Teams platform, declared to the host by ``PLATFORM``: its variables
(``MICROSOFT_APP_*``, in ``settings.py``), ``/api/messages`` (``adapter.py``),
the credential check of ``tandem doctor`` (``doctor.py``), ``tandem
teams-package`` (``package.py``) and the strings only Teams shows (``catalogues/``).
"""

from __future__ import annotations

from adapters.teams import package
from adapters.teams.settings import TeamsSettings
from bot.host.platform import Platform

#: Bot Framework activities arrive here.
ROUTE = "/api/messages"
#: Activities carry card data and attachment links, but no file contents.
MAX_BODY_BYTES = 1024 * 1024

PLATFORM = Platform.folder(__name__, "Teams", TeamsSettings.from_env, {ROUTE: MAX_BODY_BYTES},
                           commands=(package.COMMAND,), noisy_loggers=("msal",))
