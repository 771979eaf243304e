"""Slack's own section of app.yaml (``slack:``), validated when app.yaml is read.

```yaml
slack:
  coordinator_usergroup: "@hr-mentoring"   # its members are coordinators too
```

The host finds this schema through ``PLATFORM.options``; what each key means is in
this folder's catalogues (``config.slack.<key>``, ``tandem check-config --explain``).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from bot.core.config import AppConfig
from bot.core.config_schema import Invalid, Section

_USERGROUP = re.compile(r"^(@[a-z0-9][a-z0-9._-]{0,79}|S[A-Z0-9]{2,20})$")


def _usergroup(value: str) -> str:
    if not _USERGROUP.match(value):
        raise Invalid("slack.config.usergroup", value=value)
    return value


class SlackOptions(Section):
    coordinator_usergroup: Annotated[str, AfterValidator(_usergroup)] | None = None


def options(config: AppConfig) -> SlackOptions:
    """app.yaml's ``slack:`` section (its defaults where app.yaml has none, or was read
    without the platforms, as in tests that build their config in code)."""
    found = config.platform_options.get("slack")
    return found if isinstance(found, SlackOptions) else SlackOptions()
