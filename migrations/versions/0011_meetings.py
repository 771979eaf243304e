"""Meetings: the times a tandem found, one row per tandem and month."""

from alembic import op

from migrations.columns import AT, INT, JSON, fk, null, string, table, unique

revision, down_revision = "0011", "0010"  # created 2026-12-02 12:30:00.000000


def upgrade() -> None:
    table("meetings", fk("tandem_id", "tandems", ondelete="CASCADE"),
          fk("picked_by", "participants", ondelete="SET NULL"),
          unique("tandem_id", "period", name="uq_meeting_period"), tandem_id=INT, period=INT,
          status=string(16), offered=JSON, shown=JSON, picked_at=null(AT), picked_by=null(INT),
          starts_at=null(AT), ends_at=null(AT), sequence=null(INT), version=INT, created_at=AT,
          updated_at=AT)


def downgrade() -> None:
    op.drop_table("meetings")
