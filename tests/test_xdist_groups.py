"""Tests marked with one ``xdist_group`` run on one pytest-xdist worker (the demo's
module relies on it to run the demo once): a small suite of its own, run in a
subprocess with two workers and the project's plugin, reports each test's worker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

SUITE = '''
import pytest

pytestmark = pytest.mark.xdist_group("together")


@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    pass
'''


def test_one_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
         "-p", "no:cacheprovider", "-p", "tests.helpers.xdist_groups", "test_grouped.py"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    passed = re.findall(r"\[(gw\d)\] .*PASSED (\S+)", run.stdout)
    assert len(passed) == 6, run.stdout
    assert all(nodeid.endswith("@together") for _, nodeid in passed), run.stdout
    assert len({worker for worker, _ in passed}) == 1, run.stdout
