"""The reference of app.yaml, generated from the schema: every key, type, default, meaning.

Printed by ``tandem check-config --explain`` for whoever edits app.yaml, and
kept in the README (a test checks that the README's copy is current).
"""

from __future__ import annotations

import types
from datetime import date, datetime, time
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.core.config_schema import AppYaml

_NAMES: dict[Any, str] = {
    bool: "true/false", int: "whole number", float: "number", str: "text",
    date: "date (2027-02-01)", time: 'time ("10:00")',
    datetime: "date and time with offset (2027-03-01T10:00:00+01:00)",
}


def reference(model: type[BaseModel] = AppYaml) -> str:
    """A Markdown table of every key of app.yaml."""
    rows = ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
    rows += [f"| `{key}` | {kind} | {default} | {meaning} |"
             for key, kind, default, meaning in _rows(model, "")]
    return "\n".join(rows) + "\n"


def _rows(model: type[BaseModel], prefix: str) -> list[tuple[str, str, str, str]]:
    found: list[tuple[str, str, str, str]] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        inner, many = _model_inside(info.annotation)
        meaning = (info.description or "").replace("|", "\\|")
        if inner is not None:
            kind = "list of mappings" if many else "section"
            found.append((key, kind, _default(info) if many else "", meaning))
            found += _rows(inner, f"{key}[]." if many else f"{key}.")
        else:
            found.append((key, _kind(info.annotation, info.metadata), _default(info), meaning))
    return found


def _model_inside(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if get_origin(annotation) is list:
        inner, _ = _model_inside(get_args(annotation)[0])
        return inner, inner is not None
    return None, False


def _kind(annotation: Any, metadata: list[Any]) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _kind(base, [*metadata, *extra])
    if origin in (Union, types.UnionType):
        return " or ".join(_kind(a, metadata) for a in get_args(annotation)
                           if a is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    if origin is list:
        return "list of " + _kind(get_args(annotation)[0], [])
    name = _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))
    low = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    if low is not None and high is not None:
        return f"{name}, {low} to {high}"
    return f"{name}, at least {low}" if low is not None else name


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined:
        return "required"
    value = info.default
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
