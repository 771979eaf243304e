"""The ``tandem`` command in a subprocess, and app.yaml variants to feed it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import ROOT


def tandem(*args: str, env: dict[str, str] | None = None, timeout: float = 60
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "TANDEM_CONFIG": str(ROOT / "app.yaml"), **(env or {})},
        timeout=timeout,
    )


def write(tmp_path: Path, change: dict[str, Any] | None = None, text: str | None = None) -> Path:
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    for dotted, value in (change or {}).items():
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    path = tmp_path / "app.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(data))
    return path
