"""Values that come back from a platform, parsed in one place and never trusted.

A button's value, a form's context and a form's fields travel through the
person's chat client and back: anyone can edit them. Every flow reads them
through this module, which accepts only what the bot itself could have sent:
ids are 1 to 10 ASCII digits within the database's integer range (no sign, no
"²" or "١", no 30-digit numbers); choices are one of the form's options.

Anything else raises ``Stale``: the person sees the kind "this button is out
of date" answer (``error.stale_button``, or ``error.stale_form`` for a form),
nothing changes, and the router logs the reason at info, never a traceback.
Whether an id that parses also names a row that belongs to the person pressing
is the flow's question; ``row`` answers the common part of it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from datetime import date
from typing import TypeVar

from bot.core.errors import UserError
from conversations.events import FormValue
from storage.db import Session

#: The largest value of the database's INTEGER columns (PostgreSQL int4).
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
STALE_BUTTON = "error.stale_button"
STALE_FORM = "error.stale_form"
M = TypeVar("M")


class Stale(UserError):
    """A value the bot did not send, or that no longer names anything. ``why`` is for
    the log only: the person is told just that the button (or form) is out of date."""

    def __init__(self, why: str, key: str = STALE_BUTTON) -> None:
        super().__init__(key)
        self.why = why


def number(text: object, *, low: int = 1, high: int = MAX_ID, key: str = STALE_BUTTON) -> int:
    """An integer as the bot writes it: ASCII digits, ``low`` to ``high``."""
    if not isinstance(text, str) or _DIGITS.fullmatch(text) is None:
        raise Stale(f"not a number: {_shown(text)}", key)
    value = int(text)
    if not low <= value <= high:
        raise Stale(f"out of range {low}..{high}: {value}", key)
    return value


def numbers(text: object, count: int, *, key: str = STALE_BUTTON) -> tuple[int, ...]:
    """``count`` ids joined by ":" (a check-in's "<tandem>:<period>")."""
    parts = text.split(":") if isinstance(text, str) else []
    if len(parts) != count:
        raise Stale(f"expected {count} numbers: {_shown(text)}", key)
    return tuple(number(part, key=key) for part in parts)


def optional_number(text: object, *, key: str = STALE_FORM) -> int | None:
    """An id that may be absent (empty), e.g. a form opened for a new draft."""
    return None if text in ("", None) else number(text, key=key)


def number_or_none(text: str, low: int, high: int) -> int | None:
    """A number typed by a person (``match pin 3``, ``round extend 2``): None when it
    is not one within ``low`` to ``high``, for the flow to explain its own usage."""
    try:
        return number(text, low=low, high=high)
    except Stale:
        return None


def choice(value: FormValue, allowed: Collection[str]) -> str | None:
    """One of a form's options, or None when nothing (or something unknown) was chosen."""
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    return value if isinstance(value, str) and value in allowed else None


def day(value: FormValue) -> date | None:
    """A calendar day as a date picker sends it (YYYY-MM-DD), or None."""
    if not isinstance(value, str) or _DAY.fullmatch(value) is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def rating(value: FormValue, high: int = 5) -> int | None:
    """A 1-to-``high`` rating from a radio choice, or None."""
    chosen = choice(value, [str(n) for n in range(1, high + 1)])
    return int(chosen) if chosen is not None else None


async def row(session: Session, lookup: Callable[[Session, int], Awaitable[M | None]],
              text: str, belongs: Callable[[M], bool] = lambda _row: True, *,
              key: str = STALE_BUTTON) -> M:
    """The row a button's value names, found by ``lookup`` (a ``storage`` function
    such as ``rounds.round_by_id``), if it exists and ``belongs`` (the right kind,
    platform, person); ``Stale`` otherwise."""
    found = await lookup(session, number(text, key=key))
    if found is None or not belongs(found):
        raise Stale(f"{lookup.__name__} found nothing for {_shown(text)}", key)
    return found


def _shown(value: object) -> str:
    return repr(value)[:40]
