"""Tandems matched into a running round: the period they joined the rhythm at."""

from migrations.columns import INT, add_columns, drop_columns, null

revision, down_revision = "0008", "0007"  # created 2026-12-02 12:00:00.000000


def upgrade() -> None:
    add_columns("tandems", joined_period=null(INT))


def downgrade() -> None:
    drop_columns("tandems", "joined_period")
