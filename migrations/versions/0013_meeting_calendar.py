"""Meetings in Outlook: the Microsoft Graph event a meeting became, and whether its
calendar is owed a change (created, moved, cancelled) that has not been made yet.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("calendar_event_id", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("calendar_owed", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("calendar_owed")
        batch.drop_column("calendar_event_id")
