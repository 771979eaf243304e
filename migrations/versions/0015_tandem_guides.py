"""Meeting guides: which guide each tandem got with its nudge, one row per period.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tandem_guides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tandem_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("guide", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tandem_id"], ["tandems.id"], ondelete="CASCADE",
                                name=op.f("fk_tandem_guides_tandem_id_tandems")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tandem_guides")),
        sa.UniqueConstraint("tandem_id", "period", name="uq_tandem_guide_period"),
        sa.UniqueConstraint("tandem_id", "guide", name="uq_tandem_guide_once"),
    )


def downgrade() -> None:
    op.drop_table("tandem_guides")
