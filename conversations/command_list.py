"""Every command people can type, declared once.

**To add a command**: add one ``CommandSpec`` here, its handler in
``conversations.router.HANDLERS``, and in every language of
``bot/core/catalogues/``: ``command.<name>`` (the word as shown, also
understood), ``help.<name>`` (its line in the help) and ``teams.app.command.<name>``
(its line in the Teams command menu); optionally ``command.<name>.aliases``
(in every language once one has it, empty where there are none).
The router's table, the help (participants see the participant commands, a
coordinator also the coordinator commands), the words people may type and the
Teams app's command menus all follow from this list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from bot.core.i18n import LANGUAGES, t, t_or

#: Teams allows at most this many commands in one command list (one list per scope).
TEAMS_MENU_MAX = 10


class Who(StrEnum):
    PARTICIPANT = "participant"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class CommandSpec:
    """A command: its name (the English word), who it is for, and the Teams scopes
    whose command menu lists it (the personal chat, the team's channels)."""

    name: str
    who: Who
    teams: tuple[str, ...]


P, C = Who.PARTICIPANT, Who.COORDINATOR
PERSONAL, TEAM = "personal", "team"

# In Teams, participants act in their personal chat with the bot; coordinators
# run the programme from its team (answers still come privately), where people
# also sign up after an announcement.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("signup", P, (PERSONAL, TEAM)),
    *(CommandSpec(name, P, (PERSONAL,)) for name in (
        "status", "pause", "resume", "leave", "my-data", "forget-me", "wishes")),
    CommandSpec("help", P, (PERSONAL, TEAM)),
    *(CommandSpec(name, C, (TEAM,)) for name in (
        "match", "report", "dashboard", "announce", "round")),
)
NAMES: tuple[str, ...] = tuple(spec.name for spec in COMMANDS)


def for_whom(who: Who) -> tuple[str, ...]:
    return tuple(spec.name for spec in COMMANDS if spec.who is who)


def teams_menus() -> dict[str, tuple[str, ...]]:
    """The Teams app's command lists: scope -> command names, in declaration order."""
    menus: dict[str, tuple[str, ...]] = {}
    for spec in COMMANDS:
        for scope in spec.teams:
            menus[scope] = (*menus.get(scope, ()), spec.name)
    return menus


@cache
def words() -> Mapping[str, str]:
    """Every word that names a command, in every language: the command's word
    (``command.<name>``) and its aliases (``command.<name>.aliases``)."""
    found: dict[str, str] = {}
    for language in LANGUAGES:
        for name in NAMES:
            typed = [t(language, f"command.{name}"),
                     *t_or(language, f"command.{name}.aliases", "").split()]
            for word in (w.lower() for w in typed):
                if found.setdefault(word, name) != name:
                    raise ValueError(f"{word!r} names both {found[word]} and {name}")
    return found
