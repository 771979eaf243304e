"""How long to wait before asking a server again that answered 429 or 503."""

from __future__ import annotations

#: Never wait longer than this, whatever a server says.
LONGEST_WAIT = 120.0


def retry_after_seconds(header: str | None, attempt: int) -> float:
    """The ``Retry-After`` header's seconds (capped); without one, doubling per attempt."""
    try:
        return min(max(float(header or ""), 0.0), LONGEST_WAIT)
    except ValueError:
        return min(2.0 ** attempt, LONGEST_WAIT)
