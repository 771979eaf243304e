"""pydantic's validation errors, told as app.yaml problems: line, key, what is wrong.

Read by whoever edits app.yaml (a coordinator, an IT admin) in the output of
``tandem check-config`` and every other command: plain words, the value they
wrote, and "did you mean ..." for a near miss.
"""

from __future__ import annotations

from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.core.config_schema import AppYaml, close_match, field_at
from bot.core.config_yaml import Location, dotted, line_of
from bot.core.errors import ConfigError

_KINDS = {
    "int_type": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "bool_type": "true or false", "string_type": "a text",
    "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def config_error(source: str, error: ValidationError, lines: dict[Location, int],
                 root: type[BaseModel] = AppYaml, at: Location = ()) -> ConfigError:
    """One ConfigError for the first problem in the file, carrying the others.
    ``root`` is the model that was validated, found at ``at`` in the file (a
    platform's own section)."""
    found = [_one(source, detail, lines, root, at) for detail in error.errors()]
    found.sort(key=lambda e: e.line or 0)
    first, *others = found
    first.others = tuple(others)
    return first


def _one(source: str, detail: ErrorDetails, lines: dict[Location, int],
         root: type[BaseModel], at: Location) -> ConfigError:
    where: Location = tuple(detail["loc"])
    return ConfigError(source, dotted(at + where) or "(file)", _problem(detail, where, root),
                       line=line_of(lines, at + where))


def _problem(detail: ErrorDetails, where: Location, root: type[BaseModel]) -> str:
    kind, value = detail["type"], detail.get("input")
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        model, _ = field_at(where[:-1], root)
        known = list(model.model_fields) if model else []
        key = str(where[-1])
        hint = close_match(key, known) or f"; known keys: {', '.join(known)}"
        return f"is not a known key{hint}"
    if kind in _KINDS:
        return f"must be {_KINDS[kind]}, not {_shown(value)}"
    if kind == "literal_error":
        choices = [c.strip(" '") for c in str(context.get("expected", "")).replace(" or ", ", ")
                   .split(",")]
        return (f"must be one of {', '.join(choices)}, not {_shown(value)}"
                + close_match(str(value), choices))
    if kind in ("greater_than_equal", "less_than_equal"):
        return _out_of_range(where, value, root)
    if kind == "too_short" and isinstance(value, list):
        return "must list at least one entry"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {context.get('max_length')} characters"
    if kind == "value_error":
        return str(context.get("error", detail["msg"]))
    return f"{detail['msg']} (found {_shown(value)})"


def _out_of_range(where: Location, value: Any, root: type[BaseModel]) -> str:
    _, info = field_at(where, root)
    low = next((m.ge for m in getattr(info, "metadata", ()) if isinstance(m, annotated_types.Ge)),
               None)
    high = next((m.le for m in getattr(info, "metadata", ()) if isinstance(m, annotated_types.Le)),
                None)
    if high is None:
        return "must not be negative" if low == 0 else f"must be at least {low}, not {value}"
    return f"must be between {low} and {high}, not {value}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
