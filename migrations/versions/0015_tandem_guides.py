"""Meeting guides: which guide each tandem got with its nudge, one row per period."""

from alembic import op

from migrations.columns import AT, INT, fk, string, table, unique

revision, down_revision = "0015", "0014"  # created 2026-12-02 15:30:00.000000


def upgrade() -> None:
    table("tandem_guides", fk("tandem_id", "tandems", ondelete="CASCADE"),
          unique("tandem_id", "period", name="uq_tandem_guide_period"),
          unique("tandem_id", "guide", name="uq_tandem_guide_once"), tandem_id=INT, period=INT,
          guide=string(64), created_at=AT)


def downgrade() -> None:
    op.drop_table("tandem_guides")
