"""Handled updates: Telegram update ids recorded with their effects, so a redelivered update
(webhooks deliver again when they got no 200) changes nothing.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_updates",
        sa.Column(
            "update_id",
            sa.BigInteger,
            primary_key=True,
            autoincrement=False,
            comment="Telegram's update id, recorded with the effect it caused; kept 7 days",
        ),
        sa.Column("handled_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="pk_handled_updates"),
    )


def downgrade() -> None:
    op.drop_table("handled_updates")
