"""Installations made through Slack's OAuth flow, and the OAuth flow's states."""

from migrations.columns import AT, FLAG, JSON, TEXT, drop_tables, null, string, table, unique

revision, down_revision = "0010", "0009"  # created 2026-12-02 12:00:00.000000


def upgrade() -> None:
    table("installations", unique("platform", "enterprise_id", "team_id", name="uq_installation"),
          platform=string(16), enterprise_id=string(64), team_id=string(64),
          is_enterprise_install=FLAG, installer_user_id=null(string(128)), secrets=TEXT,
          expires_at=null(AT), data=JSON, installed_at=AT, updated_at=AT)
    table("oauth_states", unique("state"), state=string(128), expires_at=AT)


def downgrade() -> None:
    drop_tables("oauth_states", "installations")
