"""The reference of app.yaml, generated from the schema: every key, type, default, meaning.

Printed by ``tandem check-config --explain`` (in the CLI's language) for whoever
edits app.yaml, and kept in the README in English (a test checks that the
README's copy is current). Types, defaults and limits come from the schema
(``bot.core.config_schema``); what a key means comes from the catalogues
(``config.<key>``; ``switch.<name>`` for ``rhythm.messages``), a platform's keys
from its own folder's catalogues.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.core.config_schema import AppYaml
from bot.core.i18n import t, t_or

_NAMES: dict[Any, str] = {bool: "bool", int: "int", float: "float", str: "str", date: "date",
                          time: "time", datetime: "datetime"}
#: The sections whose keys are platform names, one list per platform.
_PER_PLATFORM = ("coordinators", "channels", "organisation")
Row = tuple[str, str, str, str]
#: A platform as the reference shows it: its title, and its own section's schema.
Shown = tuple[str, type[BaseModel] | None]


def reference(language: str = "en", platforms: Mapping[str, Shown] | None = None) -> str:
    """A Markdown table of every key of app.yaml; with ``platforms`` (name: title and
    options), also each platform's lists and its own section."""
    shown = platforms or {}
    rows = [t(language, "config.header"), "|---|---|---|---|"]
    found = _rows(AppYaml, "", language)
    for name, (title, options) in shown.items():
        for section in _PER_PLATFORM:
            meaning = t_or(language, f"config.{section}.{name}", "")
            if not meaning and section == "organisation":
                continue  # a platform that does not limit its installs says nothing here
            found.append((f"{section}.{name}", t(language, "config.kind.list",
                                                 kind=t(language, "config.kind.str")), "[]",
                          meaning or t(language, f"config.{section}.platform", title=title)))
        if options is not None:
            found.append((name, t(language, "config.kind.section"), "",
                          t(language, "config.platform", title=title)))
            found += _rows(options, f"{name}.", language)
    order = {key: n for n, key in enumerate(AppYaml.model_fields)}
    found.sort(key=lambda row: order.get(row[0].split(".")[0].split("[")[0], len(order)))
    rows += [f"| `{key}` | {kind} | {default} | {meaning.replace('|', chr(92) + '|')} |"
             for key, kind, default, meaning in found]
    return "\n".join(rows) + "\n"


def _meaning(key: str, language: str) -> str:
    if key.startswith("rhythm.messages."):
        return t(language, f"switch.{key.removeprefix('rhythm.messages.')}")
    return t(language, "config." + key.replace("[]", ""))


def _rows(model: type[BaseModel], prefix: str, language: str) -> list[Row]:
    found: list[Row] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        inner, many = _model_inside(info.annotation)
        meaning = _meaning(key, language)
        if inner is not None:
            kind = t(language, "config.kind.mappings" if many else "config.kind.section")
            found.append((key, kind, _default(info, language) if many else "", meaning))
            found += _rows(inner, f"{key}[]." if many else f"{key}.", language)
        elif get_origin(info.annotation) is dict:
            found.append((key, t(language, "config.kind.section"), "", meaning))
        else:
            found.append((key, _kind(info.annotation, info.metadata, language),
                          _default(info, language), meaning))
    return found


def _model_inside(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if get_origin(annotation) is list:
        inner, _ = _model_inside(get_args(annotation)[0])
        return inner, inner is not None
    return None, False


def _kind(annotation: Any, metadata: list[Any], language: str) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _kind(base, [*metadata, *extra], language)
    if origin in (Union, types.UnionType):
        return t(language, "config.kind.or").join(
            _kind(a, metadata, language) for a in get_args(annotation) if a is not type(None))
    if origin is Literal:
        return t(language, "config.kind.one_of",
                 choices=", ".join(str(a) for a in get_args(annotation)))
    if origin is list:
        return t(language, "config.kind.list", kind=_kind(get_args(annotation)[0], [], language))
    known = _NAMES.get(annotation)
    name = (t(language, f"config.kind.{known}") if known
            else getattr(annotation, "__name__", str(annotation)))
    low = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    if low is not None and high is not None:
        return t(language, "config.kind.range", kind=name, low=low, high=high)
    return t(language, "config.kind.at_least", kind=name, low=low) if low is not None else name


def _default(info: FieldInfo, language: str) -> str:
    if info.default is PydanticUndefined:
        return t(language, "config.default.required")
    value = info.default
    if value is None:
        return t(language, "config.default.none")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
