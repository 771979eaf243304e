"""Indexes for the lookups every request makes: a person's tandems, and a person
by platform user id (Teams and privacy requests)."""

from alembic import op

revision, down_revision = "0006", "0005"  # created 2026-11-25 20:00:00.000000


def upgrade() -> None:
    with op.batch_alter_table("tandems") as batch_op:
        batch_op.create_index("ix_tandems_mentor", ["mentor_id"], unique=False)
        batch_op.create_index("ix_tandems_mentee", ["mentee_id"], unique=False)
    with op.batch_alter_table("participants") as batch_op:
        batch_op.create_index("ix_participants_platform_user", ["platform", "user_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch_op:
        batch_op.drop_index("ix_participants_platform_user")
    with op.batch_alter_table("tandems") as batch_op:
        batch_op.drop_index("ix_tandems_mentee")
        batch_op.drop_index("ix_tandems_mentor")
