"""Private wishes (colleagues a participant prefers not to be paired with) and each
participant's short introduction line."""

from alembic import op

from migrations.columns import (
    AT,
    INT,
    TEXT,
    add_columns,
    drop_columns,
    fk,
    null,
    string,
    table,
    unique,
)

revision, down_revision = "0016", "0015"  # created 2026-12-02 15:00:00.000000


def upgrade() -> None:
    table("private_wishes", fk("participant_id", "participants", ondelete="CASCADE"),
          unique("participant_id", "platform", "user_id", name="uq_private_wish"),
          participant_id=INT, platform=string(16), user_id=string(128), created_at=AT)
    op.create_index("ix_private_wishes_named", "private_wishes", ["platform", "user_id"],
                    unique=False)
    add_columns("participants", intro=null(TEXT))


def downgrade() -> None:
    drop_columns("participants", "intro")
    op.drop_index("ix_private_wishes_named", table_name="private_wishes")
    op.drop_table("private_wishes")
