"""Webchat: a tiny extra platform that lives outside ``adapters/``, to prove the claim.

"A new platform is one folder" holds when a platform added here, with nothing
edited outside this folder, is served, checked and packaged like Slack and
Teams. ``TANDEM_ADAPTERS=tests.extra_adapter`` makes Tandem find it
(``bot/platforms.py``); ``test_webchat.py`` then signs a person up through it.

The platform itself: a web page posts JSON to ``POST /webchat/events`` with the
shared ``WEBCHAT_TOKEN`` as a bearer token, and gets the bot's answer as JSON;
what the bot sends on its own is kept per person (``WebchatMessenger.inbox``),
where a real page would fetch it.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.i18n import add_catalogues
from bot.host.platform import Command, Platform, lazy
from tests.extra_adapter import snippet
from tests.extra_adapter.settings import WebchatSettings

ROUTE = "/webchat/events"
add_catalogues(Path(__file__).parent / "catalogues")
snippet_command = Command("webchat-snippet", "print the HTML that embeds the web chat",
                          snippet.add_arguments, snippet.run)
# A command or a filled-in survey is a few KiB at most: 16 KiB.
PLATFORM = Platform("webchat", "Webchat", WebchatSettings.from_env,
                    lazy("tests.extra_adapter.adapter", "build"), "WEBCHAT_TOKEN",
                    lazy("tests.extra_adapter.adapter", "check"), {ROUTE: 16 * 1024},
                    (snippet_command,))
