"""${message}"""

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
# Tables, columns by kind, foreign keys, columns added or dropped in a batch:
# migrations/columns.py (the migrations before this one show how).

revision, down_revision = ${repr(up_revision)}, ${repr(down_revision)}  # created ${create_date}
% if branch_labels:
branch_labels = ${repr(branch_labels)}
% endif
% if depends_on:
depends_on = ${repr(depends_on)}
% endif


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
