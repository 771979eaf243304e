"""Coordination: chat overrides of a round, the round that follows it, and
coordinator actions waiting for confirmation (announcement drafts, round changes)."""

from alembic import op

from migrations.columns import AT, INT, JSON, add_columns, drop_columns, fk, null, string, table

revision, down_revision = "0005", "0004"  # created 2026-11-23 10:00:00.000000


def upgrade() -> None:
    table("coordinator_actions", fk("round_id", "rounds"), kind=string(32), platform=string(16),
          created_by=string(128), round_id=null(INT), payload=JSON, status=string(16),
          created_at=AT, decided_by=null(string(128)), decided_at=null(AT))
    add_columns("rounds", overrides=null(JSON), followed_by=null(INT))


def downgrade() -> None:
    drop_columns("rounds", "followed_by", "overrides")
    op.drop_table("coordinator_actions")
