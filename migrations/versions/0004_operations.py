"""Operations: inbound events already processed (retries), and named leases (scheduler)."""

import sqlalchemy as sa
from alembic import op

from migrations.columns import AT, drop_tables, string, table, unique

revision, down_revision = "0004", "0003"  # created 2026-11-22 11:55:20.137830


def upgrade() -> None:
    op.create_table("leases",
                    string(64).column("name"), string(128).column("holder"),
                    AT.column("expires_at"),
                    sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")))
    table("processed_events", unique("source", "event_id", name="uq_processed_event"),
          source=string(16), event_id=string(255), received_at=AT)
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processed_events_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_events_received_at"))
    drop_tables("processed_events", "leases")
