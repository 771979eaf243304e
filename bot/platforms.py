"""Finds the chat platforms: every package in ``adapters/`` that exposes ``PLATFORM``.

Nothing in ``bot/`` names a platform; it asks the ``Platform`` objects found
here (see ``bot/host/platform.py``). Adding a platform is adding a folder
``adapters/<name>/`` whose ``__init__.py`` defines ``PLATFORM``.

A platform can also live outside this repository: ``TANDEM_ADAPTERS`` names
extra packages (comma-separated importable module names, e.g.
``acme_chat.tandem``), each exposing ``PLATFORM`` the same way. The tests use it
to add a platform from a test folder.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

import adapters
from bot.core.config import AppConfig, load_config
from bot.core.errors import ENVIRONMENT, ConfigError
from bot.core.i18n import t, t_or
from bot.core.settings import Settings, variable
from bot.host.platform import Platform, half_configured

if TYPE_CHECKING:
    from bot.host.runtime import Runtime

EXTRA_ADAPTERS = "TANDEM_ADAPTERS"


def discover(env: Mapping[str, str] | None = None) -> tuple[Platform, ...]:
    """The platforms in ``adapters/`` (by folder name), then those ``TANDEM_ADAPTERS`` names.

    A folder without ``PLATFORM`` (``adapters/local``, the in-process platform of
    tests and the demo) is not served.
    """
    env = os.environ if env is None else env
    names = [f"{adapters.__name__}.{info.name}"
             for info in sorted(pkgutil.iter_modules(adapters.__path__), key=lambda m: m.name)
             if info.ispkg]
    extra = [name.strip() for name in (variable(env, EXTRA_ADAPTERS) or "").split(",")
             if name.strip()]
    names += extra
    found: dict[str, Platform] = {}
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise
            raise ConfigError(ENVIRONMENT, EXTRA_ADAPTERS, "config.problem.no_adapter",
                              value=name) from None
        platform = getattr(module, "PLATFORM", None)
        if platform is None:
            if name in extra:
                raise ConfigError(ENVIRONMENT, EXTRA_ADAPTERS, "config.problem.no_platform",
                                  value=name)
            continue
        if platform.name in found:
            raise ConfigError(ENVIRONMENT, EXTRA_ADAPTERS, "config.problem.second_platform",
                              value=name, platform=platform.name)
        found[platform.name] = platform
    return tuple(found.values())


#: The in-process platform of the tests and the demo (``adapters/local``): app.yaml may
#: name it, though it is never served.
LOCAL = "local"


def app_yaml_platforms() -> dict[str, type[BaseModel] | None]:
    """The platform names app.yaml may use, with the schema of each one's own section."""
    return {LOCAL: None, **{p.name: p.options for p in discover()}}


def load_app_config(path: str | Path) -> AppConfig:
    """app.yaml, with its platform names and the platforms' own sections checked."""
    return load_config(path, app_yaml_platforms())


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """The host's settings with every platform's own (ConfigError on a malformed value)."""
    env = os.environ if env is None else env
    return replace(Settings.from_env(env), platforms={
        platform.name: platform.read_settings(env) for platform in discover(env)})


def half_configured_problems(settings: Settings) -> list[ConfigError]:
    """One problem per platform that has some of its variables set but not all it
    needs: it would silently stay off, so check-config and serve refuse it."""
    problems = []
    for platform in discover():
        own = platform.settings(settings.platforms)
        missing = half_configured(own)
        if missing:
            problems.append(ConfigError(ENVIRONMENT, "platforms", "config.problem.half_configured",
                                        platform=platform.title, set=own.variables_set(),
                                        missing=missing))
    return problems


def require_complete(settings: Settings) -> None:
    """Raise a ConfigError naming the missing variables of a half-configured platform."""
    problems = half_configured_problems(settings)
    if problems:
        first, *others = problems
        first.others = tuple(others)
        raise first


def configured(settings: Settings) -> list[Platform]:
    """The platforms whose credentials are all set."""
    return [p for p in discover() if not p.settings(settings.platforms).missing()]


def start_adapters(runtime: Runtime) -> None:
    """Build each platform's adapter for this process and add it to ``runtime``;
    a platform's ``build`` returns None when it is not to run. The company's calendars
    (Microsoft Graph) come with them when app.yaml configures them."""
    import os

    from bot.graph_calendar import calendar_for

    runtime.calendar = calendar_for(runtime.config.meetings.graph_tenant, os.environ)
    for platform in discover():
        adapter = platform.build(runtime, platform.settings(runtime.settings.platforms))
        if adapter is not None:
            runtime.add(adapter)


def explain(language: str) -> str:
    """app.yaml's reference (``tandem check-config --explain``) with every platform's
    lists and its own section."""
    from bot.core.config_explain import reference

    return reference(language, {p.name: (p.title, p.options) for p in discover()})


def needs_line(language: str) -> str:
    """What configuring a platform takes, each platform in its own words
    (``cli.needs.<name>`` in its folder's catalogues)."""
    return t(language, "cli.or").join(
        t(language, "cli.platform_needs", title=p.title,
          needs=t_or(language, f"cli.needs.{p.name}", p.needs)) for p in discover())


def unconfigured_notes(language: str) -> list[str]:
    """What platforms that are not configured still do (``cli.unconfigured.<name>``:
    Teams answers the Bot Framework Emulator)."""
    return [note for p in discover()
            if (note := t_or(language, f"cli.unconfigured.{p.name}", ""))]
