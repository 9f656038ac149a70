"""Safeguarding alerts record which risk rule matched (its id, never the words).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(
            sa.Column(
                "rule",
                sa.String(40),
                nullable=True,
                comment="id of the risk rule that matched, e.g. en.self_harm.3fa2b1 (no words)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("rule")
