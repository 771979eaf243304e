"""Meetings in Outlook: the Microsoft Graph event a meeting became, and whether its
calendar is owed a change (created, moved, cancelled) that has not been made yet."""

from migrations.columns import INT, add_columns, drop_columns, null, string

revision, down_revision = "0013", "0012"  # created 2026-12-02 15:10:00.000000


def upgrade() -> None:
    add_columns("meetings", calendar_event_id=null(string(500)), calendar_owed=null(INT))


def downgrade() -> None:
    drop_columns("meetings", "calendar_owed", "calendar_event_id")
