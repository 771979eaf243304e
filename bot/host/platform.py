"""What a platform folder declares about itself, so that nothing outside it names it.

Each ``adapters/<name>/__init__.py`` exposes ``PLATFORM``, a ``Platform``: its
environment variables (a settings reader), how to build its adapter, its HTTP
routes with their body limits, what ``tandem doctor`` checks for it, and the
CLI commands that package it (``tandem slack-manifest``, ``tandem teams-package``).
The shell (``bot/platforms.py``) finds these objects and wires them in; an
operator sees them as the lines of ``tandem doctor``, the ``platforms`` part of
``/readyz`` and the commands in ``tandem --help``.

The ``__init__`` of a platform folder stays light: its SDK is imported only when
``build`` or a check runs, so ``tandem --help`` does not load every SDK.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from bot.core.config import AppConfig
from bot.core.i18n import Text, add_catalogues, render

if TYPE_CHECKING:
    from bot.host.runtime import PlatformAdapter, Runtime

OK, PROBLEM, SKIP = "OK", "PROBLEM", "SKIP"
#: How long a doctor check waits for a platform's (or the database's) answer.
NETWORK_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Check:
    """One finding about a platform: a line of ``tandem doctor`` (OK, PROBLEM or SKIP)."""

    status: str
    #: A catalogue text of the platform's own (``<platform>.doctor.*``), in the CLI's language.
    detail: str | Text

    def said(self, language: str = "en") -> str:
        """The detail in ``language``."""
        return render(self.detail, language)


class PlatformSettings(Protocol):
    """A platform's own environment variables, read by its folder's settings module."""

    def variables_set(self) -> list[str]:
        """The platform's variables that are set (names only, never values)."""
        ...

    def missing(self) -> list[str]:
        """What the platform still needs to be configured, as the operator would set
        it (``"SLACK_SIGNING_SECRET/SLACK_APP_TOKEN"``); empty when configured."""
        ...


def lazy(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported on the first call: a platform's ``__init__`` names
    its adapter and checks without loading its SDK."""

    def call(*args: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args)

    return call


def half_configured(settings: PlatformSettings) -> list[str]:
    """The missing variables of a platform that has some of its variables set:
    the operator meant to run it, and it would silently stay off."""
    return settings.missing() if settings.variables_set() else []


@dataclass(frozen=True)
class Command:
    """A ``tandem`` subcommand a platform contributes (its packaging).

    ``run`` gets the parsed arguments and app.yaml, and returns what to print;
    it raises ``ConfigError`` for a bad argument or a missing app.yaml key.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, AppConfig], str]


@dataclass(frozen=True)
class Platform:
    """Everything the host needs to know about one chat platform."""

    #: The id stored with every person and delivery ("slack"), and app.yaml's key
    #: under ``coordinators:`` and ``channels:``.
    name: str
    #: How operators call it ("Slack").
    title: str
    #: Reads the platform's variables from an environment mapping (``ConfigError`` on
    #: a malformed value).
    read_settings: Callable[[Mapping[str, str]], Any]
    #: The adapter for this process, or None when the platform is not to run.
    build: Callable[[Runtime, Any], PlatformAdapter | None]
    #: What a configured platform needs, for the readiness message
    #: ("SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET").
    needs: str
    #: ``tandem doctor``'s check of the credentials (SKIP when not configured).
    doctor: Callable[[Any], Awaitable[Check]]
    #: Every HTTP route the adapter mounts, with the largest body it accepts there.
    routes: Mapping[str, int] = field(default_factory=dict)
    #: Packaging commands (``tandem slack-manifest`` ...).
    commands: tuple[Command, ...] = ()
    #: The SDK's loggers that narrate retries: quiet while ``tandem doctor`` checks.
    noisy_loggers: tuple[str, ...] = ()
    #: The schema of the platform's own section of app.yaml (``slack:``), if it has one;
    #: its keys are explained by ``config.<name>.<key>`` in the folder's catalogues.
    options: type[BaseModel] | None = None

    @classmethod
    def folder(cls, package: str, title: str, read_settings: Callable[[Mapping[str, str]], Any],
               routes: Mapping[str, int], **more: Any) -> Platform:
        """The platform of the folder ``adapters/<name>/`` (``package`` is its
        ``__name__``), laid out as Slack's and Teams' are: ``adapter.build`` and
        ``doctor.check`` in its modules, its strings in ``catalogues/`` (merged now),
        and what it needs named by its settings (their ``missing()`` with nothing set).
        ``more``: ``commands``, ``noisy_loggers``, ``options``."""
        add_catalogues(Path(sys.modules[package].__file__ or "").parent / "catalogues")
        return cls(name=package.rpartition(".")[2], title=title, read_settings=read_settings,
                   build=lazy(f"{package}.adapter", "build"),
                   needs=" and ".join(read_settings({}).missing()),
                   doctor=lazy(f"{package}.doctor", "check"), routes=routes, **more)

    def settings(self, of: Mapping[str, Any]) -> Any:
        """This platform's settings from ``Settings.platforms``; its defaults (nothing
        set) when they were not read, as in tests that configure another platform."""
        found = of.get(self.name)
        return found if found is not None else self.read_settings({})
