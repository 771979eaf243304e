"""What a Tandem process tells its operator about itself: which platforms are
active, and the one line ``tandem serve`` logs when it is ready."""

from __future__ import annotations

import importlib.metadata

from bot.core.settings import Settings
from bot.platforms import configured


def startup_line(settings: Settings, leader: bool | None) -> str:
    """What this process does, in one line: version, port, database (without its
    password), platforms and whether it runs the scheduler."""
    try:
        version = importlib.metadata.version("tandem-bot")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    from sqlalchemy.engine import make_url  # here: check-config need not load SQLAlchemy

    database = make_url(settings.database_url).render_as_string(hide_password=True)
    platforms = ", ".join(p.title for p in configured(settings)) or \
        "none configured (Teams answers the Bot Framework Emulator only)"
    role = ("off (TANDEM_SCHEDULER=off)" if leader is None
            else "leader" if leader else "follower (another instance runs the cadence)")
    return (f"Tandem {version} listening on port {settings.port}; database {database}; "
            f"platforms: {platforms}; scheduler: {role}")
