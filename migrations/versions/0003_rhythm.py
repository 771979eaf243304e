"""The rhythm of a round: check-ins, one-off reminders and participants' responses."""

from migrations.columns import AT, INT, JSON, drop_tables, fk, null, string, table, unique

revision, down_revision = "0003", "0002"  # created 2026-11-22 11:33:28.156927


def upgrade() -> None:
    table("checkins", fk("answered_by", "participants", ondelete="SET NULL"),
          fk("tandem_id", "tandems", ondelete="CASCADE"),
          unique("tandem_id", "period", name="uq_checkin_period"), tandem_id=INT, period=INT,
          answer=string(16), answered_by=null(INT), answered_at=AT)
    table("reminders", fk("tandem_id", "tandems", ondelete="CASCADE"),
          unique("tandem_id", "period", name="uq_reminder_period"), tandem_id=INT, period=INT,
          due_at=AT, created_at=AT)
    table("responses", fk("participant_id", "participants", ondelete="CASCADE"),
          fk("round_id", "rounds"), fk("tandem_id", "tandems", ondelete="SET NULL"),
          unique("participant_id", "round_id", "kind", "period", name="uq_response"),
          participant_id=INT, round_id=INT, tandem_id=null(INT), kind=string(16), period=INT,
          rating=null(INT), visibility=string(16), answers=JSON, created_at=AT, updated_at=AT)


def downgrade() -> None:
    drop_tables("responses", "reminders", "checkins")
