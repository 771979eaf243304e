"""The Teams app package: ``manifest.json``, two icons and the other languages' strings, in a zip.

Who sees what: a Teams admin uploads the zip (``tandem teams-package``); people
then find the programme by its name (app.yaml's ``programme.name``, as the
Slack app is called) in their Teams apps, with the commands listed in the
chat's command menu in English or German, as their Teams client is set. The
listing links to the programme's privacy notice and terms of use
(``programme.privacy_url`` and ``programme.terms_url`` in app.yaml).
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.core.config import AppConfig
from bot.core.errors import COMMAND_LINE, ConfigError
from bot.core.i18n import FALLBACK, LANGUAGES, t, t_or
from bot.host.platform import Command
from conversations.command_list import teams_menus

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
#: The command menus, scope -> commands, from the one command list (at most
#: ``TEAMS_MENU_MAX`` per scope, as Teams allows).
MENUS = teams_menus()
SCOPES = tuple(MENUS)
DEFAULT_LANGUAGE = FALLBACK
OTHER_LANGUAGES = tuple(language for language in LANGUAGES if language != DEFAULT_LANGUAGE)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
#: Teams' limits for the app's short and full name.
SHORT_NAME_LENGTH, FULL_NAME_LENGTH = 30, 100


def build_package(
    app_id: str,
    url: str,
    out: Path,
    *,
    name: str,
    privacy_url: str,
    terms_url: str,
    developer_name: str = "Tandem",
) -> Path:
    """Write the package zip to ``out`` and return its path.

    ``app_id`` is the bot's Microsoft App ID (a GUID); ``url`` the public
    ``https://HOST`` where ``/api/messages`` is served; ``name`` the programme's.
    """
    if not _GUID.match(app_id):
        raise ValueError(f"app id must be a GUID (the bot's Microsoft App ID), not {app_id!r}")
    if not _is_https(url):
        raise ValueError(f"url must be https://HOST, not {url!r}")
    parts = urlsplit(url)
    for what, link in (("privacy url", privacy_url), ("terms url", terms_url)):
        if not _is_https(link):
            raise ValueError(f"{what} must be https://..., not {link!r}")
    site = f"https://{parts.netloc}"
    name = name.strip()
    manifest = build_manifest(app_id, site, parts.hostname or "", developer_name,
                              privacy_url, terms_url, name)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", _json(manifest))
        for language in OTHER_LANGUAGES:
            package.writestr(f"{language}.json", _json(localization(language, name)))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return out


def _is_https(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _strings(language: str, name: str) -> dict[str, str]:
    """Every localisable string, keyed as the Teams localisation file names them."""
    strings = {
        "name.short": name[:SHORT_NAME_LENGTH].strip(),
        "name.full": t(language, "teams.app.name_full", name=name)[:FULL_NAME_LENGTH],
        "description.short": t(language, "teams.app.description_short"),
        "description.full": t(language, "teams.app.description_full"),
    }
    for list_index, scope in enumerate(SCOPES):
        for index, command in enumerate(MENUS[scope]):
            key = f"bots[0].commandLists[{list_index}].commands[{index}]"
            strings[f"{key}.title"] = t_or(language, f"command.{command}", command)
            strings[f"{key}.description"] = t(language, f"teams.app.command.{command}")
    return strings


def build_manifest(
    app_id: str, site: str, host: str, developer_name: str, privacy_url: str, terms_url: str,
    name: str,
) -> dict[str, Any]:
    strings = _strings(DEFAULT_LANGUAGE, name)
    get: Callable[[str], str] = strings.__getitem__
    command_lists = [
        {
            "scopes": [scope],
            "commands": [
                {
                    "title": get(f"bots[0].commandLists[{i}].commands[{n}].title"),
                    "description": get(f"bots[0].commandLists[{i}].commands[{n}].description"),
                }
                for n in range(len(MENUS[scope]))
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


def localization(language: str, name: str) -> dict[str, Any]:
    return {"$schema": LOCALIZATION_SCHEMA, **_strings(language, name)}


# -- tandem teams-package -------------------------------------------------------------------

def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--app-id", required=True, help="the Microsoft App ID (a GUID)")
    command.add_argument("--url", required=True, help="public base URL, https://HOST")
    command.add_argument("-o", "--output", type=Path, default=Path("tandem-teams.zip"),
                         help="where to write the zip (default: tandem-teams.zip)")


def run(args: argparse.Namespace, config: AppConfig) -> str:
    """Write the package named after the programme, linking app.yaml's privacy notice
    and terms of use (a ConfigError names the missing key)."""
    links = {}
    for key in ("privacy_url", "terms_url"):
        link = getattr(config, key)
        if not link:
            raise ConfigError(config.source, f"programme.{key}", f"teams.config.no_{key}")
        if not _is_https(link):
            raise ConfigError(config.source, f"programme.{key}", "config.problem.https",
                              value=link)
        links[key] = link
    if not _GUID.match(args.app_id):
        raise ConfigError(COMMAND_LINE, "--app-id", "teams.config.app_id", value=args.app_id)
    if not _is_https(args.url):
        raise ConfigError(COMMAND_LINE, "--url", "config.problem.https_host", value=args.url)
    try:
        path = build_package(args.app_id, args.url, args.output,
                             name=config.programme_name, **links)
    except ValueError as error:
        raise ConfigError(COMMAND_LINE, "--app-id/--url", "config.problem.plain",
                          problem=str(error)) from None
    return t(getattr(args, "language", None) or FALLBACK, "teams.package.written", path=path)


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


COMMAND = Command("teams-package", "write the Teams app package (manifest and icons) as a zip",
                  add_arguments, run)
