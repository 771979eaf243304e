"""What a Tandem process tells its operator about itself: which platforms are
active, and the one line ``tandem serve`` logs when it is ready."""

from __future__ import annotations

import importlib.metadata

from bot.core.i18n import t
from bot.core.settings import Settings
from bot.platforms import configured, unconfigured_notes


def startup_line(settings: Settings, leader: bool | None, language: str = "en") -> str:
    """What this process does, in one line: version, port, database (without its
    password), platforms and whether it runs the scheduler."""
    try:
        version = importlib.metadata.version("tandem-bot")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    from sqlalchemy.engine import make_url  # here: check-config need not load SQLAlchemy

    database = make_url(settings.database_url).render_as_string(hide_password=True)
    on = [p.title for p in configured(settings)]
    notes = unconfigured_notes(language)
    platforms = (t(language, "cli.list_separator").join(on) if on
                 else t(language, "cli.serve.no_platform_but", notes="; ".join(notes)) if notes
                 else t(language, "cli.serve.no_platform"))
    role = t(language, "cli.serve.scheduler_off" if leader is None
             else "cli.serve.leader" if leader else "cli.serve.follower")
    return t(language, "cli.serve.started", version=version, port=settings.port,
             database=database, platforms=platforms, role=role)
