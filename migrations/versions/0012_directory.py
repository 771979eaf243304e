"""The company directory: person records and their platform accounts, kept apart
from sign-ups.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("manager_key", sa.String(length=320), nullable=True),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("preferred_language", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_people")),
        sa.UniqueConstraint("key", name="uq_directory_people_key"),
    )
    op.create_index("ix_directory_people_email", "directory_people", ["email"], unique=False)
    op.create_table(
        "directory_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["directory_people.id"],
                                name=op.f("fk_directory_accounts_person_id_directory_people"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_accounts")),
        sa.UniqueConstraint("platform", "user_id", name="uq_directory_account"),
    )
    op.create_index("ix_directory_accounts_person", "directory_accounts", ["person_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_directory_accounts_person", table_name="directory_accounts")
    op.drop_table("directory_accounts")
    op.drop_index("ix_directory_people_email", table_name="directory_people")
    op.drop_table("directory_people")
