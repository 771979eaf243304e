"""Message catalogues: every user-facing string and locale rule, in every language.

Catalogues are YAML files in ``bot/core/catalogues/<language>/<area>.yaml``; each
file holds flat keys (``signup.confirmed``) mapped to ``str.format`` templates.
All files of a language are merged, so every area of the code owns its file.
A platform's own strings live in its folder (``adapters/<name>/catalogues/``),
added by the folder's ``__init__`` with ``add_catalogues``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_ROOTS: list[Path] = [Path(__file__).parent / "catalogues"]
#: Every language with a catalogue folder. **To add a language**, add a folder
#: ``bot/core/catalogues/<code>/`` with every key of the others (a test checks),
#: including the locale rules (``format.*``) and the command words (``command.*``),
#: and the same in each platform's ``adapters/<name>/catalogues/``.
LANGUAGES: tuple[str, ...] = tuple(sorted(p.name for p in _ROOTS[0].iterdir() if p.is_dir()))
FALLBACK = "en"


class MissingMessage(KeyError):
    """A key that no catalogue defines: a programming error, caught by tests."""


def add_catalogues(root: Path) -> None:
    """Merge the catalogues under ``root`` (``root/<language>/<area>.yaml``) too."""
    if root not in _ROOTS:
        _ROOTS.append(root)
        catalogue.cache_clear()


#: libyaml's safe loader where PyYAML was built with it: every process reads all the
#: catalogues of a language, about 13 times faster than the pure-Python loader.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def catalogue(language: str) -> Mapping[str, str]:
    merged: dict[str, str] = {}
    paths = [path for root in _ROOTS for path in sorted((root / language).glob("*.yaml"))]
    for path in paths:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}
        for key, value in data.items():
            if key in merged:
                raise ValueError(f"{path}: key {key!r} is defined twice")
            merged[str(key)] = str(value)
    return merged


def language_of(locale: str | None, default: str = FALLBACK) -> str:
    """Map a platform locale (``de-DE``, ``en_US``, ``de``) to a supported language."""
    if locale:
        code = locale.replace("_", "-").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return default if default in LANGUAGES else FALLBACK


def t(language: str, key: str, /, **params: Any) -> str:
    """The text for ``key`` in ``language``, with ``params`` filled in. Where
    ``count`` is 1 and the catalogue has ``<key>.one``, that singular is used
    (German and English need no other plural forms)."""
    lang = language if language in LANGUAGES else FALLBACK
    if params.get("count") == 1 and f"{key}.one" in catalogue(lang):
        key = f"{key}.one"
    template = catalogue(lang).get(key)
    if template is None:
        template = catalogue(FALLBACK).get(key)
    if template is None:
        raise MissingMessage(key)
    return template.format(**params) if params else template


def t_or(language: str, key: str, default: str, /, **params: Any) -> str:
    """Like ``t``, but ``default`` where no catalogue has the key (open-ended ids)."""
    try:
        return t(language, key, **params)
    except MissingMessage:
        return default


@dataclass(frozen=True)
class Text:
    """A catalogue text not rendered yet: its key and params, told in the reader's
    language later (a configuration problem, a line of ``tandem doctor``). A param
    that is a Text (or has a ``render(language)``, like ConfigError), or a list of
    them, is rendered in the same language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, language: str) -> str:
        return t(language, self.key, **{name: _rendered(value, language)
                                         for name, value in self.params.items()})


def text(key: str, /, **params: Any) -> Text:
    """``Text(key, params)``, written like a call of ``t``."""
    return Text(key, params)


def _rendered(value: Any, language: str) -> Any:
    if isinstance(value, Text) or callable(getattr(value, "render", None)):
        return value.render(language)
    if isinstance(value, (list, tuple)):
        return t(language, "cli.list_separator").join(str(_rendered(v, language)) for v in value)
    return value


def render(value: str | Text, language: str) -> str:
    """A Text in ``language``; plain text (a value from outside) as it is."""
    return value.render(language) if isinstance(value, Text) else value
