"""The Teams app package: ``manifest.json``, two icons and the German strings, in a zip.

Who sees what: a Teams admin uploads the zip (``tandem teams-package``); people
then find "Tandem" in their Teams apps, with the commands listed in the chat's
command menu in English or German, as their Teams client is set.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.core.i18n import t, t_or

MANIFEST_VERSION = "1.17"
SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/"
    f"v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
LOCALIZATION_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/"
    f"v{MANIFEST_VERSION}/MicrosoftTeams.Localization.schema.json"
)
PACKAGE_VERSION = "1.0.0"
ACCENT = (0x2E, 0x7D, 0x6B)
COMMANDS = (
    "signup", "status", "pause", "resume", "leave", "help",
    "match", "announce", "dashboard", "report",
)
SCOPES = ("personal", "team")
DEFAULT_LANGUAGE = "en"
OTHER_LANGUAGES = ("de",)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def build_package(
    app_id: str,
    url: str,
    out: Path,
    *,
    developer_name: str = "Tandem",
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> Path:
    """Write the package zip to ``out`` and return its path.

    ``app_id`` is the bot's Microsoft App ID (a GUID); ``url`` the public
    ``https://HOST`` where ``/api/messages`` is served.
    """
    if not _GUID.match(app_id):
        raise ValueError(f"app id must be a GUID (the bot's Microsoft App ID), not {app_id!r}")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"url must be https://HOST, not {url!r}")
    site = f"https://{parts.netloc}"
    manifest = build_manifest(
        app_id, site, parts.hostname, developer_name,
        privacy_url or site, terms_url or site,
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", _json(manifest))
        for language in OTHER_LANGUAGES:
            package.writestr(f"{language}.json", _json(localization(language)))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return out


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _strings(language: str) -> dict[str, str]:
    """Every localisable string, keyed as the Teams localisation file names them."""
    strings = {
        "name.short": t(language, "teams.app.name_short"),
        "name.full": t(language, "teams.app.name_full"),
        "description.short": t(language, "teams.app.description_short"),
        "description.full": t(language, "teams.app.description_full"),
    }
    for list_index, _scope in enumerate(SCOPES):
        for index, command in enumerate(COMMANDS):
            key = f"bots[0].commandLists[{list_index}].commands[{index}]"
            strings[f"{key}.title"] = t_or(language, f"command.{command}", command)
            strings[f"{key}.description"] = t(language, f"teams.app.command.{command}")
    return strings


def build_manifest(
    app_id: str, site: str, host: str, developer_name: str, privacy_url: str, terms_url: str
) -> dict[str, Any]:
    strings = _strings(DEFAULT_LANGUAGE)
    get: Callable[[str], str] = strings.__getitem__
    command_lists = [
        {
            "scopes": [scope],
            "commands": [
                {
                    "title": get(f"bots[0].commandLists[{i}].commands[{n}].title"),
                    "description": get(f"bots[0].commandLists[{i}].commands[{n}].description"),
                }
                for n in range(len(COMMANDS))
            ],
        }
        for i, scope in enumerate(SCOPES)
    ]
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": PACKAGE_VERSION,
        "id": app_id,
        "developer": {
            "name": developer_name,
            "websiteUrl": site,
            "privacyUrl": privacy_url,
            "termsOfUseUrl": terms_url,
        },
        "name": {"short": get("name.short"), "full": get("name.full")},
        "description": {"short": get("description.short"), "full": get("description.full")},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": list(SCOPES),
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": command_lists,
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
        "localizationInfo": {
            "defaultLanguageTag": DEFAULT_LANGUAGE,
            "additionalLanguages": [
                {"languageTag": language, "file": f"{language}.json"}
                for language in OTHER_LANGUAGES
            ],
        },
    }


def localization(language: str) -> dict[str, Any]:
    return {"$schema": LOCALIZATION_SCHEMA, **_strings(language)}


# -- icons: two linked rings (a tandem), drawn without any imaging library -----------------

Pixel = tuple[int, int, int, int]


def _rings(size: int, x: float, y: float) -> bool:
    """Whether (x, y) lies on one of two overlapping rings centred in a ``size`` square."""
    radius, width = size * 0.26, max(size * 0.07, 2.0)
    for cx in (size * 0.37, size * 0.63):
        distance = ((x - cx) ** 2 + (y - size / 2) ** 2) ** 0.5
        if abs(distance - radius) <= width / 2:
            return True
    return False


def _draw(size: int, ink: Pixel, paper: Pixel) -> bytes:
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type 0: none
        for x in range(size):
            row.extend(ink if _rings(size, x + 0.5, y + 0.5) else paper)
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def color_icon() -> bytes:
    """192x192, white rings on the accent colour."""
    return _draw(192, (255, 255, 255, 255), (*ACCENT, 255))


def outline_icon() -> bytes:
    """32x32, white rings on a transparent background (as Teams requires)."""
    return _draw(32, (255, 255, 255, 255), (0, 0, 0, 0))


def png(width: int, height: int, raw_rgba_rows: bytes) -> bytes:
    """A PNG (8-bit RGBA) from rows that each start with their filter byte."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw_rgba_rows, 9))
        + chunk(b"IEND", b"")
    )
