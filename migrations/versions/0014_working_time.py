"""A person's own working time for Find a time (the survey): hours, days, and the
country (and region) whose public holidays they keep. Empty: app.yaml's defaults.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("work_start", "work_end", "work_days", "country", "region")


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("work_start", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("work_end", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("work_days", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("region", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
