"""``/healthz`` says the process is up; ``/readyz`` says it can do its work.

Ready means: the database answers within a short timeout, its schema is the
one this code expects, and at least one platform is configured with its
credentials (``bot/platforms.py`` asks each platform). A load balancer sends
traffic only to ready instances, and an instance becomes ready again by itself
once the database is back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.core.settings import Settings
from bot.platforms import configured, discover
from storage.db import Database, head_revision

DATABASE_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


def sqlite_file(db: Database) -> Path | None:
    if db.dialect != "sqlite":
        return None
    name = make_url(db.url).database
    return Path(name) if name and name != ":memory:" and not name.startswith("file:") else None


async def database_checks(db: Database, within_seconds: float = DATABASE_TIMEOUT_SECONDS
                          ) -> tuple[Check, Check]:
    """(reachable, schema current). The error's type is reported, never its text:
    driver messages can carry the connection string."""
    path = sqlite_file(db)
    # An open SQLite connection keeps working on a file that was moved or deleted,
    # and everything written then is lost with it: a missing file is not ready.
    if path is not None and not path.exists():
        missing = Check(False, f"the SQLite file {path} is missing")
        return missing, Check(False, "not checked: the database is unreachable")
    try:
        revision = await asyncio.wait_for(db.current_revision(), within_seconds)
    except TimeoutError:
        return (Check(False, f"no answer within {within_seconds:g} s"),
                Check(False, "not checked: the database is unreachable"))
    except Exception as error:
        return (Check(False, f"unreachable ({type(error).__name__})"),
                Check(False, "not checked: the database is unreachable"))
    head = head_revision()
    if revision != head:
        return (Check(True, f"reachable ({db.dialect})"),
                Check(False, f"at revision {revision}, this code needs {head}: run "
                             "`tandem migrate`"))
    return Check(True, f"reachable ({db.dialect})"), Check(True, f"at revision {head}")


def platforms_check(settings: Settings) -> Check:
    """Ready when at least one platform has its credentials; otherwise each
    platform says what it needs and which of it is missing."""
    on = configured(settings)
    if on:
        return Check(True, "configured: " + ", ".join(p.title for p in on))
    platforms = discover()
    needs = ", ".join(f"{p.title} needs {p.needs}" for p in platforms)
    missing = [name for p in platforms for name in p.settings(settings.platforms).missing()]
    return Check(False, f"no platform configured: {needs}; missing: {', '.join(missing)}")


async def readiness(settings: Settings, db: Database) -> tuple[bool, dict[str, Any]]:
    reachable, schema = await database_checks(db)
    checks = {"database": reachable, "schema": schema, "platforms": platforms_check(settings)}
    ready = all(c.ok for c in checks.values())
    return ready, {"status": "ready" if ready else "not ready",
                   "checks": {name: c.as_json() for name, c in checks.items()}}
