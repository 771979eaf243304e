"""Matching: proposals shown to coordinators, their pins and blocks, and the audit log."""

from migrations.columns import AT, INT, JSON, drop_tables, fk, null, string, table, unique

revision, down_revision = "0002", "0001"  # created 2026-11-22 11:27:52.943282


def upgrade() -> None:
    table("audit_log", at=AT, platform=string(16), user_id=string(128), action=string(64),
          detail=JSON)
    table("match_proposals", fk("round_id", "rounds"),
          unique("round_id", "number", name="uq_proposal_number"), round_id=INT, number=INT,
          status=string(16), created_by=string(128), created_at=AT, result=JSON,
          confirmed_by=null(string(128)), confirmed_at=null(AT))
    table("match_rules", fk("mentee_id", "participants"), fk("mentor_id", "participants"),
          fk("round_id", "rounds"),
          unique("round_id", "kind", "mentor_id", "mentee_id", name="uq_match_rule"), round_id=INT,
          kind=string(16), mentor_id=INT, mentee_id=INT, created_by=string(128), created_at=AT)


def downgrade() -> None:
    drop_tables("match_rules", "match_proposals", "audit_log")
