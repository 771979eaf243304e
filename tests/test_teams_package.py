"""The Teams app package: a zip Teams accepts, checked field by field (no network,
so the schema's required fields and limits are checked here explicitly)."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.teams.package import MANIFEST_VERSION, build_package
from conversations.command_list import NAMES, teams_menus

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "0b3c5f0e-1a2b-4c3d-8e9f-0123456789ab"
PROGRAMME = {"name": "Reverse Mentoring", "privacy_url": "https://example.com/privacy",
             "terms_url": "https://example.com/terms"}
HTTPS = re.compile(r"^https://[^\s/]+")
# Required by the v1.17 schema, and the length limits Teams enforces on upload.
REQUIRED = ("$schema", "manifestVersion", "version", "id", "developer", "name",
            "description", "icons", "accentColor")
LIMITS = {("name", "short"): 30, ("name", "full"): 100,
          ("description", "short"): 80, ("description", "full"): 4000}


def check_manifest(manifest: dict[str, Any], files: set[str]) -> list[str]:
    """Problems with a manifest, as Teams' validator would list them."""
    problems = [f"missing {key}" for key in REQUIRED if key not in manifest]
    if problems:
        return problems
    if manifest["manifestVersion"] != MANIFEST_VERSION or MANIFEST_VERSION not in manifest[
        "$schema"
    ]:
        problems.append("schema and manifestVersion disagree")
    if not re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"]):
        problems.append("version is not semver")
    if not re.fullmatch(r"[0-9a-f-]{36}", manifest["id"]):
        problems.append("id is not a GUID")
    for key in ("name", "websiteUrl", "privacyUrl", "termsOfUseUrl"):
        value = manifest["developer"].get(key)
        if not value or (key != "name" and not HTTPS.match(value)):
            problems.append(f"developer.{key}")
    for (section, key), limit in LIMITS.items():
        value = manifest[section].get(key, "")
        if not value or len(value) > limit:
            problems.append(f"{section}.{key} missing or longer than {limit}")
    for icon in ("color", "outline"):
        if manifest["icons"].get(icon) not in files:
            problems.append(f"icon {icon} not in the package")
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", manifest["accentColor"]):
        problems.append("accentColor")
    for bot in manifest.get("bots", []):
        if bot.get("botId") != manifest["id"] or not bot.get("scopes"):
            problems.append("bot id or scopes")
        for command_list in bot.get("commandLists", []):
            if not set(command_list["scopes"]) <= set(bot["scopes"]):
                problems.append("command list scope not in bot scopes")
            if len(command_list["commands"]) > 10:
                problems.append("more than 10 commands in a list")
            for command in command_list["commands"]:
                if not 0 < len(command["title"]) <= 32:
                    problems.append(f"command title {command['title']!r}")
                if not 0 < len(command["description"]) <= 128:
                    problems.append(f"description of {command['title']!r}")
    for language in manifest.get("localizationInfo", {}).get("additionalLanguages", []):
        if language["file"] not in files:
            problems.append(f"localisation file {language['file']} missing")
    return problems


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of a non-interlaced 8-bit RGBA PNG (filter 0 rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, color_type, interlace) == (8, 6, 0)
    raw = zlib.decompress(idat)
    stride = 1 + width * 4
    pixels = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0
        pixels += [tuple(row[1 + x * 4 : 5 + x * 4]) for x in range(width)]
    return width, height, pixels


@pytest.fixture
def package(tmp_path: Path) -> zipfile.ZipFile:
    path = build_package(APP_ID, "https://tandem.example.com", tmp_path / "out" / "t.zip",
                         **PROGRAMME)
    assert path.exists()
    return zipfile.ZipFile(path)


def test_manifest_has_everything_teams_requires(package: zipfile.ZipFile) -> None:
    files = set(package.namelist())
    assert {"manifest.json", "color.png", "outline.png", "de.json"} <= files
    manifest = json.loads(package.read("manifest.json"))
    assert check_manifest(manifest, files) == []
    assert manifest["id"] == APP_ID and manifest["validDomains"] == ["tandem.example.com"]
    [bot] = manifest["bots"]
    assert bot["scopes"] == ["personal", "team"]
    assert [cl["scopes"] for cl in bot["commandLists"]] == [["personal"], ["team"]]
    menus = teams_menus()
    for command_list in bot["commandLists"]:
        [scope] = command_list["scopes"]
        assert [c["title"] for c in command_list["commands"]] == list(menus[scope])
    # Every participant and coordinator command is in a menu (issue 16).
    listed = {c["title"] for cl in bot["commandLists"] for c in cl["commands"]}
    assert listed == set(NAMES)


def test_german_strings_cover_the_same_keys(package: zipfile.ZipFile) -> None:
    german = json.loads(package.read("de.json"))
    assert german["name.short"] and "Reverse Mentoring" in german["name.full"]
    assert german["bots[0].commandLists[0].commands[0].title"] == "anmelden"
    assert german["bots[0].commandLists[0].commands[4].title"] == "abmelden"
    assert len(german["description.short"]) <= 80


def test_icons_have_the_sizes_and_colours_teams_requires(package: zipfile.ZipFile) -> None:
    width, height, pixels = read_png(package.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(p[3] == 255 for p in pixels)
    width, height, pixels = read_png(package.read("outline.png"))
    assert (width, height) == (32, 32)
    assert set(pixels) == {(0, 0, 0, 0), (255, 255, 255, 255)}  # transparent and white only


@pytest.mark.parametrize(("app_id", "url"), [
    ("not-a-guid", "https://tandem.example.com"),
    (APP_ID, "http://tandem.example.com"),
    (APP_ID, "tandem.example.com"),
])
def test_bad_arguments_are_refused(tmp_path: Path, app_id: str, url: str) -> None:
    with pytest.raises(ValueError):
        build_package(app_id, url, tmp_path / "t.zip", **PROGRAMME)
    assert not (tmp_path / "t.zip").exists()


def test_the_app_carries_the_programme_name_and_its_links(tmp_path: Path) -> None:
    path = build_package(APP_ID, "https://tandem.example.com", tmp_path / "t.zip",
                         name="Reverse Mentoring at a Very Long Company Name",
                         privacy_url="https://intranet.example.com/privacy",
                         terms_url="https://intranet.example.com/terms")
    with zipfile.ZipFile(path) as package:
        manifest = json.loads(package.read("manifest.json"))
        assert check_manifest(manifest, set(package.namelist())) == []
    assert manifest["name"]["short"] == "Reverse Mentoring at a Very Lo"  # Teams' 30
    assert manifest["name"]["full"].startswith("Reverse Mentoring at a Very Long Company")
    assert manifest["developer"]["privacyUrl"] == "https://intranet.example.com/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://intranet.example.com/terms"


@pytest.mark.parametrize(("drop", "change"), [
    ("privacy_url", {}), ("terms_url", {}), (None, {"privacy_url": "http://plain.example"}),
])
def test_the_command_takes_the_links_from_app_yaml_and_names_a_missing_one(
    tmp_path: Path, drop: str | None, change: dict[str, str]
) -> None:
    raw = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    if drop:
        del raw["programme"][drop]
    raw["programme"].update(change)
    config = tmp_path / "app.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "teams-package", "--app-id", APP_ID,
         "--url", "https://tandem.example.com", "-o", str(tmp_path / "t.zip")],
        env={**os.environ, "TANDEM_CONFIG": str(config)}, capture_output=True, text=True,
        cwd=ROOT, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"programme.{drop or 'privacy_url'}" in run.stderr
    assert not (tmp_path / "t.zip").exists()
