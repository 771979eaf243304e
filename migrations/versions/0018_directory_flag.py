"""A participant's word that the company directory is wrong about them."""

from migrations.columns import TEXT, add_columns, drop_columns, null

revision, down_revision = "0018", "0017"  # created 2026-12-02 19:00:00.000000


def upgrade() -> None:
    add_columns("participants", directory_flag=null(TEXT))


def downgrade() -> None:
    drop_columns("participants", "directory_flag")
