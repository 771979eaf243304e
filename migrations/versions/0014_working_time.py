"""A person's own working time for Find a time (the survey): hours, days, and the
country (and region) whose public holidays they keep. Empty: app.yaml's defaults."""

from migrations.columns import JSON, add_columns, drop_columns, null, string

revision, down_revision = "0014", "0013"  # created 2026-12-02 15:30:00.000000


def upgrade() -> None:
    add_columns("participants", work_start=null(string(5)), work_end=null(string(5)),
                work_days=null(JSON), country=null(string(2)), region=null(string(10)))


def downgrade() -> None:
    drop_columns("participants", "region", "country", "work_days", "work_end", "work_start")
