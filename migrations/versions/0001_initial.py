"""Initial schema: workspaces, rounds, participants, tandems, deliveries, conversation refs."""

from alembic import op

from migrations.columns import (
    AT,
    DOUBLE,
    INT,
    JSON,
    TEXT,
    drop_tables,
    fk,
    null,
    string,
    table,
    unique,
)

revision, down_revision = "0001", None  # created 2026-11-22 11:17:34.341997


def upgrade() -> None:
    table("conversation_refs", unique("platform", "kind", "key", name="uq_conversation_ref"),
          platform=string(16), kind=string(16), key=string(255), tenant_id=null(string(64)),
          reference=JSON, updated_at=AT)
    table("rounds", unique("name"), name=string(100), signup_opens_at=AT, signup_closes_at=AT,
          starts_at=AT, length_months=INT, meetings_per_month=INT, status=string(16), created_at=AT)
    table("workspaces", unique("platform", "external_id", name="uq_workspace_platform"),
          platform=string(16), external_id=string(64), name=null(string(200)), created_at=AT)
    table("deliveries", fk("round_id", "rounds"), unique("key"), key=string(255), kind=string(40),
          platform=string(16), recipient=string(255), round_id=null(INT), period=null(string(32)),
          status=string(16), lease_until=null(AT), attempts=INT, message_ref=null(string(255)),
          last_error=null(string(500)), created_at=AT, sent_at=null(AT))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_status_lease", ["status", "lease_until"], unique=False)
    table("participants", fk("round_id", "rounds"),
          fk("workspace_id", "workspaces", ondelete="CASCADE"),
          unique("workspace_id", "user_id", name="uq_participant_user"), workspace_id=INT,
          platform=string(16), user_id=string(128), display_name=null(string(200)),
          round_id=null(INT), role=string(16), department=null(string(100)),
          manager_user_id=null(string(128)), topics=JSON, goals=null(TEXT), languages=JSON,
          timezone=null(string(64)), meeting_mode=string(16), location=null(string(100)),
          capacity=INT, locale=null(string(16)), consent_at=null(AT), status=string(16),
          unreachable_at=null(AT), left_at=null(AT), created_at=AT, updated_at=AT)
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index("ix_participants_round_status", ["round_id", "status"], unique=False)
    table("tandems", fk("mentee_id", "participants"), fk("mentor_id", "participants"),
          fk("round_id", "rounds"),
          unique("round_id", "mentor_id", "mentee_id", name="uq_tandem_pair"), round_id=INT,
          mentor_id=INT, mentee_id=INT, score=DOUBLE, explanation=JSON, status=string(16),
          conversation_id=null(string(128)), created_at=AT)


def downgrade() -> None:
    op.drop_table("tandems")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_round_status")
    op.drop_table("participants")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_lease")
    drop_tables("deliveries", "workspaces", "rounds", "conversation_refs")
