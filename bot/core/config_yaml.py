"""Reading app.yaml: the data, and the line every key and list item stands on.

The YAML loader keeps dates, times and "10:00" as text: YAML 1.1 would turn
``2027-02-30`` into a crash inside the loader and ``10:00`` into the number 600.
The schema (``bot.core.config_schema``) then parses them and says what is wrong,
on which line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.errors import ConfigError

#: A key's place in the file: mapping keys and list indexes, from the top.
Location = tuple[str | int, ...]


def _as_text(loader: Any, node: Any) -> Any:
    return loader.construct_scalar(node)


def _number_or_clock(loader: Any, node: Any) -> Any:
    text = loader.construct_scalar(node)
    return text if ":" in str(text) else loader.construct_yaml_int(node)


#: SafeLoader that leaves timestamps and sexagesimal numbers ("10:00") as text.
_Loader: Any = type("_Loader", (yaml.SafeLoader,), {})
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _as_text)
_Loader.add_constructor("tag:yaml.org,2002:int", _number_or_clock)


def read_yaml(path: str | Path) -> tuple[Any, dict[Location, int]]:
    """The file's data and the 1-based line of every key and list item."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, "(file)", "config.problem.no_file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(source, "(file)", "config.problem.unreadable", error=error) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or error
        raise ConfigError(source, "(file)", "config.problem.yaml", problem=problem,
                          line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    lines: dict[Location, int] = {}
    if node is not None:
        _record(source, node, (), lines)
    return data, lines


def _record(source: str, node: Node, here: Location, lines: dict[Location, int]) -> None:
    """Note each key's line; a key given twice in one mapping is an error (YAML would
    silently keep the second)."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                where, line = (*here, key.value), key.start_mark.line + 1
                if where in lines:
                    raise ConfigError(source, dotted(where), "config.problem.key_twice",
                                      line=line, first=lines[where])
                lines[where] = line
                _record(source, value, where, lines)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*here, index)] = item.start_mark.line + 1
            _record(source, item, (*here, index), lines)


def line_of(lines: dict[Location, int], where: Location) -> int | None:
    """The line of ``where``, or of its nearest parent in the file (a missing key)."""
    for end in range(len(where), 0, -1):
        if where[:end] in lines:
            return lines[where[:end]]
    return None


def dotted(where: Location) -> str:
    """``("survey", "topics", 1, "de")`` → ``survey.topics[1].de``."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
