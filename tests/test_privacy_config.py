"""app.yaml ``privacy`` and the ``tandem purge`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import load_config
from bot.core.errors import ConfigError
from tests.helpers.cli import tandem, write


def test_retention_months_is_read_and_checked(tmp_path: Path) -> None:
    assert load_config(write(tmp_path)).privacy.retention_months == 12
    assert load_config(write(tmp_path, {"privacy": ...})).privacy.retention_months is None
    for bad in (0, 121, "a year"):
        with pytest.raises(ConfigError) as raised:
            load_config(write(tmp_path, {"privacy.retention_months": bad}))
        assert raised.value.field == "privacy.retention_months"
        assert raised.value.problem.startswith("must be")


def test_purge_dry_run_on_the_command_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/t.db"}
    assert tandem("migrate", env=env).returncode == 0
    dry = tandem("purge", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "retention: no round is past its retention period" in dry.stdout
    config = write(tmp_path, {"privacy": ...})
    unset = tandem("purge", env={**env, "TANDEM_CONFIG": str(config)})
    assert unset.returncode == 2 and "privacy.retention_months" in unset.stderr
