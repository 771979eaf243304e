"""The company directory: person records and their platform accounts, kept apart
from sign-ups."""

from alembic import op

from migrations.columns import AT, FLAG, INT, fk, null, string, table, unique

revision, down_revision = "0012", "0011"  # created 2026-12-02 12:00:00.000000


def upgrade() -> None:
    table("directory_people", unique("key", name="uq_directory_people_key"), key=string(320),
          email=null(string(320)), display_name=null(string(200)), department=null(string(200)),
          manager_key=null(string(320)), job_title=null(string(200)), location=null(string(200)),
          preferred_language=null(string(16)), active=FLAG, source=string(16), last_seen_at=AT,
          left_at=null(AT))
    op.create_index("ix_directory_people_email", "directory_people", ["email"], unique=False)
    table("directory_accounts", fk("person_id", "directory_people", ondelete="CASCADE"),
          unique("platform", "user_id", name="uq_directory_account"), person_id=INT,
          platform=string(16), user_id=string(128))
    op.create_index("ix_directory_accounts_person", "directory_accounts", ["person_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_directory_accounts_person", table_name="directory_accounts")
    op.drop_table("directory_accounts")
    op.drop_index("ix_directory_people_email", table_name="directory_people")
    op.drop_table("directory_people")
