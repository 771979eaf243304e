"""Owed deliveries: what to send, kept with the pending row until it is sent."""

from migrations.columns import JSON, add_columns, drop_columns, null

revision, down_revision = "0007", "0006"  # created 2026-12-02 08:00:00.000000


def upgrade() -> None:
    add_columns("deliveries", payload=null(JSON))


def downgrade() -> None:
    drop_columns("deliveries", "payload")
