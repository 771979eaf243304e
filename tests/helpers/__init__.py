"""What the tests share: the real server on a loopback port, signed platform requests,
seeded rounds, people and their messages.

Test modules import from here (and from ``tests.fakes``), never from each other;
the fixtures built on these helpers live in ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

#: The repository root (app.yaml, alembic.ini).
ROOT = Path(__file__).resolve().parent.parent.parent
