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

from bot.core.config_schema import AppYaml, Invalid, close_match, field_at
from bot.core.config_yaml import Location, dotted, line_of
from bot.core.errors import ConfigError
from bot.core.i18n import text

#: pydantic's type errors, as the kind of value the key takes (``config.kind_of.*``).
_KINDS = {
    "int_type": "int", "int_from_float": "int", "float_type": "float", "bool_type": "bool",
    "string_type": "str", "list_type": "list", "dict_type": "mapping", "model_type": "mapping",
    "model_attributes_type": "mapping",
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
    key, params = _problem(detail, where, root)
    return ConfigError(source, dotted(at + where) or "(file)", key,
                       line=line_of(lines, at + where), **params)


def _problem(detail: ErrorDetails, where: Location, root: type[BaseModel]
             ) -> tuple[str, dict[str, Any]]:
    """The catalogue key (``config.problem.*``) and its params."""
    kind, value = detail["type"], detail.get("input")
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    if kind == "missing":
        return "config.problem.missing", {}
    if kind == "extra_forbidden":
        model, _ = field_at(where[:-1], root)
        known = list(model.model_fields) if model else []
        hint = close_match(str(where[-1]), known)
        if hint:
            return "config.problem.unknown_key", {"hint": hint}
        return "config.problem.unknown_key_known", {"known": known}
    if kind in _KINDS:
        return "config.problem.type", {"kind": text(f"config.kind_of.{_KINDS[kind]}"),
                                       "value": _shown(value)}
    if kind == "literal_error":
        choices = [c.strip(" '") for c in str(context.get("expected", "")).replace(" or ", ", ")
                   .split(",")]
        return "config.problem.one_of", {"choices": choices, "value": _shown(value),
                                         "hint": close_match(str(value), choices)}
    if kind in ("greater_than_equal", "less_than_equal"):
        return _out_of_range(where, value, root)
    if kind == "too_short" and isinstance(value, list):
        return "config.problem.empty_list", {}
    if kind == "string_too_short":
        return "config.problem.empty_text", {}
    if kind == "string_too_long":
        return "config.problem.too_long", {"max": context.get("max_length")}
    if isinstance(context.get("error"), Invalid):
        return context["error"].text.key, dict(context["error"].text.params)
    if kind == "value_error":
        return "config.problem.plain", {"problem": str(context.get("error", detail["msg"]))}
    return "config.problem.other", {"problem": detail["msg"], "value": _shown(value)}


def _out_of_range(where: Location, value: Any, root: type[BaseModel]
                  ) -> tuple[str, dict[str, Any]]:
    _, info = field_at(where, root)
    low = next((m.ge for m in getattr(info, "metadata", ()) if isinstance(m, annotated_types.Ge)),
               None)
    high = next((m.le for m in getattr(info, "metadata", ()) if isinstance(m, annotated_types.Le)),
                None)
    if high is None:
        if low == 0:
            return "config.problem.negative", {}
        return "config.problem.at_least", {"low": low, "value": value}
    return "config.problem.between", {"low": low, "high": high, "value": value}


def _shown(value: Any) -> Any:
    """The value as the reader wrote it: true/false, "a mapping", 'text'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return text("config.shown.mapping")
    if isinstance(value, list):
        return text("config.shown.list")
    return repr(value)
