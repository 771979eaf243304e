"""The board report in a real headless Chromium: it renders, offline, and reads well.

Needs Debian's Chromium and Playwright for Python (the browser is never
downloaded by Playwright):

    apt-get update && apt-get install -y chromium
    pip install playwright          # in the test extras; no `playwright install`

Skipped, with that reason, where either is missing. The screenshot is kept
next to the test's temporary files (and at $TANDEM_REPORT_SCREENSHOT if set).
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.settings import Settings
from bot.report import write_report
from storage.db import Database
from tests.helpers.seed import AFTER_END, EVALUATION_TEXT, PARTNER, PRIVATE, seed_programme

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright for Python is missing: pip install playwright")
if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
    pytest.skip("Chromium is not installed: apt-get update && apt-get install -y chromium",
                allow_module_level=True)


def ink_share(png: bytes) -> float:
    """The share of pixels that are not (nearly) white, from an 8-bit RGB/RGBA PNG
    (decoded here with zlib; numpy undoes the row filters)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = data
        elif kind == b"IDAT":
            chunks.append(data)
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    rows = np.frombuffer(zlib.decompress(b"".join(chunks)), dtype=np.uint8).reshape(
        height, width * channels + 1)
    pixels = np.zeros((height, width * channels), dtype=np.uint8)
    previous = np.zeros(width * channels, dtype=np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 1:  # Sub: a running sum per channel
            line = np.cumsum(line.reshape(width, channels), axis=0).reshape(-1) & 0xFF
        elif kind == 2:  # Up
            line = (line + previous) & 0xFF
        elif kind in (3, 4):  # Average, Paeth: pixel by pixel
            out = line.copy()
            for i in range(len(out)):
                left = out[i - channels] if i >= channels else 0
                up, corner = previous[i], previous[i - channels] if i >= channels else 0
                if kind == 3:
                    out[i] = (out[i] + (left + up) // 2) & 0xFF
                else:
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                    out[i] = (out[i] + guess) & 0xFF
            line = out
        pixels[y] = line
        previous = line
    rgb = pixels.reshape(height, width, channels)[:, :, :3]
    return float((rgb.min(axis=2) < 235).mean())


def keep(shot: bytes, path: Path) -> None:
    path.write_bytes(shot)
    if os.environ.get("TANDEM_REPORT_SCREENSHOT"):
        Path(os.environ["TANDEM_REPORT_SCREENSHOT"]).write_bytes(shot)


async def test_the_report_renders_offline_in_chromium(
    db: Database, config: AppConfig, tmp_path: Path
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the page is the same on every backend: one browser run is enough")
    await seed_programme(db, config)
    out = await write_report(Settings(database_url=db.url), config, config.round.name, "html",
                             tmp_path / "report.html", clock=FixedClock(AFTER_END))
    url = out.resolve().as_uri()
    requests: list[str] = []
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            await page.goto(url, wait_until="load")
            shot = await page.screenshot(full_page=True)
            # The top: heading, key figures and the first chart (decoding is slow in Python).
            first_screen = await page.screenshot(clip={"x": 0, "y": 0, "width": 1000,
                                                        "height": 600})
            boxes = await page.evaluate(
                """() => [...document.querySelectorAll('svg.chart')].map(svg => {
                       const box = svg.getBoundingClientRect();
                       return [svg.id, box.width, box.height,
                               svg.querySelectorAll('rect.bar').length];
                   })""")
            text = await page.evaluate("() => document.body.textContent")
            title = await page.title()
        finally:
            await browser.close()
    keep(shot, tmp_path / "report.png")

    assert requests == [url]  # the file itself, and nothing else
    assert title == "Reverse Mentoring · 2027-spring"
    assert {box[0] for box in boxes} == {"chart-meetings", "chart-funnel", "chart-topics",
                                         "chart-ratings"}
    for chart_id, width, height, bars in boxes:
        assert width > 500 and height > 100 and bars >= 3, chart_id
    for label in ("Anteil der Treffen pro Monat", "Teilnahme im Verlauf",
                  "Gewählte und besprochene Themen", "Wie nützlich waren die Treffen?",
                  "Abschluss-Evaluation", "Würden es empfehlen", "weniger als 5"):
        assert label in text
    for secret in (PRIVATE, PARTNER, EVALUATION_TEXT):
        assert secret not in text
    assert ink_share(first_screen) > 0.03  # not a blank page
