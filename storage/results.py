"""How many rows a write touched, typed: nobody outside storage sees this."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.engine import CursorResult, Result


def rows_changed(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE touched.

    ``AsyncSession.execute`` is typed as returning a plain ``Result`` for every
    statement, but for DML it is always a ``CursorResult``, which has ``rowcount``.
    """
    return cast("CursorResult[Any]", result).rowcount
