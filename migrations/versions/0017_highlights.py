"""Highlights: the one sentence a participant offers in the closing evaluation for the
programme's channel, with their consent to show their name, and the coordinators'
decision on it."""

from alembic import op

from migrations.columns import AT, FLAG, INT, TEXT, fk, string, table, unique

revision, down_revision = "0017", "0016"  # created 2026-12-02 19:00:00.000000


def upgrade() -> None:
    table("highlights", fk("participant_id", "participants", ondelete="CASCADE"),
          fk("round_id", "rounds"),
          unique("participant_id", "round_id", name="uq_highlight_person_round"),
          participant_id=INT, round_id=INT, text=TEXT, show_name=FLAG, status=string(16),
          revision=INT, created_at=AT, updated_at=AT)
    op.create_index("ix_highlights_round_status", "highlights", ["round_id", "status"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_highlights_round_status", table_name="highlights")
    op.drop_table("highlights")
