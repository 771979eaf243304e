"""Private wishes (colleagues a participant prefers not to be paired with) and each
participant's short introduction line.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "private_wishes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
                                name=op.f("fk_private_wishes_participant_id_participants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_private_wishes")),
        sa.UniqueConstraint("participant_id", "platform", "user_id", name="uq_private_wish"),
    )
    op.create_index("ix_private_wishes_named", "private_wishes", ["platform", "user_id"],
                    unique=False)
    with op.batch_alter_table("participants") as batch_op:
        batch_op.add_column(sa.Column("intro", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch_op:
        batch_op.drop_column("intro")
    op.drop_index("ix_private_wishes_named", table_name="private_wishes")
    op.drop_table("private_wishes")
