"""Request bodies as platforms send them, decoded defensively: bytes in, JSON out or ValueError.

A body may be any bytes: not UTF-8, not JSON, or JSON nested deeper than
anything a platform sends (100,000 levels make the standard library raise
RecursionError). Every such body raises ``ValueError`` here, so the adapter
answers 400 and nothing else reads it. Used by every platform's adapter.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Deeper than any Slack payload or Bot Framework activity (a survey modal is ~10).
MAX_DEPTH = 64
# A JSON string (escapes included) and anything that is not a bracket: what is left
# of a document once both are gone is its brackets, whose nesting is its depth.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def text_of(body: bytes) -> str:
    """The body as text; ValueError when it is not UTF-8."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("body is not UTF-8") from None


def too_deep(document: str, limit: int = MAX_DEPTH) -> bool:
    """Whether a JSON document nests arrays and objects more than ``limit`` deep.

    Cheap: a document with fewer brackets than the limit is never counted, and
    otherwise the work is a few C-level passes (strings and text removed, then
    the innermost pairs removed once per level)."""
    if document.count("{") + document.count("[") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", document))
    for _level in range(limit):
        if not brackets:
            return False
        shorter = brackets.replace("{}", "").replace("[]", "")
        if shorter == brackets:
            return False  # not balanced: not JSON, which json.loads reports
        brackets = shorter
    return bool(brackets)


def loads(document: str, max_depth: int | None = MAX_DEPTH) -> Any:
    """``json.loads``, with ValueError for anything that is not JSON.

    The decoder itself stops at the interpreter's recursion limit (about 1,000
    levels) after little work; that is a 400 too. ``max_depth`` bounds nesting
    further, at the price of a pass over the document: for bodies whose parts
    are walked recursively later (botbuilder deserialises ``value`` and
    ``channelData`` so). None leaves it at the decoder's bound, for bodies
    nothing walks (Slack's: bolt and the listeners read fixed paths)."""
    try:
        parsed = json.loads(document)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    if max_depth is not None and too_deep(document, max_depth):
        raise ValueError(f"JSON nested deeper than {max_depth}")
    return parsed
