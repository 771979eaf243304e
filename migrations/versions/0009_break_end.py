"""A break with an end: when a paused participant is resumed by themselves."""

from migrations.columns import AT, add_columns, drop_columns, null

revision, down_revision = "0009", "0008"  # created 2026-12-02 12:30:00.000000


def upgrade() -> None:
    add_columns("participants", paused_until=null(AT))


def downgrade() -> None:
    drop_columns("participants", "paused_until")
